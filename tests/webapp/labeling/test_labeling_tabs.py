"""Two tabs (or devices) of one account: the queue hands each its own glitches for a while
(webapp.labeling.queue_holds), a reloaded tab its own again, and gold keeps its schedule.

Before, one account's queue was the same in every tab: both tabs were handed the same
glitch, then the same next one, and the slower tab's votes were refused (already_voted)."""

import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from tests.tasks.celery_stack import TEST_BROKER_URL as REDIS_URL  # the tests' Redis
from webapp.labeling import queue_holds
from webapp.labeling.models import Classification, VolunteerProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_gold(settings):
    settings.GLITCHLAB_GOLD_RATE = 0
    return settings


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def next_for(client, tab: str | None, exclude=()) -> dict | None:
    """GET subjects/next/ as a tab named `tab` (None: a client that names none)."""
    query = {"exclude": ",".join(str(pk) for pk in exclude)}
    if tab is not None:
        query["tab"] = tab
    answer = client.get("/api/subjects/next/", query)
    assert answer.status_code in (200, 204), answer.content
    return answer.json() if answer.status_code == 200 else None


class Tab:
    """A labelling page in one tab, as label.js drives it: a glitch on screen and the next
    one preloaded; a vote carries `with_next`, excluding both, and the answer brings the
    glitch to preload."""

    def __init__(self, client: APIClient) -> None:
        self.client, self.name = client, str(uuid.uuid4())
        self.shown = next_for(client, self.name)
        self.preloaded = next_for(client, self.name, exclude=[self.shown["id"]])

    def vote(self, glitch_class: str = "Blip"):
        voted, self.shown = self.shown, self.preloaded
        body = {
            "subject": voted["id"],
            "assignment": voted["assignment"],
            "glitch_class": glitch_class,
            "idempotency_key": str(uuid.uuid4()),
            "with_next": True,
            "exclude": [s["id"] for s in (self.shown, voted) if s],
            "tab": self.name,
        }
        answer = self.client.post("/api/classifications/", body, format="json")
        self.preloaded = answer.json().get("next") if answer.status_code == 201 else None
        return answer


def test_two_tabs_of_one_account_are_handed_different_glitches(no_gold):
    user = UserFactory()
    pool = [SubjectFactory(priority=10 - i) for i in range(6)]
    first, second = Tab(signed_in(user)), Tab(signed_in(user))
    on_first = {first.shown["id"], first.preloaded["id"]}
    on_second = {second.shown["id"], second.preloaded["id"]}
    assert on_first == {pool[0].pk, pool[1].pk}
    assert on_second == {pool[2].pk, pool[3].pk}  # before: pool[0] and pool[1] again


def test_a_reloaded_tab_is_never_handed_the_other_tabs_glitch(no_gold):
    """A reload asks again under the tab's name: it is handed a glitch the other tab does not
    hold. Not necessarily its own again: the queue spreads accounts over equally urgent
    glitches by account id among those left, which the other tab's hold changes (on SQLite
    this test's ids once gave the same glitch back, on PostgreSQL another)."""
    user = UserFactory()
    SubjectFactory.create_batch(4)
    client = signed_in(user)
    first = next_for(client, "tab-a")
    second = next_for(client, "tab-b")
    assert second["id"] != first["id"]
    assert next_for(client, "tab-a")["id"] != second["id"]  # a reload of either tab
    assert next_for(client, "tab-b")["id"] != first["id"]


def test_two_tabs_voting_side_by_side_never_meet_one_glitch(no_gold):
    """Each tab votes on its own glitches and none of their votes is refused: before, every
    vote of the slower tab was (already_voted), its glitch answered in the other."""
    user = UserFactory()
    SubjectFactory.create_batch(30)
    client = signed_in(user)
    tabs = [Tab(client), Tab(client)]
    answers = [tabs[n % 2].vote().status_code for n in range(24)]
    assert answers == [201] * 24
    voted = Classification.objects.filter(volunteer=user).values_list("subject_id", flat=True)
    assert len(set(voted)) == 24


def test_the_gold_due_on_one_tab_is_not_the_others_and_no_other_gold_comes_meanwhile(settings):
    """A training glitch handed to one tab stays that tab's; the other gets pool, not another
    training glitch (the one due is the only gold served until it is answered), so holds pick
    no gold. Once answered, gold comes again."""
    settings.GLITCHLAB_GOLD_RATE = 1.0
    user = UserFactory()
    golds = {gold_subject("Blip").pk, gold_subject("Whistle").pk}
    pool = {s.pk for s in SubjectFactory.create_batch(6)}
    client = signed_in(user)
    due = next_for(client, "tab-a")
    assert due["id"] in golds
    assert next_for(client, "tab-b")["id"] in pool
    assert next_for(client, "tab-b", exclude=sorted(pool)[:1])["id"] in pool
    assert VolunteerProfile.objects.get(user=user).gold_due_id == due["id"]
    body = {"subject": due["id"], "assignment": due["assignment"], "glitch_class": "Blip"}
    scored = client.post("/api/classifications/", body, format="json").json()
    assert scored["gold"] is not None  # its vote scored as a gold answer
    assert next_for(client, "tab-b")["id"] in golds - {due["id"]}


def test_with_two_tabs_every_gold_answer_scores(settings):
    """200 votes from two tabs side by side at a gold rate of 0.2: every vote on a gold
    glitch scores as one (a gold glitch handed to a tab other than as the volunteer's gold
    due would be an unscored vote), and gold still comes. Less often than in one tab: a gold
    turn that finds the gold due on the other tab's screen serves pool (0.10 of the votes on
    PostgreSQL's ids here, 0.12-0.28 on SQLite's; docs/labelling.md, "Tabs")."""
    settings.GLITCHLAB_GOLD_RATE = 0.2
    user = UserFactory()
    for n in range(60):
        gold_subject(("Blip", "Whistle")[n % 2])
    SubjectFactory.create_batch(200)
    client = signed_in(user)
    tabs = [Tab(client), Tab(client)]
    answers = [tabs[n % 2].vote().status_code for n in range(200)]
    assert answers == [201] * 200
    votes = Classification.objects.filter(volunteer=user)
    on_gold = votes.filter(subject__role="gold")
    assert on_gold.count() == on_gold.filter(was_gold=True).count()
    assert 0.05 <= on_gold.count() / 200 <= 0.28, on_gold.count()


def test_holds_are_the_accounts_own(no_gold):
    """Another account naming the same tabs gets its queue as if no one held anything: a
    hold keeps no glitch from other volunteers (they want many votes), and tells them
    nothing of what this account was handed."""
    owner, other = UserFactory(), UserFactory()
    for priority in range(4):  # one queue order for every account (ties are spread by account)
        SubjectFactory(priority=priority)
    mine = [next_for(signed_in(owner), tab)["id"] for tab in ("tab-a", "tab-b")]
    theirs = [next_for(signed_in(other), tab)["id"] for tab in ("tab-b", "tab-c")]
    alone = UserFactory()
    assert theirs[0] == next_for(signed_in(alone), None)["id"]  # the queue head, held by owner
    assert theirs[0] in mine


def test_a_script_naming_a_new_tab_at_every_request_holds_a_few_glitches_only(no_gold):
    """Holds are capped per account (TABS tabs of PER_TAB glitches, the tab heard from least
    lately forgotten): 40 tab names hold no more than that, and the glitches of the tabs
    forgotten are anyone's again, the account's other tabs' included."""
    user = UserFactory()
    SubjectFactory.create_batch(60)
    client = signed_in(user)
    handed = [next_for(client, f"tab-{n}")["id"] for n in range(40)]
    held = queue_holds.held_elsewhere(volunteer_id=user.pk, tab="another")
    assert len(held) <= queue_holds.TABS * queue_holds.PER_TAB
    assert set(held) == set(handed[-queue_holds.TABS :])
    assert len(set(handed)) == queue_holds.TABS + 1  # the glitches of tabs forgotten came back
    for forgotten in set(handed) - set(held):  # their claims went with them
        assert cache.get(queue_holds._claim_key(user.pk, forgotten)) is None


def test_when_nothing_else_is_left_a_glitch_held_by_another_tab_is_handed_out(no_gold):
    """A hold is a preference: the last glitch on another tab's screen is still handed to
    this one (a vote on it in both is then said to be answered already), not "no more
    glitches for you"."""
    user = UserFactory()
    last = SubjectFactory()
    client = signed_in(user)
    assert next_for(client, "tab-a")["id"] == last.pk
    assert next_for(client, "tab-b")["id"] == last.pk


def test_two_tabs_asking_at_once_are_not_both_handed_one_glitch(no_gold):
    """Two tabs asking at once (a browser restoring both) both read the index before either
    wrote it, and one write is lost: the claim, taken atomically (cache.add), still refuses
    the second tab the first one's glitch."""
    user = UserFactory()
    SubjectFactory.create_batch(3)
    client = signed_in(user)
    first = next_for(client, "tab-a")
    cache.delete(queue_holds._index_key(user.pk))  # tab-a's write of the index lost
    assert next_for(client, "tab-b")["id"] != first["id"]


def test_an_undone_vote_brings_its_glitch_back_held_by_the_tab_that_undid(no_gold):
    user = UserFactory()
    SubjectFactory.create_batch(6)
    client = signed_in(user)
    tab = Tab(client)
    voted_on = tab.shown["id"]
    vote = tab.vote().json()
    body = {"classification": vote["id"], "tab": tab.name}
    back = client.post("/api/classifications/undo/", body, format="json").json()
    assert back["subject"]["id"] == voted_on
    assert next_for(client, "other-tab")["id"] not in {voted_on, tab.shown["id"]}


def test_a_cache_that_does_not_answer_hands_out_as_before(no_gold):
    """Holds fail open: with the cache down both tabs get the queue head (the page then says
    a glitch was answered in another tab), never an error."""
    user = UserFactory()
    head = SubjectFactory(priority=5)
    SubjectFactory()
    client = signed_in(user)
    down = mock.patch.multiple(
        cache,
        get=mock.Mock(side_effect=ConnectionError),
        add=mock.Mock(side_effect=ConnectionError),
    )
    with down:
        assert next_for(client, "tab-a")["id"] == head.pk
        assert next_for(client, "tab-b")["id"] == head.pk


@pytest.mark.parametrize("tab", ["a" * 37, "tab one", "<script>", "tab/1"])
def test_a_tab_name_other_than_letters_digits_and_dashes_is_refused(no_gold, tab):
    user = UserFactory()
    SubjectFactory()
    answer = signed_in(user).get("/api/subjects/next/", {"tab": tab})
    assert answer.status_code == 400
    assert "tab" in answer.json()


def test_on_redis_as_in_production_two_tabs_hold_apart(no_gold):
    """The holds on the cache production shares between web processes (Redis): its add is
    the claim, its values the index."""
    no_gold.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    cache.clear()
    user = UserFactory()
    SubjectFactory.create_batch(4)
    client = signed_in(user)
    try:
        first = next_for(client, "tab-a")["id"]
        second = next_for(client, "tab-b")["id"]
        assert second != first
        assert next_for(client, "tab-a")["id"] != second
        cache.delete(queue_holds._index_key(user.pk))  # an index write lost: the claims hold
        assert next_for(client, "tab-c")["id"] not in {first, second}
    finally:
        cache.clear()


def test_a_failed_gold_hand_out_keeps_the_hold_the_tab_had_from_before(settings):
    """A hand-out whose gold another request recorded first gives back the hold it took,
    never one the tab had from an earlier hand-out of that glitch (hold_claim said True for
    both): the tab's gold was then free for the volunteer's other tabs."""
    from webapp.labeling import selectors, services

    volunteer = UserFactory()
    gold, pool = gold_subject("Blip"), SubjectFactory()
    profile = VolunteerProfile.objects.get(user=volunteer)
    stale = VolunteerProfile.objects.get(pk=profile.pk)  # read before the gold was recorded
    # an earlier hand-out of the gold to tab a ...
    queue_holds.hold_claim(volunteer_id=volunteer.pk, tab="a", subject_id=gold.pk)
    VolunteerProfile.objects.filter(pk=profile.pk).update(gold_due=gold)  # ... recorded it
    served = iter([gold, pool])  # the stale read picks the gold again, then the pool
    with mock.patch.object(
        selectors, "subject_next_for_volunteer", side_effect=lambda **_: next(served)
    ):
        handed = services.subject_next_hand_out(volunteer=volunteer, profile=stale, tab="a")

    assert handed.pk == pool.pk
    assert cache.get(queue_holds._claim_key(volunteer.pk, gold.pk)) == "a"  # still tab a's
    claim = queue_holds.hold_claim(volunteer_id=volunteer.pk, tab="b", subject_id=gold.pk)
    assert claim is queue_holds.Claim.REFUSED  # another tab is not handed it


def test_a_vote_refused_as_answered_in_another_tab_brings_the_counts_with_that_vote(no_gold):
    """The refusal (already_voted) carries the caller's progress: the slower tab showed "0
    classified" while the other said 1, the vote that stands counted in neither's view."""
    user = UserFactory()
    SubjectFactory()
    client = signed_in(user)
    handed = next_for(client, "tab-a")
    body = {"subject": handed["id"], "assignment": handed["assignment"], "glitch_class": "Blip"}
    assert client.post("/api/classifications/", body, format="json").status_code == 201
    again = dict(body, glitch_class="Whistle")
    refused = client.post("/api/classifications/", again, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "already_voted"
    assert refused.json()["progress"]["n_classified"] == 1
