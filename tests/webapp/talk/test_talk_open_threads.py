"""Whose comments a viewer reads on a glitch still collecting votes: only their own until
they may see its answers (they voted on it; on gold, their scored gold vote), gold and
pool alike; a glitch that left the queue has a thread open to all."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import Client
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject

from webapp.accounts.roles import REVIEWER
from webapp.discovery.models import Batch
from webapp.labeling.models import Classification, Subject
from webapp.talk import selectors
from webapp.talk.models import Comment, Tag

pytestmark = pytest.mark.django_db

PROBE = "probe #probe0x"
SHOWN = '<p class="comment-text" dir="auto">probe <a class="hashtag" href="/talk/tags/probe0x/">'


def client_of(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def looks(client, subject) -> tuple[bool, bool, bool]:
    """What a viewer reads of the probe on one glitch: under it, on Talk's front page, in
    the tag's listing."""
    page = client.get(f"/subjects/{subject.pk}/").content.decode()
    front = client.get("/talk/").content.decode()
    listed = client.get("/talk/tags/probe0x/").content.decode()
    return (
        SHOWN in page,
        f"/subjects/{subject.pk}/#" in front,
        f"/subjects/{subject.pk}/" in listed,
    )


def tag_count(client) -> int:
    return dict(client.get("/talk/").context["tags"]).get("probe0x", 0)


@pytest.mark.parametrize("viewer", ["anonymous", "readerB", "scoutA"])
def test_a_scout_cannot_tell_open_gold_from_pool_by_whose_comments_show(viewer):
    """Before: a gold glitch's thread was kept from anyone who might not see its answer and a
    pool glitch's was open to all, so one account commented on every glitch the queue handed
    it, read Talk logged out (or as a second account), and the glitches whose comments were
    missing (under them, on the front page, in the tag's listing, its count and its sheet)
    were gold. Now every glitch still collecting votes keeps others' comments until one's
    vote; one's own always show."""
    pool = [SubjectFactory(images=(1.0,)) for _ in range(3)]
    gold = [gold_subject("Blip", images=(1.0,)) for _ in range(3)]
    scout = UserFactory(username="scoutA", profile__level=2)
    scouting = client_of(scout)
    for subject in pool + gold:
        posted = scouting.post(f"/talk/subjects/{subject.pk}/comments/", {"text": PROBE})
        assert posted.status_code == 302
    reader = UserFactory(username="readerB", profile__level=2)
    user = {"anonymous": None, "readerB": reader, "scoutA": scout}[viewer]
    client = client_of(user)

    seen = {subject.pk: looks(client, subject) for subject in pool + gold}
    mine = viewer == "scoutA"
    assert set(seen.values()) == {(mine, mine, mine)}, seen  # gold and pool alike
    assert tag_count(client) == (6 if mine else 0)
    if user is not None:
        client.post("/talk/tags/probe0x/batch/")
        batch = Batch.objects.filter(volunteer=user).first()
        sheet = set(batch.subject_ids) if batch is not None else set()
        assert sheet == ({s.pk for s in pool + gold} if mine else set())


def test_a_voter_reads_others_comments_on_the_open_glitches_they_voted_on():
    pool, other_pool = SubjectFactory(images=(1.0,)), SubjectFactory(images=(1.0,))
    gold = gold_subject("Blip", images=(1.0,))
    scout = client_of(UserFactory(username="scoutA"))
    for subject in (pool, other_pool, gold):
        scout.post(f"/talk/subjects/{subject.pk}/comments/", {"text": PROBE})
    reader = UserFactory(username="readerB")
    for subject, scored in ((pool, False), (gold, True)):  # on gold, her gold due answered
        Classification.objects.create(
            volunteer=reader, subject=subject, glitch_class=glitch_class("Blip"), was_gold=scored
        )
    client = client_of(reader)
    assert looks(client, pool) == looks(client, gold) == (True, True, True)
    assert looks(client, other_pool) == (False, False, False)  # not voted on: kept
    assert tag_count(client) == 2


@pytest.mark.parametrize(
    "status", [Subject.Status.RETIRED, Subject.Status.CLOSED, Subject.Status.DISCOVERY]
)
def test_a_glitch_that_left_the_queue_has_a_thread_open_to_all(status):
    """Votes on it decide nothing now and gold leaves the queue only when an admin retires
    it: its thread tells no one anything of gold, and discovery's discussions are public."""
    label = glitch_class("Blip") if status == Subject.Status.RETIRED else None
    pool = SubjectFactory(images=(1.0,), status=status, retired_label=label)
    gold = gold_subject("Blip", images=(1.0,), status=status, retired_label=label)
    scout = client_of(UserFactory(username="scoutA"))
    for subject in (pool, gold):
        scout.post(f"/talk/subjects/{subject.pk}/comments/", {"text": PROBE})
    for user in (None, UserFactory(username="readerB")):
        client = client_of(user)
        assert looks(client, pool) == looks(client, gold) == (True, True, True)
        assert tag_count(client) == 2


def test_the_rule_in_sql_is_the_rule_in_python_for_every_viewer_and_glitch():
    """Talk's front page counts a tag's glitches and picks its latest comments by _readable
    (SQL); a glitch's page and a tag's listing keep threads by threads_kept_from (Python, on
    labeling's subject_ids_answers_visible): a count that differed from the listing would
    tell a glitch apart. One tag per glitch, on a glitch of every kind: pool or gold, in
    every status, which ann voted on (a scored gold vote or not), tagged herself, or
    neither."""
    ann, bob, other = (UserFactory(username=name) for name in ("ann", "bob", "other"))
    rita = UserFactory(username="rita")
    rita.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    rows = []
    for status in Subject.Status:
        label = glitch_class("Blip") if status == Subject.Status.RETIRED else None
        for gold in (False, True):
            for ann_did in ("nothing", "vote", "scored vote", "tag"):
                kind = {"status": status, "retired_label": label, "images": (1.0,)}
                subject = gold_subject("Blip", **kind) if gold else SubjectFactory(**kind)
                name = f"t{len(rows)}"
                tag = Tag.objects.create(name=name)
                for author in (other, ann) if ann_did == "tag" else (other,):
                    Comment.objects.create(subject=subject, author=author, text=f"#{name}")
                    Comment.objects.filter(author=author, subject=subject).get().tags.add(tag)
                if "vote" in ann_did:
                    Classification.objects.create(
                        volunteer=ann,
                        subject=subject,
                        glitch_class=glitch_class("Blip"),
                        was_gold=gold and ann_did == "scored vote",
                    )
                rows.append((name, subject, ann_did))
    ids = [subject.pk for _, subject, _ in rows]
    active = {subject.pk for _, subject, _ in rows if subject.status == Subject.Status.ACTIVE}
    seen_by_ann = {
        subject.pk
        for _, subject, ann_did in rows
        if ann_did == "scored vote" or (ann_did == "vote" and not subject.is_gold)
    }
    expected_kept = {ann: active - seen_by_ann, bob: active, rita: set()}
    for viewer in (ann, bob, rita, AnonymousUser()):
        kept = selectors.threads_kept_from(ids, viewer)
        assert kept == expected_kept.get(viewer, active), viewer
        listed = {
            name
            for name, _, _ in rows
            if selectors.tag_subject_ids(tag=Tag.objects.get(name=name), viewer=viewer)
        }
        shown = {
            name
            for name, subject, _ in rows
            if selectors.comments_for_subject(subject=subject, viewer=viewer)[0]
            .filter(author=other)
            .exists()
        }
        readable = {
            name
            for name, subject, ann_did in rows
            if subject.pk not in kept or (viewer == ann and ann_did == "tag")
        }
        assert listed == readable, viewer
        assert shown == {name for name, subject, _ in rows if subject.pk not in kept}, viewer
        counted = dict(selectors.tags_popular(viewer=viewer, limit=1000))
        assert counted == dict.fromkeys(listed, 1), viewer
        recent = selectors.comments_latest(viewer=viewer)
        assert {c.text[1:] for c in recent if c.author == other} == shown, viewer


def test_the_front_page_shows_the_latest_comments_the_viewer_may_read():
    """Before: the front page read the latest 40 comments, then dropped those the viewer may
    not read; most comments are on glitches still collecting votes, so 40 of them under
    open glitches left the front page empty while older ones out of the queue were open."""
    closed = SubjectFactory(images=(1.0,), status=Subject.Status.CLOSED)
    talker = UserFactory(username="talker")
    Comment.objects.create(subject=closed, author=talker, text="an old one, open to all")
    busy = SubjectFactory(images=(1.0,))
    Comment.objects.bulk_create(
        Comment(subject=busy, author=talker, text=f"under an open glitch {i}") for i in range(45)
    )
    front = Client().get("/talk/").content.decode()
    assert "an old one, open to all" in front and "under an open glitch" not in front


def test_a_kept_thread_says_why_it_shows_no_one_elses_comments():
    """A thread kept from the viewer said "No comments yet." under a glitch with comments;
    it now says they wait for the vote, in the same words on gold and pool."""
    pool, gold = SubjectFactory(images=(1.0,)), gold_subject("Blip", images=(1.0,))
    closed = SubjectFactory(images=(1.0,), status=Subject.Status.CLOSED)
    talker = UserFactory(username="talker")
    for subject in (pool, gold, closed):
        Comment.objects.create(subject=subject, author=talker, text="seen one like it")
    reader = UserFactory(username="readerB")
    Classification.objects.create(volunteer=reader, subject=pool, glitch_class=glitch_class("Blip"))

    def thread(client, subject) -> tuple[bool, bool]:
        page = client.get(f"/subjects/{subject.pk}/").content.decode()
        return 'data-testid="talk-kept"' in page, "No comments yet." in page

    anonymous, voter = client_of(None), client_of(reader)
    assert thread(anonymous, pool) == thread(anonymous, gold) == (True, False)
    assert thread(voter, gold) == (True, False)
    assert thread(voter, pool) == thread(anonymous, closed) == (False, False)
    empty = SubjectFactory(images=(1.0,), status=Subject.Status.CLOSED)
    assert thread(anonymous, empty) == (False, True)
