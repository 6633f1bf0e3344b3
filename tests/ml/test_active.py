"""ml.active: uncertainty, the labelling order (uncertainty + diversity), level routing."""

import numpy as np
import pytest

from ml.active import (
    experience_of_level,
    project_embeddings,
    rank_for_labelling,
    route_levels,
    uncertainty,
)


def test_uncertainty_measures():
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    assert uncertainty(probs, "margin") == pytest.approx([0.0, 1.0, 1.0])
    assert uncertainty(probs, "entropy") == pytest.approx([0.0, np.log(2) / np.log(3), 1.0])
    assert uncertainty(probs, "least_confident") == pytest.approx([0.0, 0.5, 2 / 3])


def test_learners_get_the_most_uncertain_first_beginners_the_most_confident():
    probs = np.array([[0.9, 0.1], [0.55, 0.45], [0.99, 0.01], [0.7, 0.3]])
    unsure_first, _ = rank_for_labelling(probs, uncertainty_weight=1.0)
    sure_first, _ = rank_for_labelling(probs, uncertainty_weight=0.0)
    assert list(unsure_first) == [1, 3, 0, 2]
    assert list(sure_first) == [2, 0, 3, 1]


def test_diversity_spreads_the_first_picks_over_the_embedding():
    rng = np.random.default_rng(0)
    # Cluster A holds the slightly more uncertain glitches; B is far away on the embedding.
    probs = np.array([[0.52, 0.48]] * 10 + [[0.56, 0.44]] * 10)
    emb = np.vstack([rng.normal(0, 0.01, (10, 8)) + 5, rng.normal(0, 0.01, (10, 8)) - 5])
    plain, _ = rank_for_labelling(probs, emb, diversity=0.0)
    mixed, _ = rank_for_labelling(probs, emb, diversity=0.5, n_diverse=4)
    assert set(plain[:2]) <= set(range(10))  # both from cluster A
    assert {int(i) >= 10 for i in mixed[:2]} == {False, True}  # one from each cluster
    assert sorted(mixed) == list(range(20))  # still a permutation


def test_routing_follows_gravity_spys_levels():
    levels = [["Blip", "Whistle"], ["Koi_Fish"], ["Chirp"]]
    names = ["Blip", "Koi_Fish", "Chirp", "None_of_the_Above"]
    probs = np.array(
        [
            [0.95, 0.03, 0.01, 0.01],  # confident Blip -> level 1
            [0.02, 0.96, 0.01, 0.01],  # confident Koi_Fish -> level 2
            [0.5, 0.45, 0.03, 0.02],  # Blip or Koi_Fish? -> above level 2 -> 3
            [0.4, 0.0, 0.0, 0.6],  # unknown class -> the top level
        ]
    )
    assert list(route_levels(probs, names, levels, confidence=0.9)) == [1, 2, 3, 3]


def test_experience_grows_with_level():
    assert [experience_of_level(level, 5) for level in (1, 3, 5)] == [0.0, 0.5, 1.0]


def test_projected_embeddings_are_small_normalised_and_reproducible():
    x = np.random.default_rng(1).normal(size=(5, 1280)).astype(np.float32)
    a, b = project_embeddings(x), project_embeddings(x)
    assert a.shape == (5, 64) and np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)
