"""An accepted class's first field-guide example comes from its most agreed gold glitch,
every view of it, marked simulated when the glitch came from the simulator."""

import pytest
from test_discovery_lifecycle import agree, proposed_from_batch

from webapp.discovery import services
from webapp.labeling.models import GlitchClass, Subject

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("source", "simulated"), [("demo-pool", True), ("real-set", False)])
def test_the_accepted_class_gets_an_example_marked_by_its_source(
    cluster, reviewer, admin, settings, source, simulated
):
    settings.GLITCHLAB_SIMULATED_SOURCES = ["demo-pool"]
    _, subjects = cluster
    Subject.objects.filter(pk__in=[s.pk for s in subjects]).update(source=source)
    proposal, _ = proposed_from_batch(subjects)
    agree(proposal, ["bea", "cy"])
    services.class_proposal_make_provisional(actor=reviewer, proposal_id=proposal.pk)
    services.class_proposal_accept(actor=admin, proposal_id=proposal.pk)
    examples = GlitchClass.objects.get(name="Reverse_Chirp").examples.all()
    assert examples.count() == 1  # the one view these glitches have
    assert examples.get().simulated is simulated and examples.get().primary
    assert examples.get().glitch_id.startswith("subject-")
