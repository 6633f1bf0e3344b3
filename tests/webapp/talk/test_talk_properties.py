"""Whatever a volunteer types into a comment (hypothesis: any unicode, NUL, control and
bidi characters, over-long text): it is stored as typed (stripped, its CRLF and lone CR
new lines one LF each, as the textarea held them) or refused with a reason, never a server
error and never stored otherwise altered. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from webapp_factories import SubjectFactory, UserFactory

from webapp.talk.models import COMMENT_MAX_LENGTH, Comment

pytestmark = pytest.mark.django_db

hostile = st.sampled_from(["\x00", "\u202e", "\u200b", "\r\n", "<script>", "#tag", "\ufeff"])
texts = st.lists(st.text(max_size=40) | hostile, max_size=8).map("".join) | st.text(
    min_size=COMMENT_MAX_LENGTH - 5, max_size=COMMENT_MAX_LENGTH + 5
)


@examples(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_any_comment_is_stored_as_typed_or_refused_never_a_server_error(text, settings):
    settings.GLITCHLAB_TALK_COMMENTS_PER_MINUTE = 10_000
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())
    subject = SubjectFactory()
    response = client.post(f"/talk/subjects/{subject.pk}/comments/", {"text": text})
    stored = list(Comment.objects.filter(subject=subject).values_list("text", flat=True))
    typed = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        assert response.status_code == 400 and stored == []
    elif not typed or len(typed) > COMMENT_MAX_LENGTH:
        assert response.status_code == 302 and stored == []
    else:
        assert response.status_code == 302 and stored == [typed]
