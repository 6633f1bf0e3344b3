"""Deprecating a class moves all its labels to another one: the admin must choose which.
The page's list starts on no class, and a deprecation with none chosen is refused."""

import pytest
from discovery_factories import accepted_class
from django.test import Client
from page_messages import said

from webapp.discovery.models import ClassProposal
from webapp.labeling.models import Classification, Subject
from webapp.review.models import LabelChange

pytestmark = pytest.mark.django_db


def test_the_class_to_move_labels_to_starts_unchosen_and_must_be_chosen(reviewer, admin):
    """Before: the list started on its first class (1080Lines), so one click on Deprecate
    moved every label of B1ip to a class the admin never chose. Now: its first entry is
    "choose a class…" (required), and a post with none chosen is refused saying so, with
    nothing changed."""
    proposal = accepted_class("Arch", reviewer=reviewer, admin=admin, votes=2, gold=1)
    client = Client()
    client.force_login(admin)
    page = client.get("/discovery/").content.decode()
    assert '<select name="remap_to" required' in page
    assert '<option value="" selected>choose a class…</option>' in page

    for form in ({"remap_to": ""}, {}):
        answer = client.post(f"/discovery/proposals/{proposal.pk}/deprecate/", form, follow=True)
        assert said(answer) == [("error", "Not done: choose the class Arch's labels move to.")]
    assert ClassProposal.objects.get(pk=proposal.pk).status == ClassProposal.Status.ACCEPTED
    assert set(Classification.objects.values_list("glitch_class__name", flat=True)) == {"Arch"}
    assert Subject.objects.filter(gold_label__name="Arch").count() == 1
    assert not LabelChange.objects.exists()
