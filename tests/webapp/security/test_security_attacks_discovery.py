"""Issue #14's attacks on discovery, replayed as a cheating volunteer would: each test fails
if gold can again be told from pool by a status code, a field or a missing point.

Before: `GET /api/discovery/subjects/{id}/similar/` (public) answered 404 for a gold subject
and 200 for a pool one, similar lists and the map left gold out, the map's hover facts
were blank for gold, and a lasso batch dropped gold (the batch said which).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, active_prediction, glitch_class, gold_subject

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "discovery"))
from discovery_factories import stored_cluster, volunteer, with_role  # noqa: E402

from webapp.discovery import services  # noqa: E402
from webapp.discovery.models import EmbeddingSet  # noqa: E402
from webapp.labeling.models import Classification, VolunteerProfile  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _discovery_dir(settings, tmp_path):
    settings.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    settings.GLITCHLAB_DISCOVERY_MIN_LEVEL = 2


GOLD_LABEL = "Blip"  # stored_cluster's gold subjects; the model never guesses it below


def client_of(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def similar(client: APIClient, subject_id: int):
    return client.get(f"/api/discovery/subjects/{subject_id}/similar/?k=20")


def with_map(n: int = 4, gold: int = 2):
    """Stored embeddings with a computed map; pool and gold look alike in every stored fact
    (same detector and numbers, no model prediction, no votes)."""
    _, subjects, golds, vectors = stored_cluster(n=n, gold=gold)
    for s in subjects + golds:
        s.ifo, s.snr, s.peak_frequency = "H1", 9.5, 120.0
        s.save(update_fields=["ifo", "snr", "peak_frequency"])
    embedding_set = EmbeddingSet.objects.get(status=EmbeddingSet.Status.READY)
    services.map_store(set_id=embedding_set.pk, xy=np.zeros((n + gold, 2), dtype=np.float32))
    return subjects, golds


def shape(value):
    """The JSON's shape: keys and value types, not the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize("who", ["anonymous", "volunteer"])
def test_similar_answers_gold_exactly_as_pool(who):
    _, subjects, golds, _ = stored_cluster(n=4, gold=2)
    client = client_of(None if who == "anonymous" else volunteer("cheater", level=1))
    pool_answer, gold_answer = similar(client, subjects[0].pk), similar(client, golds[0].pk)
    assert pool_answer.status_code == gold_answer.status_code == 200
    assert shape(pool_answer.json()) == shape(gold_answer.json())
    assert len(pool_answer.json()["similar"]) == len(gold_answer.json()["similar"])


@pytest.mark.parametrize("who", ["anonymous", "volunteer"])
def test_similar_without_embeddings_is_the_same_empty_list_for_gold_and_pool(who):
    """Not embedded (imported since the embeddings, or none yet) is a 200 with an empty list
    and its reason, the same for gold and pool; only an id with no glitch is a 404. Gold is
    embedded as pool is, so neither answer tells them apart."""
    stored_cluster(n=3)  # embeddings exist, but not for the two below
    pool, gold = SubjectFactory(), gold_subject(GOLD_LABEL)
    client = client_of(None if who == "anonymous" else volunteer("cheater", level=1))
    answers = [similar(client, i) for i in (pool.pk, gold.pk)]
    assert [a.status_code for a in answers] == [200, 200]
    empty = {"similar": [], "reason": "no embeddings for this glitch yet"}
    assert [a.json() for a in answers] == [
        {"subject": pool.pk} | empty,
        {"subject": gold.pk} | empty,
    ]
    assert similar(client, 10**9).status_code == 404


def test_similar_lists_gold_neighbours_and_never_their_gold_label():
    subjects, golds = stored_cluster(n=4, gold=2)[1:3]
    body = similar(client_of(), subjects[0].pk).json()
    found = {s["subject_id"]: s for s in body["similar"]}
    assert {g.pk for g in golds} <= set(found)  # a missing id would say "gold"
    assert {found[g.pk]["label"] for g in golds} == {found[s.pk]["label"] for s in subjects[1:]}
    assert GOLD_LABEL not in {s["label"] for s in body["similar"]}
    assert all(set(s) == {"subject_id", "similarity", "image_url", "label"} for s in found.values())


def test_the_map_shows_gold_points_exactly_like_pool_ones():
    subjects, golds = with_map()
    body = client_of(volunteer("cheater", level=1)).get("/api/discovery/map/").json()
    assert {s.pk for s in subjects + golds} <= set(body["ids"])  # gold is not left out
    columns = [k for k, v in body.items() if isinstance(v, list) and k != "ids"]
    assert "role" not in body and "gold" not in body
    row = {i: {c: body[c][n] for c in columns} for n, i in enumerate(body["ids"])}

    def seen(i: int) -> dict:
        # Each has its own image; clusters are built from open pool glitches only, and a
        # pool glitch outside every cluster is common, so -1 says nothing.
        return {**row[i], "image": bool(row[i]["image"]), "cluster": -1}

    for g in golds:
        assert seen(g.pk) == seen(subjects[0].pk)  # label, confidence, open, hover facts
        assert row[g.pk]["label"] != GOLD_LABEL
        assert row[g.pk]["open"] is True  # a lasso takes it, as an open pool glitch


def guess(subject, label: str, confidence: float = 0.9) -> None:
    """The active model's guess; on a gold subject it is the gold answer, as it is in
    production, where the model trains on the gold subjects with their gold labels."""
    prediction = active_prediction(subject, {label: confidence, "Koi_Fish": 1 - confidence})
    prediction.confidence = confidence
    prediction.save(update_fields=["confidence"])


def map_rows(client: APIClient) -> dict[int, tuple[str, float | None]]:
    body = client.get("/api/discovery/map/").json()
    return {
        i: (label, c)
        for i, label, c in zip(body["ids"], body["label"], body["confidence"], strict=True)
    }


def test_the_map_shows_no_models_guess_before_voting():
    """Before: every point's colour and hover was the model's guess, and the model guesses
    the answer of the gold subjects it trained on, so a new account read its gold answers
    off the map (the subject page hid the same guess until the vote)."""
    subjects, golds = with_map()
    for s in subjects + golds:
        guess(s, GOLD_LABEL)
    cheater = volunteer("cheater", level=1)
    rows = map_rows(client_of(cheater))
    assert {rows[s.pk] for s in subjects + golds} == {("unlabelled", None)}


def test_the_map_shows_the_guess_on_glitches_the_volunteer_voted_on_and_to_reviewers():
    from webapp.accounts.roles import REVIEWER
    from webapp.labeling.models import Classification

    subjects, golds = with_map()
    for s in subjects + golds:
        guess(s, GOLD_LABEL)
    voter = volunteer("voter", level=1)
    Classification.objects.create(
        volunteer=voter, subject=subjects[0], glitch_class=glitch_class("Whistle")
    )
    rows = map_rows(client_of(voter))
    assert rows[subjects[0].pk] == (GOLD_LABEL, 0.9)
    assert rows[subjects[1].pk] == rows[golds[0].pk] == ("unlabelled", None)
    rows = map_rows(client_of(with_role("rev", REVIEWER)))
    assert {rows[s.pk] for s in subjects + golds} == {(GOLD_LABEL, 0.9)}


def test_similar_lists_show_retired_labels_and_no_models_guess_before_voting():
    """The subject page's similar list is public: the guesses of a gold glitch's
    neighbours, the nearest of which are often other gold of its class, gave its answer."""
    from webapp.labeling.models import Subject

    subjects, golds = stored_cluster(n=4, gold=2)[1:3]
    for s in subjects + golds:
        guess(s, GOLD_LABEL)
    Subject.objects.filter(pk=subjects[1].pk).update(
        status=Subject.Status.RETIRED, retired_label=glitch_class("Whistle")
    )
    for client in (client_of(), client_of(volunteer("cheater", level=1))):
        found = {
            s["subject_id"]: s["label"] for s in similar(client, golds[0].pk).json()["similar"]
        }
        assert found[subjects[1].pk] == "Whistle"  # retired: its label is public
        assert {found[s.pk] for s in (subjects[0], subjects[2], golds[1])} == {""}


def test_a_lasso_batch_takes_gold_and_pool_alike():
    subjects, golds = with_map()
    client = client_of(volunteer("cheater", level=2))
    chosen = [s.pk for s in subjects + golds]
    answer = client.post("/api/discovery/batches/", {"subject_ids": chosen}, format="json")
    assert answer.status_code == 201
    assert sorted(s["id"] for s in answer.json()["subjects"]) == sorted(chosen)


def test_a_lasso_never_takes_a_validation_glitch():
    """Validation glitches are on the map but keep their known label: a lasso (or any
    batch) that took them let volunteers vote them to retirement, and the reviewers' export
    then showed the crowd's label in place of the known one."""
    from webapp.labeling.models import Subject

    subjects, _ = with_map()
    known = subjects[1]
    Subject.objects.filter(pk=known.pk).update(role=Subject.Role.VALIDATION, source_label="Blip")
    client = client_of(volunteer("cheater", level=2))
    chosen = [subjects[0].pk, known.pk]
    answer = client.post("/api/discovery/batches/", {"subject_ids": chosen}, format="json")
    assert answer.status_code == 201
    assert [s["id"] for s in answer.json()["subjects"]] == [subjects[0].pk]
    body = client.get("/api/discovery/map/").json()
    is_open = dict(zip(body["ids"], body["open"], strict=True))
    assert is_open[subjects[0].pk] is True and is_open[known.pk] is False


def test_a_lasso_of_more_glitches_than_a_batch_holds_is_a_400(settings):
    """Before: POST /api/discovery/batches/ took any number of ids, each a parameter of one
    statement: 70,000 of them were a 500 on PostgreSQL (65,535 at most). A batch holds
    GLITCHLAB_BATCH_MAX glitches, and the map's lasso sends no more (its batch_max)."""
    settings.GLITCHLAB_BATCH_MAX = 4
    subjects, golds = with_map()
    client = client_of(volunteer("cheater", level=2))
    huge = [s.pk for s in subjects] + list(range(10**6, 10**6 + 70_000))
    answer = client.post("/api/discovery/batches/", {"subject_ids": huge}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"subject_ids": ["at most 4 glitches: a batch holds no more"]}
    chosen = [s.pk for s in subjects + golds]
    answer = client.post("/api/discovery/batches/", {"subject_ids": chosen[:5]}, format="json")
    assert answer.status_code == 400
    answer = client.post("/api/discovery/batches/", {"subject_ids": chosen[:4]}, format="json")
    assert answer.status_code == 201
    assert [s["id"] for s in answer.json()["subjects"]] == chosen[:4]


# --- a guess read after the vote, then undo and vote it ------------------------------------


def vote_served(client: APIClient, name: str) -> dict:
    """Ask the queue for a glitch and vote `name` on it, as the labelling page does."""
    handed = client.get("/api/subjects/next/").json()
    body = {"subject": handed["id"], "assignment": handed["assignment"], "glitch_class": name}
    answer = client.post("/api/classifications/", body, format="json")
    assert answer.status_code == 201
    return answer.json()


def undo(client: APIClient, vote: dict):
    return client.post("/api/classifications/undo/", {"classification": vote["id"]}, format="json")


@pytest.mark.parametrize("look", ["map", "similar"])
def test_vote_read_the_models_guess_undo_and_vote_it_is_refused(look):
    """Before: the map and the similar lists showed the active model's guess on every glitch
    the caller had voted on without marking the vote seen (the subject page does), so a
    level-1 account voted Blip, read Whistle off the map, undid and voted Whistle: the
    model's class counted twice in the consensus. A vote cast after the look still undoes."""
    subjects, _ = with_map(n=4, gold=0)
    for s in subjects:
        guess(s, "Whistle")
    client = client_of(volunteer("cheater", level=1))
    vote = vote_served(client, "Blip")
    if look == "map":
        assert map_rows(client)[vote["subject"]] == ("Whistle", 0.9)
    else:
        # the list of another glitch (the queue picks among equal ones by account)
        other = next(s for s in subjects if s.pk != vote["subject"])
        listed = similar(client, other.pk).json()["similar"]
        assert {s["subject_id"]: s["label"] for s in listed}[vote["subject"]] == "Whistle"
    answer = undo(client, vote)
    assert answer.status_code == 409 and "seen this glitch's votes" in answer.json()["detail"]
    from webapp.labeling.models import Classification

    assert Classification.objects.get(pk=vote["id"]).glitch_class.name == "Blip"
    assert undo(client, vote_served(client, "Blip")).status_code == 200  # not looked at


def test_the_map_marks_its_votes_seen_in_statements_that_do_not_grow_with_them(monkeypatch):
    """One UPDATE for the whole map, whatever the number of voted glitches on it; past an
    IN list's worth of points (IN_LIST_MAX), one read of the votes not yet marked and an
    UPDATE only when there are some, so a reload of a large map writes nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webapp.labeling import selectors as labeling_selectors
    from webapp.labeling.models import Classification

    subjects, _ = with_map(n=6, gold=0)
    for s in subjects:
        guess(s, "Whistle")
    few, many = volunteer("few", level=1), volunteer("many", level=1)
    blip = glitch_class("Blip")
    Classification.objects.create(volunteer=few, subject=subjects[0], glitch_class=blip)
    for s in subjects:
        Classification.objects.create(volunteer=many, subject=s, glitch_class=blip)

    def statements(user) -> list[str]:
        client = APIClient()
        client.force_authenticate(user)  # no login's own writes
        with CaptureQueriesContext(connection) as done:
            assert client.get("/api/discovery/map/").status_code == 200
        return [q["sql"] for q in done.captured_queries]

    statements(few)  # the first request loads the cached class table (config.class_table)
    assert len(statements(few)) == len(statements(many))
    updates = [sql for sql in statements(many) if sql.startswith("UPDATE")]
    assert len(updates) == 1
    assert not Classification.objects.filter(answers_seen=False).exists()

    monkeypatch.setattr(labeling_selectors, "IN_LIST_MAX", 2)  # the map holds more points
    Classification.objects.filter(volunteer=many).update(answers_seen=False)
    first = statements(many)
    assert len([sql for sql in first if sql.startswith("UPDATE")]) == len(subjects) // 2
    assert not Classification.objects.filter(answers_seen=False).exists()
    again = statements(many)
    assert not [sql for sql in again if sql.startswith("UPDATE")]
    assert len(again) == len(first) - len(subjects) // 2


# --- a sheet's vote on gold scores only the gold the queue handed out ----------------------


def lasso_vote(client: APIClient, subject_ids: list[int], class_name: str) -> dict:
    """A lasso on the map, then its sheet submitted with every glitch as `class_name`."""
    made = client.post("/api/discovery/batches/", {"subject_ids": subject_ids}, format="json")
    assert made.status_code == 201, made.content
    shown = [s["id"] for s in made.json()["subjects"]]
    done = client.post(
        f"/api/discovery/batches/{made.json()['id']}/submit/",
        {"selected": shown, "class_name": class_name},
        format="json",
    )
    assert done.status_code == 200, done.content
    return done.json()


def test_a_lasso_of_gold_whose_answers_are_known_scores_nothing_and_promotes_no_one():
    """Before: a gold glitch in a lasso batch was scored like a queue answer, past the gold
    due, the gold rate and the class's level: a level-2 account lassoed three gold glitches
    of each class its level introduced, whose answers a scout had read, and went from level
    2 to 5 in 34 requests. Now only a vote on the gold the queue handed out scores."""
    level_two = ("Koi_Fish", "Power_Line", "Violin_Mode")
    golds = {name: [gold_subject(name).pk for _ in range(3)] for name in level_two}
    farmer = volunteer("farmer", level=2)
    client = client_of(farmer)
    for name, ids in golds.items():
        assert lasso_vote(client, ids, name)["voted"] == 3
    profile = VolunteerProfile.objects.get(user=farmer)
    assert (profile.level, profile.gold_confusion, profile.n_classified) == (2, {}, 9)
    votes = Classification.objects.filter(volunteer=farmer)
    assert [(v.was_gold, v.was_correct, v.weight) for v in votes] == [(False, None, {})] * 9
    progress = client.get("/api/progress/").json()
    assert (progress["level"], progress["n_gold"], progress["n_gold_correct"]) == (2, 0, 0)


def test_a_lasso_scores_the_gold_due_and_no_other_gold():
    """The gold the queue handed out scores from a sheet as from the labelling page, so a
    lasso cannot put it aside unscored either; another gold glitch in the same lasso, right
    answer or not, scores nothing (before, both were scored)."""
    due = gold_subject("Power_Line")
    cheater = volunteer("cheater", level=2)
    client = client_of(cheater)
    assert client.get("/api/subjects/next/").json()["id"] == due.pk  # a new account: gold
    other = gold_subject("Power_Line")
    lasso_vote(client, [due.pk, other.pk], "Power_Line")
    profile = VolunteerProfile.objects.get(user=cheater)
    assert profile.gold_confusion == {"Power_Line": {"Power_Line": 1}}
    assert profile.gold_due_id is None  # answered: the queue may serve other gold
    scored = dict(Classification.objects.values_list("subject_id", "was_gold"))
    assert scored == {due.pk: True, other.pk: False}


def test_a_sheets_answers_are_the_same_for_gold_and_pool():
    """After a sheet's votes nothing the volunteer is answered tells a gold glitch from a
    pool one: the sheet's counts, their progress (before, n_gold counted the lassoed gold)."""
    pool, gold = SubjectFactory(), gold_subject("Blip")
    answers = []
    for name, subject in (("ann", pool), ("bob", gold)):
        client = client_of(volunteer(name, level=2))
        sheet = lasso_vote(client, [subject.pk], "Blip")
        sheet.pop("id"), sheet.pop("subjects"), sheet.pop("selected")
        answers.append((sheet, client.get("/api/progress/").json()))
    assert answers[0] == answers[1]


def test_a_scout_reads_no_gold_answer_through_a_lassos_votes(settings):
    """Before: any vote on a gold glitch, a lasso's too, showed its answers: its page and
    API (role, gold label), the map (the model's guess) and Talk (others' comments). A
    level-2 scout lassoed 50 ids, voted anything, and read the answer of every gold glitch
    among them: a table valid for every account. Now a gold glitch's answers show only
    after a scored gold vote (the gold the queue handed out, answered), its retirement, or
    to reviewers."""
    from webapp.talk.models import Comment

    subjects, golds = with_map()
    for gold in golds:
        guess(gold, GOLD_LABEL)
        Comment.objects.create(subject=gold, author=volunteer("tipster"), text="sure of it")
    scout = client_of(volunteer("scout", level=2))
    lasso_vote(scout, [s.pk for s in subjects + golds], "None_of_the_Above")
    rows = map_rows(scout)
    for gold in golds:
        body = scout.get(f"/api/subjects/{gold.pk}/").json()
        assert (body["answers_visible"], body["role"], body["gold_label"]) == (False, None, None)
        assert "sure of it" not in scout.get(f"/subjects/{gold.pk}/").content.decode()
        assert rows[gold.pk] == ("unlabelled", None)
    # nor on My glitches, which named each voted glitch by its external id (a key into
    # public tables with the label) and left the lassoed gold's vote undoable
    mine = scout.get("/me/glitches/").content.decode()
    for gold in golds:
        assert gold.external_id not in mine and f">#{gold.pk}</a>" in mine
        assert not Classification.objects.get(
            subject=gold, volunteer__username="scout"
        ).answers_seen
    assert subjects[0].external_id in mine  # a pool glitch's, voted on, as before
    # the gold the queue hands out, once answered, shows its answers as before
    settings.GLITCHLAB_GOLD_RATE = 1.0  # a gold turn
    ann = client_of(volunteer("ann", level=1))
    served = ann.get("/api/subjects/next/").json()
    assert served["id"] in {g.pk for g in golds}
    ballot = {"subject": served["id"], "assignment": served["assignment"], "glitch_class": "Blip"}
    assert ann.post("/api/classifications/", ballot, format="json").status_code == 201
    assert ann.get(f"/api/subjects/{served['id']}/").json()["gold_label"] == GOLD_LABEL
    assert "sure of it" in ann.get(f"/subjects/{served['id']}/").content.decode()


# --- the sheets offer what the queue would: glitches at or below the volunteer's level -----


def level_world():
    """Pool glitches routed to levels 1, 2 and 3; gold of a level-1 and of a level-3 class."""
    pool = [SubjectFactory(level=level) for level in (1, 2, 3)]
    golds = [gold_subject("Whistle"), gold_subject("Chirp")]  # Chirp: a level-3 class
    return pool, golds


def test_a_lasso_offers_only_glitches_at_or_below_the_volunteers_level():
    """Before: a lasso took any open glitch, so a level-2 account voted (and with others
    retired) the glitches the queue keeps for the top levels. Now a lasso, and the map's
    open points, follow the queue: pool routed to their level or below, gold of a class
    they have unlocked (gold of a locked class is left out as pool routed above is)."""
    from webapp.accounts.roles import REVIEWER

    pool, golds = level_world()
    chosen = [s.pk for s in pool + golds]
    client = client_of(volunteer("climber", level=2))
    answer = client.post("/api/discovery/batches/", {"subject_ids": chosen}, format="json")
    assert answer.status_code == 201
    assert [s["id"] for s in answer.json()["subjects"]] == [pool[0].pk, pool[1].pk, golds[0].pk]
    answer = client.post("/api/discovery/batches/", {"subject_ids": [pool[2].pk]}, format="json")
    assert answer.status_code == 400  # "none of these glitches is open for your vote"
    reviewer = client_of(with_role("rev", REVIEWER))  # reviewers batch-label at any level
    answer = reviewer.post("/api/discovery/batches/", {"subject_ids": chosen}, format="json")
    assert [s["id"] for s in answer.json()["subjects"]] == chosen


def test_the_maps_open_points_are_the_ones_a_lasso_takes():
    """The map counts a lasso by its open points: they follow the same level rule."""
    from webapp.discovery import selectors

    pool, golds = level_world()
    climber = volunteer("climber", level=2)
    assert selectors.subject_ids_open_for(volunteer=climber) == {
        pool[0].pk,
        pool[1].pk,
        golds[0].pk,
    }


def test_a_cluster_sheet_offers_only_glitches_at_or_below_the_volunteers_level(settings):
    """Before: a cluster sheet held its cluster's open glitches whatever their level."""
    from webapp.labeling.models import Subject

    settings.GLITCHLAB_BATCH_MIN = 2
    _, subjects, _, _ = stored_cluster(n=6)
    Subject.objects.filter(pk__in=[s.pk for s in subjects[:3]]).update(level=3)
    batch = services.batch_from_cluster(volunteer=volunteer("climber", level=2))
    assert batch is not None
    assert sorted(batch.subject_ids) == sorted(s.pk for s in subjects[3:])
    top = services.batch_from_cluster(volunteer=volunteer("top", level=3))
    assert top is not None and sorted(top.subject_ids) == sorted(s.pk for s in subjects)
