"""Talk's #hashtags: what counts as one, a page per tag, and a tag turned into a cluster
sheet or a class proposal in one step."""

import pytest
from django.contrib.auth.models import Group
from webapp_factories import SubjectFactory, UserFactory, glitch_class, gold_subject

from webapp.accounts.roles import REVIEWER
from webapp.discovery.models import Batch, ClassProposal, ProposalVote
from webapp.labeling import config
from webapp.labeling.models import Classification, Subject
from webapp.talk.models import Comment, Tag
from webapp.talk.selectors import tags_in

pytestmark = pytest.mark.django_db


def volunteer(name, level):
    return UserFactory(username=name, profile__level=level)


def with_role(name, role):
    user = UserFactory(username=name)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def tagged(subjects, text="#crown", author=None):
    author = author or UserFactory()
    for subject in subjects:
        comment = Comment.objects.create(subject=subject, author=author, text=text)
        for name in tags_in(text):
            comment.tags.add(Tag.objects.get_or_create(name=name)[0])


def test_what_counts_as_a_hashtag():
    text = (
        "#Crown and #crown, #low_f_blip #x #1abc #123 #4_5 http://a.org/#frag &#39; ##double "
        "mail#tag (#paren) #" + "a" * 41
    )
    assert tags_in(text) == ["crown", "low_f_blip", "1abc", "paren"]
    assert len(tags_in(" ".join(f"#tag{i}" for i in range(20)))) == 10


def test_a_tag_page_lists_the_tagged_glitches_page_by_page(client):
    # out of the queue, as anyone reads them (test_talk_open_threads)
    subjects = [SubjectFactory(images=(1.0,), status=Subject.Status.CLOSED) for _ in range(26)]
    tagged(subjects)
    tagged([SubjectFactory()], text="#other")
    first = client.get("/talk/tags/crown/")
    assert first.status_code == 200 and first.context["n_subjects"] == 26
    ids = [i for i, _, _ in first.context["subjects"]]
    assert ids == [s.pk for s in reversed(subjects)][:24]  # most recently tagged first
    second = client.get("/talk/tags/crown/?page=2")
    assert [i for i, _, _ in second.context["subjects"]] == [subjects[1].pk, subjects[0].pk]
    assert f'href="/subjects/{subjects[0].pk}/"' in second.content.decode()
    page = second.content.decode()
    assert f"#{subjects[0].pk}" in page and subjects[0].external_id not in page  # no label: no id
    assert client.get("/talk/tags/nothing_here/").status_code == 404
    assert client.get("/talk/tags/Bad%20Tag/").status_code == 404
    assert "#crown" in client.get("/talk/").content.decode()


def test_a_tag_becomes_a_cluster_sheet_of_the_glitches_still_open_for_the_volunteer(client):
    # sent to discovery: still open for votes, their threads open to all
    subjects = [SubjectFactory(images=(1.0,), status=Subject.Status.DISCOVERY) for _ in range(4)]
    gold = gold_subject("Blip", images=(1.0,))
    tagged([*subjects, gold])
    ada = volunteer("ada", level=2)
    Classification.objects.create(
        volunteer=ada, subject=subjects[0], glitch_class=glitch_class("Blip")
    )
    client.force_login(ada)
    response = client.post("/talk/tags/crown/batch/")
    assert response.status_code == 302 and response["Location"] == "/discovery/sheet/"
    batch = Batch.objects.get(volunteer=ada)
    # nothing the volunteer already answered, and not the gold glitch: it collects votes, and
    # others' tags on it wait for her vote (a tag is an answer), as they would on pool
    assert batch.subject_ids == [s.pk for s in reversed(subjects[1:])]
    assert batch.submitted_at is None
    page = client.get("/talk/tags/crown/").content.decode()
    assert f"/subjects/{subjects[1].pk}/" in page and f"/subjects/{gold.pk}/" not in page


def test_a_level_one_volunteer_gets_no_sheet(client):
    tagged([SubjectFactory()])
    client.force_login(volunteer("newbie", level=1))
    assert client.post("/talk/tags/crown/batch/").status_code == 403
    assert not Batch.objects.exists()


def test_a_top_level_volunteer_proposes_a_class_from_a_tag_in_one_step(client):
    # sent to discovery: others' tags on them are open to all
    subjects = [SubjectFactory(images=(1.0,), status=Subject.Status.DISCOVERY) for _ in range(3)]
    tagged(subjects)
    expert = volunteer("expert", level=config.max_level())
    client.force_login(expert)
    page = client.get("/talk/tags/crown/").content.decode()
    assert 'data-testid="tag-propose"' in page and 'value="Crown"' in page
    response = client.post(
        "/talk/tags/crown/propose/",
        {"name": "Crown", "description": "short arches at 20-60 Hz, repeating fast"},
    )
    assert response.status_code == 302
    proposal = ClassProposal.objects.get(name="Crown")
    assert (proposal.status, proposal.proposed_by) == (ClassProposal.Status.PROPOSED, expert)
    assert Tag.objects.get(name="crown").proposal == proposal
    voted = set(ProposalVote.objects.filter(proposal=proposal).values_list("subject_id", flat=True))
    assert voted == {s.pk for s in subjects}
    # Once proposed, a tag is not proposed again.
    again = client.post("/talk/tags/crown/propose/", {"name": "Crown2", "description": "x"})
    assert again.status_code == 302 and ClassProposal.objects.count() == 1
    assert "proposed as the class" in client.get("/talk/tags/crown/").content.decode()


def test_a_reviewer_may_propose_a_tag_but_a_level_two_volunteer_may_not(client):
    tagged([SubjectFactory(images=(1.0,))])
    form = {"name": "Crown", "description": "arches"}
    client.force_login(volunteer("middling", level=2))
    assert 'data-testid="tag-propose"' not in client.get("/talk/tags/crown/").content.decode()
    assert client.post("/talk/tags/crown/propose/", form).status_code == 403
    assert not ClassProposal.objects.exists()
    client.force_login(with_role("rev", REVIEWER))
    assert client.post("/talk/tags/crown/propose/", form).status_code == 302
    assert ClassProposal.objects.get().name == "Crown"


def test_a_bad_class_name_proposes_nothing_and_votes_nothing(client):
    tagged([SubjectFactory(images=(1.0,))])
    client.force_login(volunteer("expert", level=config.max_level()))
    response = client.post("/talk/tags/crown/propose/", {"name": "x", "description": "arches"})
    assert response.status_code == 302
    assert not ClassProposal.objects.exists()
    assert not Classification.objects.exists() and not Batch.objects.exists()
    assert Tag.objects.get(name="crown").proposal is None


def test_a_gold_glitchs_thread_waits_for_the_volunteers_vote(client):
    """Talk was a public answer channel: one who had voted on a gold glitch wrote "#blip"
    under it, and everyone read the answer on its page and on Talk's front page. The vote
    that opens the thread is a scored one (their gold due answered): a lasso's vote on it
    scores nothing and opened the thread too, so a lasso of any ids read their answers. An
    open pool glitch's thread waits for her vote too: a thread kept on gold only told gold
    apart (test_talk_open_threads)."""
    gold = gold_subject("Blip", images=(1.0,))
    pool = SubjectFactory(images=(1.0,))
    tagged([gold, pool], text="a clear #blip, sure of it")
    ann = volunteer("ann", level=1)
    client.force_login(ann)

    assert "sure of it" not in client.get(f"/subjects/{gold.pk}/").content.decode()
    assert "sure of it" not in client.get(f"/subjects/{pool.pk}/").content.decode()
    front = client.get("/talk/").content.decode()
    assert f"/subjects/{pool.pk}/" not in front and f"/subjects/{gold.pk}/" not in front
    Classification.objects.create(volunteer=ann, subject=pool, glitch_class=glitch_class("Blip"))
    assert "sure of it" in client.get(f"/subjects/{pool.pk}/").content.decode()
    assert f"/subjects/{pool.pk}/" in client.get("/talk/").content.decode()
    Classification.objects.create(volunteer=ann, subject=gold, glitch_class=glitch_class("Blip"))
    assert "sure of it" not in client.get(f"/subjects/{gold.pk}/").content.decode()  # unscored
    assert f"/subjects/{gold.pk}/" not in client.get("/talk/").content.decode()
    Classification.objects.filter(volunteer=ann, subject=gold).update(was_gold=True)
    assert "sure of it" in client.get(f"/subjects/{gold.pk}/").content.decode()
    assert f"/subjects/{gold.pk}/" in client.get("/talk/").content.decode()
    reviewer = with_role("rita", REVIEWER)
    client.force_login(reviewer)
    assert f"/subjects/{gold.pk}/" in client.get("/talk/tags/blip/").content.decode()


def test_ones_own_comment_stays_on_a_gold_glitch_as_on_a_pool_one(client):
    """Before: a volunteer's own comment (and its tag) showed on a pool glitch's page and
    vanished on a gold one's, so posting "probe" and reloading told gold from pool before
    the vote; others' comments on the gold glitch still wait for the vote."""
    gold = gold_subject("Blip", images=(1.0,))
    pool = SubjectFactory(images=(1.0,))
    tagged([gold], text="a clear #blip, sure of it")
    ann = volunteer("ann", level=1)
    tagged([gold, pool], text="#probe what is this?", author=ann)
    client.force_login(ann)

    for subject in (gold, pool):
        page = client.get(f"/subjects/{subject.pk}/").content.decode()
        assert "what is this?" in page and "sure of it" not in page
        assert f"/subjects/{subject.pk}/" in client.get("/talk/tags/probe/").content.decode()
        assert f"/subjects/{subject.pk}/" in client.get("/talk/").content.decode()
    client.force_login(volunteer("bob", level=1))
    assert "what is this?" not in client.get(f"/subjects/{gold.pk}/").content.decode()
    assert f"/subjects/{gold.pk}/" not in client.get("/talk/tags/probe/").content.decode()


def test_talk_names_an_open_glitch_by_its_number_not_its_id(client):
    """Before: Talk's front page and a tag's page named every commented glitch by its
    external id, a key into public tables with the label, which the subject page keeps
    until a vote (labeling.metadata.IDENTIFYING_FIELDS). Sent to discovery: open for votes
    and its thread open to all, its label unknown."""
    subject = SubjectFactory(
        external_id="H1_0PgqDFdHPl", images=(1.0,), status=Subject.Status.DISCOVERY
    )
    tagged([subject], text="#chirpy one")
    for page in ("/talk/", "/talk/tags/chirpy/"):
        text = client.get(page).content.decode()
        assert "H1_0PgqDFdHPl" not in text and f"#{subject.pk}" in text
    ann = volunteer("ann", level=1)
    Classification.objects.create(volunteer=ann, subject=subject, glitch_class=glitch_class("Blip"))
    client.force_login(ann)  # voted: the answers and the id are hers to see
    assert "H1_0PgqDFdHPl" in client.get("/talk/tags/chirpy/").content.decode()


def test_the_front_pages_tag_counts_are_the_tag_pages_for_each_viewer(client):
    """Before: a tag's count on Talk's front page counted a gold glitch's comments for
    everyone, while its page hid the glitch: "#blip 1" with nothing listed was a gold
    glitch's answer, and one's own #blip under the glitch on screen left the count as it
    was on gold (it grew on pool). A gold glitch counts for a volunteer once they answered
    it as their gold (a scored vote), not after a lasso's unscored vote on it; an open pool
    glitch once they voted on it (test_talk_open_threads compares every kind of glitch)."""
    gold = gold_subject("Blip", images=(1.0,))
    pool = SubjectFactory(images=(1.0,))
    tagged([gold], text="#blip")
    tagged([pool], text="#crown")

    def counts() -> dict[str, int]:
        shown = dict(client.get("/talk/").context["tags"])
        for name, n in shown.items():  # the front page's count is its tag page's listing
            listed = client.get(f"/talk/tags/{name}/").content.decode()
            assert sum(f"/subjects/{s.pk}/" in listed for s in (gold, pool)) == n, name
        return shown

    assert counts() == {}  # anonymous: both collect votes
    ann = volunteer("ann", level=1)
    client.force_login(ann)
    assert counts() == {}
    tagged([gold, pool], text="#blip?", author=ann)
    assert counts() == {"blip": 2}  # her own, on both: gold counts as pool
    Classification.objects.create(volunteer=ann, subject=gold, glitch_class=glitch_class("Blip"))
    assert counts() == {"blip": 2}
    client.force_login(with_role("rita", REVIEWER))
    assert counts() == {"blip": 2, "crown": 1}
    client.force_login(volunteer("bob", level=1))
    assert counts() == {}  # ann's and the others' wait for his vote
    cy = volunteer("cy", level=2)
    client.force_login(cy)
    Classification.objects.create(volunteer=cy, subject=gold, glitch_class=glitch_class("Blip"))
    assert counts() == {}  # a lasso's vote: the gold still hidden
    Classification.objects.filter(volunteer=cy, subject=gold).update(was_gold=True)
    assert counts() == {"blip": 1}  # her gold due, answered
    Classification.objects.create(volunteer=cy, subject=pool, glitch_class=glitch_class("Blip"))
    assert counts() == {"blip": 2, "crown": 1}  # and the pool glitch, voted on
