"""Deprecate and Reject on /discovery/ ask first, saying what will happen, and a dismissed
question sends nothing: one click moved every label of a class to another, for good."""

import sys
from pathlib import Path

import pytest
from webapp_factories import UserFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp" / "discovery"))
from discovery_factories import accepted_class, with_role  # noqa: E402

from webapp.accounts.roles import REVIEWER  # noqa: E402
from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import ClassProposal  # noqa: E402
from webapp.labeling.models import Classification  # noqa: E402

pytestmark = pytest.mark.e2e


def on_discovery_as(page, username: str) -> None:
    page.goto("/accounts/login/?next=/discovery/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/discovery/")


class Questions:
    """The questions the page asks from now on: each dismissed, or accepted once `accept`."""

    def __init__(self, page) -> None:
        self.asked: list[str] = []
        self.accept = False
        page.on("dialog", self._answer)

    def _answer(self, dialog) -> None:
        self.asked.append(dialog.message)
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()


def test_deprecate_asks_what_moves_where_and_does_nothing_unchosen_or_dismissed(page, discovery):
    """Before: Deprecate moved Arch's labels at once to the list's first class, unasked.
    Now: with no class chosen the browser asks for one and nothing is sent; with Chirp
    chosen the page asks "... 2 votes, 1 gold label and 1 retired label move to Chirp",
    and a dismissed question sends nothing. Accepted, the labels move."""
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    proposal = accepted_class("Arch", reviewer=boss, admin=boss, votes=2, gold=1, retired=1)
    on_discovery_as(page, "boss")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    questions = Questions(page)
    card = page.get_by_test_id("proposal-Arch")

    card.get_by_test_id("deprecate").click()  # no class chosen: the select is required
    page.wait_for_timeout(300)
    assert posts == [] and questions.asked == []

    card.get_by_test_id("remap-to").select_option("Chirp")
    card.get_by_test_id("deprecate").click()
    page.wait_for_timeout(300)
    assert posts == []
    assert questions.asked == [
        "Deprecate Arch? Its 2 votes, 1 gold label and 1 retired label move to Chirp, and "
        "Arch is no longer offered. Each move is recorded, but this page cannot undo it."
    ]
    assert ClassProposal.objects.get(pk=proposal.pk).status == "accepted"

    questions.accept = True
    with page.expect_navigation():
        card.get_by_test_id("deprecate").click()
    assert ClassProposal.objects.get(pk=proposal.pk).status == "deprecated"
    assert set(Classification.objects.values_list("glitch_class__name", flat=True)) == {"Chirp"}


def test_reject_asks_first_and_a_dismissed_question_leaves_the_proposal(page, discovery):
    """Before: Reject acted at once: a provisional class left every cluster sheet and its
    name was taken for good, on a misclick. Now: the page asks, saying so; dismissed,
    nothing is sent."""
    rev = with_role("rev", REVIEWER)
    proposal = services.class_proposal_create(
        volunteer=UserFactory(username="ann", profile__level=2), name="Arch", description="d"
    )
    services.class_proposal_make_provisional(actor=rev, proposal_id=proposal.pk)
    on_discovery_as(page, "rev")
    questions = Questions(page)
    card = page.get_by_test_id("proposal-Arch")

    card.get_by_role("button", name="Reject").click()
    page.wait_for_timeout(300)
    assert questions.asked == [
        "Reject Arch? Its class is no longer offered on cluster sheets. The name stays "
        "taken: it cannot be proposed again."
    ]
    assert ClassProposal.objects.get(pk=proposal.pk).status == "provisional"

    questions.accept = True
    with page.expect_navigation():
        card.get_by_role("button", name="Reject").click()
    assert ClassProposal.objects.get(pk=proposal.pk).status == "rejected"
