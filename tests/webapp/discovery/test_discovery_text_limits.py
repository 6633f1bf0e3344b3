"""Free text has a length limit, refused with a message naming the field: a 2.5 MB class
description once made /discovery/ 2.5 MB for everyone (issue #14)."""

import pytest
from discovery_factories import volunteer
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from webapp.discovery import services
from webapp.discovery.models import ClassProposal, ProposalEvent, ProposalVote
from webapp.labeling.models import CLASS_DESCRIPTION_MAX_LENGTH, GlitchClass

pytestmark = pytest.mark.django_db

LIMIT = CLASS_DESCRIPTION_MAX_LENGTH


def submit_over_the_api(user, subjects, **label):
    api = APIClient()
    api.force_authenticate(user)
    batch = api.get("/api/discovery/batches/next/").json()
    body = {"selected": [subjects[0].pk], **label}
    return api.post(f"/api/discovery/batches/{batch['id']}/submit/", body, format="json")


def test_a_description_over_the_limit_is_a_400_naming_the_field(cluster):
    _, subjects = cluster
    ann = volunteer("ann")
    response = submit_over_the_api(
        ann, subjects, new_name="Long_Winded", new_description="x" * (LIMIT + 1)
    )
    assert response.status_code == 400
    assert f"no more than {LIMIT} characters" in response.json()["new_description"][0]
    assert not ClassProposal.objects.exists()
    response = submit_over_the_api(
        ann, subjects, new_name="Long_Winded", new_description="x" * LIMIT
    )
    assert response.status_code == 200
    assert len(ClassProposal.objects.get().description) == LIMIT


def test_a_name_over_the_limit_is_a_400_naming_the_field(cluster):
    _, subjects = cluster
    response = submit_over_the_api(
        volunteer("ann"), subjects, new_name="A" + "b" * 64, new_description="long name"
    )
    assert response.status_code == 400 and "new_name" in response.json()
    assert not ClassProposal.objects.exists()


def test_the_cluster_sheet_refuses_a_long_description_and_says_why(cluster):
    _, subjects = cluster
    client = Client()
    client.force_login(volunteer("ann"))
    sheet = client.get("/discovery/sheet/")
    assert f'maxlength="{LIMIT}"' in sheet.content.decode()
    batch = sheet.context["batch"]
    form = {
        "selected": [subjects[0].pk],
        "choice": "new",
        "new_name": "Long_Winded",
        "new_description": "x" * (LIMIT + 1),
    }
    page = client.post(f"/discovery/sheet/{batch.pk}/", form, follow=True)
    assert f"at most {LIMIT} characters ({LIMIT + 1} given)" in page.content.decode()
    assert not ClassProposal.objects.exists()


def test_a_description_the_textarea_let_through_is_counted_as_typed_not_as_sent(cluster):
    """The textarea's maxlength counts a new line as one character; the form sends CRLF."""
    _, subjects = cluster
    client = Client()
    client.force_login(volunteer("ann"))
    batch = client.get("/discovery/sheet/").context["batch"]
    typed = ("y" * 9 + "\n") * (LIMIT // 10 - 1) + "y" * 10
    assert len(typed) == LIMIT
    form = {
        "selected": [subjects[0].pk],
        "choice": "new",
        "new_name": "Many_Lines",
        "new_description": typed.replace("\n", "\r\n"),
    }
    client.post(f"/discovery/sheet/{batch.pk}/", form)
    assert ClassProposal.objects.get().description == typed


def test_the_service_refuses_a_long_description_whoever_calls_it(cluster):
    with pytest.raises(ValidationError) as refused:
        services.class_proposal_create(
            volunteer=volunteer("ann"), name="Long_Winded", description="x" * (LIMIT + 1)
        )
    assert "description" in refused.value.message_dict


def test_a_rejection_note_over_its_column_is_refused_not_a_server_error(cluster, reviewer):
    proposal = services.class_proposal_create(
        volunteer=volunteer("ann"), name="Noted_Class", description="a class"
    )
    client = Client()
    client.force_login(reviewer)
    limit = ProposalEvent._meta.get_field("note").max_length
    url = f"/discovery/proposals/{proposal.pk}/reject/"
    page = client.post(url, {"note": "n" * (limit + 1)}, follow=True)
    assert f"at most {limit} characters" in page.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == ClassProposal.Status.PROPOSED
    client.post(url, {"note": "n" * limit})
    proposal.refresh_from_db()
    assert proposal.status == ClassProposal.Status.REJECTED
    assert proposal.events.last().note == "n" * limit


def test_a_class_description_is_checked_by_the_model_and_the_admin(admin):
    glitch_class = GlitchClass.objects.get(name="Blip")
    glitch_class.description = "x" * (LIMIT + 1)
    with pytest.raises(ValidationError) as refused:
        glitch_class.full_clean()
    assert "description" in refused.value.message_dict
    client = Client()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = f"/admin/labeling/glitchclass/{glitch_class.pk}/change/"
    form = {
        "name": "Blip",
        "description": "x" * (LIMIT + 1),
        "key": glitch_class.key,
        "status": "active",
        "order": glitch_class.order,
        "examples-TOTAL_FORMS": 0,
        "examples-INITIAL_FORMS": 0,
    }
    page = client.post(url, form)
    assert page.status_code == 200  # the form again, with the error; not saved
    assert f"at most {LIMIT} characters" in page.content.decode()
    glitch_class.refresh_from_db()
    assert len(glitch_class.description) < LIMIT


@pytest.mark.parametrize(
    "choice", ["proposal:x", "proposal:", "proposal:99999999999999999999999999", "proposal:-1"]
)
def test_the_cluster_sheet_refuses_a_malformed_proposal_choice_and_says_why(cluster, choice):
    """A hand-made form naming no proposal id was a 500 (int() outside the try)."""
    _, subjects = cluster
    client = Client()
    client.force_login(volunteer("ann"))
    batch = client.get("/discovery/sheet/").context["batch"]
    form = {"selected": [subjects[0].pk], "choice": choice}
    page = client.post(f"/discovery/sheet/{batch.pk}/", form, follow=True)
    assert page.status_code == 200 and "Not saved:" in page.content.decode()
    assert not ProposalVote.objects.exists()
