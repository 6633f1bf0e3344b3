"""What the labelling page's browser tests share: the volunteer "vol" logging in to it, and
the votes the database holds once the page has none on its way."""

from webapp.labeling.models import Classification

VOTABLE = "#label-app[data-votable]"  # set by label.js once a glitch has been seen long enough


def log_in(page, next_path: str = "/label/") -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("#id_username", "vol")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/label/")
    page.wait_for_selector(VOTABLE, state="attached")


def stored(page) -> list[tuple[int, str]]:
    """(glitch, class) of vol's votes, oldest first, once the page sends none."""
    page.wait_for_selector("#label-app[data-pending='0']", state="attached")
    votes = Classification.objects.filter(volunteer__username="vol").order_by("pk")
    return list(votes.values_list("subject_id", "glitch_class__name"))
