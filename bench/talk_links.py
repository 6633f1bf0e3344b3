"""How a comment's rendering (Talk's |comment_html: tags, glitch numbers, this site's glitch
URLs) grows with hostile text: linear, not the exponential time of a backtracking regex.

    .venv/bin/python bench/talk_links.py [--lengths 2000 20000 200000] [--repeat 5]

For each hostile pattern (runs the regexes start on and never finish: digits and _ after
a "#", "#1#1#1", a URL of ours cut short, and a mix of them) and each length, prints the best
of `--repeat` renderings in ms and the ratio to the length before: near the ratio of the
lengths (10) means linear. A comment is at most 1,000 characters; the longer strings only
show the growth. Not a test: the numbers depend on the machine, and a pattern not tried
here is not measured (the patterns are linear by construction: every quantifier bounded,
each match starting at a "#" or an "http").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HOST = "glitchlab.example"
HOSTILE = {
    "#digits": "#" + "1" * 60,
    "#1#1": "#1",
    "#_": "#" + "_" * 60 + "a",
    "url cut short": f"http://{HOST}/subjects/" + "9" * 30,
    "mix": "#" + "1" * 45 + "#" + "_" * 41 + "a#" + "a" * 41 + f"/http://{HOST}/subjects/9<",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    import django

    django.setup()
    from webapp.talk.templatetags.talk import comment_html

    for name, unit in HOSTILE.items():
        before = None
        for length in args.lengths:
            text = (unit * (length // len(unit) + 1))[:length]
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                comment_html(text, HOST)
                best = min(best, time.perf_counter() - start)
            ratio = f" (x{best / before:.1f})" if before else ""
            print(f"{name:>14} {length:>8,} chars: {best * 1000:8.2f} ms{ratio}")
            before = best


if __name__ == "__main__":
    main()
