"""A new class's name that reads as an existing class's (B1ip for Blip) is refused, naming
the class it passes for: the look-alike skeleton Talk's new usernames are held to."""

import pytest
from discovery_factories import volunteer
from django.core.exceptions import ValidationError

from webapp.discovery import services
from webapp.discovery.models import ClassProposal

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name, passes_for",
    [
        ("B1ip", "Blip"),
        ("Koi_F1sh", "Koi_Fish"),
        ("Whist1e", "Whistle"),
        ("K0i_Fish", "Koi_Fish"),
        ("Scattered_L1ght", "Scattered_Light"),
        ("N0TA", "None_of_the_Above"),  # a look-alike of a Gravity Spy nickname of it
        ("Reverse_Chlrp", "Reverse_Chirp"),  # another proposal's name
    ],
)
def test_a_name_that_looks_like_a_class_or_proposal_is_refused_naming_it(name, passes_for):
    """Before: only case, separators and nicknames were folded, so an expert's B1ip and
    Koi_F1sh went through to accepted and the field guide listed Blip and B1ip side by side.
    Now: the name is refused, the message names the class it passes for, nothing is made."""
    services.class_proposal_create(
        volunteer=volunteer("bob"), name="Reverse_Chirp", description="a chirp run backwards"
    )
    with pytest.raises(ValidationError) as refused:
        services.class_proposal_create(volunteer=volunteer("ann"), name=name, description="d")
    why = refused.value.message_dict["name"][0]
    assert f"looks like {passes_for}" in why
    assert list(ClassProposal.objects.values_list("name", flat=True)) == ["Reverse_Chirp"]
