"""Capture the labelling page at 1280x800 and phone size for docs/images/ (not a test).

Run against a server with demo data (manage.py seed_demo + import_glitches):
    .venv/bin/python tests/e2e/screenshots.py --base-url http://127.0.0.1:8000 \
        --username volunteer --password glitchlab-demo --out docs/images
"""

import argparse
from pathlib import Path

from conftest import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import sync_playwright

VIEWPORTS = {"desktop-1280x800": (1280, 800), "phone-390x844": (390, 844)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="volunteer")
    parser.add_argument("--password", default="glitchlab-demo")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, base_url=args.base_url
            )
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("#id_username", args.username)
            page.fill("#id_password", args.password)
            page.keyboard.press("Enter")
            page.wait_for_selector("#label-app[data-state=ready]")
            shown = page.get_attribute("#label-app", "data-subject")
            page.keyboard.press("b")  # one vote, so the feedback box has something to say
            page.wait_for_function(
                "shown => { const app = document.getElementById('label-app');"
                " return app.dataset.subject !== shown && app.dataset.pending === '0'; }",
                arg=shown,
            )
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.out / f"labelling-{name}.png"))
            page.keyboard.press("Backspace")  # leave the demo data as it was
            page.wait_for_timeout(300)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
