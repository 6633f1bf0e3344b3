"""Django's {# #} comment is one line only: one spread over lines is not a comment, and its
text went to every browser (the notice of failed embeddings on /discovery/ opened with
"{# Admins: the active model's embeddings failed..."; the dashboard's head too)."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_no_template_spreads_a_one_line_comment_over_lines():
    spread = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert spread == []
