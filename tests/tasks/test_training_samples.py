"""What a retrain trains on is what bench/real.py measured: simulated against real glitches
balanced within each class (not one import against another), and a file of unknown duration
read as one view, as ml.data reads a folder."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from glitch_data import glitch_png, make_subject

from ml.data import DURATIONS, load_samples
from ml.model import views_of
from ml.train import sampling_weights
from tasks.common import to_samples
from webapp.labeling.models import Subject
from webapp.modeling import selectors

pytestmark = pytest.mark.django_db


def _gold_blip(source: str, rng: np.random.Generator) -> Subject:
    subject = make_subject("Blip", role=Subject.Role.GOLD, rng=rng)
    subject.source = source
    subject.save(update_fields=["source"])
    return subject


def test_a_retrain_balances_simulated_against_real_glitches_not_imports(tiny_settings) -> None:
    tiny_settings.GLITCHLAB_SIMULATED_SOURCES = ["demo-gold", "demo-pool"]
    rng = np.random.default_rng(0)
    # the demo's simulations come as two imports, the real Blips as an archive and a
    # golden example imported alone
    for source in ["demo-gold"] * 4 + ["demo-pool"] * 4 + ["gravityspy"] * 5 + ["golden"]:
        _gold_blip(source, rng)

    train, _ = selectors.training_data()
    samples = to_samples(train)

    assert Counter(s.source for s in samples) == {"simulated": 8, "real": 6}
    draws = sampling_weights(np.zeros(len(samples), dtype=int), [s.source for s in samples],
                             "class-source")  # fmt: skip
    real = np.array([s.source == "real" for s in samples])
    assert draws[real].sum() == pytest.approx(draws.sum() / 2)
    # the golden Blip is one real Blip of six, not a source with a third of Blip's draws
    assert draws[real] == pytest.approx(np.full(6, draws[real][0]))


def test_a_file_of_unknown_duration_trains_and_scores_as_one_view(tiny_settings, tmp_path) -> None:
    folder = tmp_path / "golden" / "Blip"
    folder.mkdir(parents=True)
    (folder / "golden-Blip.png").write_bytes(glitch_png("Blip", np.random.default_rng(1)))
    (folder / "H1_dated_1.0.png").write_bytes(glitch_png("Blip", np.random.default_rng(2)))
    call_command("import_glitches", str(tmp_path / "golden"), "--role", "gold",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip

    train, _ = selectors.training_data()
    by_id = {Subject.objects.get(pk=int(s.id)).external_id: s for s in to_samples(train)}
    read = {s.id: s for s in load_samples([tmp_path / "golden"]).samples}

    assert set(by_id) == set(read) == {"golden-Blip", "H1_dated"}
    for glitch_id, sample in by_id.items():
        # the same views as ml.data gives the file, so the view ensemble averages the same
        assert sample.views().keys() == read[glitch_id].views().keys()
        assert sample.substituted == read[glitch_id].substituted
    undated = by_id["golden-Blip"]
    assert undated.substituted == DURATIONS and views_of([undated]) == [()]
    assert Path(undated.paths[1.0]).read_bytes() == (folder / "golden-Blip.png").read_bytes()
