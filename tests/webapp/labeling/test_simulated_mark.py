"""A simulated glitch says so wherever its metadata show: its detector, GPS time, date,
frequencies and SNR are the simulation's, and without a mark they read as a LIGO event's."""

import pytest
from django.test import override_settings
from webapp_factories import SubjectFactory, UserFactory, gold_subject

from webapp.labeling.models import Subject

pytestmark = pytest.mark.django_db

MARK = 'data-testid="simulated"'


@override_settings(GLITCHLAB_SIMULATED_SOURCES=["demo-pool"])
def test_a_simulated_glitchs_page_and_api_say_it_is_simulated(client):
    simulated = SubjectFactory(
        source="demo-pool", gps_time=1126259462.4, snr=12.8, status=Subject.Status.RETIRED
    )
    real = SubjectFactory(source="gravityspy", gps_time=1126259462.4, status=Subject.Status.RETIRED)

    page = client.get(f"/subjects/{simulated.pk}/").content.decode()
    assert MARK in page and "Simulated" in page
    assert page.index(MARK) < page.index('data-testid="facts"')  # read before the facts
    assert MARK not in client.get(f"/subjects/{real.pk}/").content.decode()

    client.force_login(UserFactory())
    assert client.get(f"/api/subjects/{simulated.pk}/").json()["simulated"] is True
    assert client.get(f"/api/subjects/{real.pk}/").json()["simulated"] is False


@override_settings(GLITCHLAB_SIMULATED_SOURCES=["demo-gold"])
def test_before_a_vote_simulated_is_hidden_like_the_source(client):
    """Real pool glitches beside simulated gold: the mark would tell gold from pool."""
    gold = gold_subject("Blip", source="demo-gold", gps_time=1126259462.4)
    client.force_login(UserFactory())
    assert client.get(f"/api/subjects/{gold.pk}/").json()["simulated"] is None
    assert MARK not in client.get(f"/subjects/{gold.pk}/").content.decode()
