"""What the review page's browser tests share: a reviewer logging in, and the mark review.js
sets once the suspect on screen takes a verdict key."""

KEYS_ON = "#verdict-form[data-votable]"  # the suspect has been on screen long enough


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
