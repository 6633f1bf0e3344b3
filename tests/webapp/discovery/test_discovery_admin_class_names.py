"""A class or proposal added or renamed in the admin is held to a volunteer's proposal's
rules (services.class_name_check): the admin's forms took any name, B1ip beside Blip."""

import pytest
from discovery_factories import volunteer
from django.contrib.auth.models import User
from django.test import Client

from webapp.discovery import services
from webapp.discovery.models import ClassProposal
from webapp.labeling.models import GlitchClass

pytestmark = pytest.mark.django_db

NO_EXAMPLES = {"examples-TOTAL_FORMS": "0", "examples-INITIAL_FORMS": "0"}


def proposal_form(name: str, description: str = "d", proposal: ClassProposal | None = None):
    """The admin's proposal form, with its history inline (read only) as the page sends it."""
    events = list(proposal.events.all()) if proposal is not None else []
    form = {"name": name, "description": description}
    form |= {"events-TOTAL_FORMS": str(len(events)), "events-INITIAL_FORMS": str(len(events))}
    for i, event in enumerate(events):
        form |= {f"events-{i}-id": str(event.pk), f"events-{i}-proposal": str(event.proposal_id)}
    return form


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    return client


def glitch_class_form(glitch_class: GlitchClass | None = None, **changed) -> dict:
    form = {"name": "", "description": "", "tell_apart": "", "status": "active", "order": "99"}
    if glitch_class is not None:
        form |= {
            "name": glitch_class.name,
            "description": glitch_class.description,
            "status": glitch_class.status,
            "order": str(glitch_class.order),
            "key": glitch_class.key or "",
        }
    return {**form, **NO_EXAMPLES, **changed}


def test_the_admin_cannot_add_or_rename_a_class_to_a_look_alike(admin_client):
    """Before: the admin's class form took B1ip beside Blip, and Koi_F1sh as a rename.
    Now: refused naming the class it passes for; nothing is made or renamed. A class whose
    name stays (1080Lines, older than the rule) is saved as before."""
    answer = admin_client.post("/admin/labeling/glitchclass/add/", glitch_class_form(name="B1ip"))
    assert answer.status_code == 200 and "B1ip looks like Blip" in answer.content.decode()
    assert not GlitchClass.objects.filter(name="B1ip").exists()

    whistle = GlitchClass.objects.get(name="Whistle")
    url = f"/admin/labeling/glitchclass/{whistle.pk}/change/"
    answer = admin_client.post(url, glitch_class_form(whistle, name="Koi_F1sh"))
    assert answer.status_code == 200 and "Koi_F1sh looks like Koi_Fish" in answer.content.decode()
    assert GlitchClass.objects.filter(pk=whistle.pk, name="Whistle").exists()

    lines = GlitchClass.objects.get(name="1080Lines")
    url = f"/admin/labeling/glitchclass/{lines.pk}/change/"
    answer = admin_client.post(url, glitch_class_form(lines, description="lines at 1080 Hz"))
    assert answer.status_code == 302
    assert GlitchClass.objects.get(pk=lines.pk).description == "lines at 1080 Hz"


def test_the_admin_cannot_add_or_rename_a_proposal_to_a_look_alike(admin_client):
    """Before: the admin's proposal form took Whist1e, a look-alike of Whistle. Now: refused
    naming Whistle, and a proposal renamed to another's look-alike is refused too."""
    answer = admin_client.post("/admin/discovery/classproposal/add/", proposal_form("Whist1e"))
    assert answer.status_code == 200 and "Whist1e looks like Whistle" in answer.content.decode()
    assert not ClassProposal.objects.exists()

    services.class_proposal_create(
        volunteer=volunteer("bob"), name="Reverse_Chirp", description="backwards"
    )
    arch = services.class_proposal_create(volunteer=volunteer("ann"), name="Arch", description="d")
    url = f"/admin/discovery/classproposal/{arch.pk}/change/"
    answer = admin_client.post(url, proposal_form("Reverse_Chlrp", proposal=arch))
    assert answer.status_code == 200
    assert "Reverse_Chlrp looks like Reverse_Chirp" in answer.content.decode()
    answer = admin_client.post(url, proposal_form("Arch", "two arches", proposal=arch))
    assert answer.status_code == 302  # its own name, unchanged
    assert ClassProposal.objects.get(pk=arch.pk).description == "two arches"
