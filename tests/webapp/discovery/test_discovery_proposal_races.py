"""Two volunteers proposing one new class at once, each from a cluster sheet: one proposal
is made and the other sheet is refused as it would be a moment later, the name beside its
field (docs/discovery.md), never a 500. The races run on PostgreSQL
(tests/webapp/races.py); on the code before, the second proposal passed the name check
unseen: the same name was a 500 (the unique name refused the insert, and that sheet's
votes were rolled back), a name spelled alike was made beside the first."""

import pytest
from discovery_factories import volunteer
from django.core.exceptions import ValidationError
from django.db import connection
from races import second_while_first_open
from webapp_factories import SubjectFactory

from webapp.discovery import services
from webapp.discovery.models import Batch, ClassProposal
from webapp.labeling.models import Classification

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres"
    ),
]


def sheet_proposing(who: str, name: str):
    """A submit of `who`'s lasso sheet of two glitches, proposing the class `name`."""
    ids = [SubjectFactory(images=(1.0,)).pk for _ in range(2)]
    vol = volunteer(who)
    batch = services.batch_from_subjects(volunteer=vol, subject_ids=ids)
    label = services.BatchLabel(new_name=name, new_description="a new kind")

    def submit() -> Batch:
        return services.batch_submit(
            volunteer=vol, batch_id=batch.pk, selected_ids=ids, label=label
        )

    return submit


def refused_name(request) -> str | None:
    """What the sheet shows beside the new class's name; None: the request went through."""
    try:
        request()
    except ValidationError as refused:
        return " ".join(refused.message_dict["name"])
    return None


def test_one_new_name_proposed_from_two_sheets_at_once_is_made_once(seeded):
    first = sheet_proposing("ann", "Wobble_A1B2")
    second = sheet_proposing("bob", "Wobble_A1B2")

    def refused():
        return refused_name(second)

    made, reason = second_while_first_open(first, refused)
    assert reason == "Wobble_A1B2 already exists"
    assert [p.proposed_by.username for p in ClassProposal.objects.all()] == ["ann"]
    assert made.n_voted == 2 and Classification.objects.count() == 2  # bob's sheet: nothing


def test_names_spelled_alike_proposed_at_once_are_not_both_made(seeded):
    first = sheet_proposing("ann", "Hum_Line_X541")
    second = sheet_proposing("bob", "Hum_LineX541")

    def refused():
        return refused_name(second)

    _, reason = second_while_first_open(first, refused)
    assert reason is not None
    assert reason.startswith("Hum_LineX541 is Hum_Line_X541 spelled another way")
    assert list(ClassProposal.objects.values_list("name", flat=True)) == ["Hum_Line_X541"]


def test_a_name_stored_meanwhile_without_the_check_is_refused_as_taken_not_a_500(seeded):
    """A write that skips the service (the admin site, a shell) takes no lock: the unique
    name refuses the sheet's insert, which says why as the check would."""
    second = sheet_proposing("bob", "Wobble_C3D4")
    ann = volunteer("ann")

    def stored():
        return ClassProposal.objects.create(name="Wobble_C3D4", description="x", proposed_by=ann)

    def refused():
        return refused_name(second)

    _, reason = second_while_first_open(stored, refused)
    assert reason == "Wobble_C3D4 already exists"
    assert ClassProposal.objects.count() == 1 and Classification.objects.count() == 0
