"""The view ensemble: a glitch's prediction and embedding averaged over the glitch whole and
each of its views alone (ml.views), in any batch size; a one-view glitch averaged over the
durations its view could have."""

from pathlib import Path

import numpy as np
import pytest
import torch

from ml.backbones import build_backbone
from ml.data import sample_of
from ml.embed import embed
from ml.model import (
    GlitchNet,
    load_model,
    make_checkpoint,
    predict_and_embed,
    predict_proba,
    save_checkpoint,
    views_of,
)
from ml.views import as_one_view, duration_hypotheses, view_mean

S = 32
FOUR = (0.5, 1.0, 2.0, 4.0)


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, S, S), dtype=np.uint8)


def channel_means(x: torch.Tensor) -> torch.Tensor:
    return x.float().mean((2, 3))


def test_view_mean_averages_the_glitch_and_each_of_its_views_alone() -> None:
    x = torch.from_numpy(images(4))
    present = [FOUR, (1.0, 4.0), (2.0,), ()]  # four views, two, one, a file without duration

    out = view_mean(channel_means, x, present)

    whole = channel_means(x)
    four = [channel_means(as_one_view(x[:1], d))[0] for d in FOUR]
    torch.testing.assert_close(out[0], (whole[0] + sum(four)) / 5)
    two = [channel_means(as_one_view(x[1:2], d))[0] for d in (1.0, 4.0)]
    torch.testing.assert_close(out[1], (whole[1] + sum(two)) / 3)
    # one view, dated or not: the mean over the durations it could have, from its B channel
    lone = sum(w * channel_means(h) for h, w in duration_hypotheses(x[2:]))
    torch.testing.assert_close(out[2:], lone)
    assert not torch.allclose(out, whole)


def test_duration_hypotheses_are_the_encoders_one_view_glitches() -> None:
    x = torch.from_numpy(images(2)).float()
    view = x[:, 2]  # the B channel: the view whole, whatever its duration
    forms = duration_hypotheses(x)
    (four, w4), (two, w2), (copies, w1) = forms

    # each of 4, 2, 1 and 0.5 s equally likely: 1 s and 0.5 s share the R = G = B copy
    assert (w4, w2, w1) == (0.25, 0.25, 0.5)
    assert torch.equal(four[:, 2], view) and torch.equal(two[:, 1], view)
    assert torch.equal(four, as_one_view(torch.stack([view] * 3, 1), 4.0))
    assert torch.equal(two, as_one_view(torch.stack([view] * 3, 1), 2.0))
    assert torch.equal(copies, as_one_view(torch.stack([view] * 3, 1), 1.0))
    assert all(torch.equal(copies[:, c], view) for c in range(3))
    assert not torch.equal(four[:, 0], view)  # 4 s: R is its middle quarter, stretched
    # R and G of the input play no part: only the view itself is known
    other = x.clone()
    other[:, :2] = 0
    assert all(
        torch.equal(a, b) and wa == wb
        for (a, wa), (b, wb) in zip(duration_hypotheses(other), forms, strict=True)
    )


def test_one_view_rebuilds_follow_the_encoders_rule() -> None:
    x = torch.from_numpy(images(2)).float()
    r, g, b = x[:, 0], x[:, 1], x[:, 2]

    one_second = as_one_view(x, 1.0)
    two_seconds = as_one_view(x, 2.0)
    four_seconds = as_one_view(x, 4.0)

    assert all(torch.equal(one_second[:, c], r) for c in range(3))  # G = B = R
    assert torch.equal(two_seconds[:, 1], g) and torch.equal(two_seconds[:, 2], g)
    assert torch.equal(four_seconds[:, 2], b)
    # the shorter views are cut from the middle in time: the outer columns are gone
    edges = torch.zeros(1, 3, S, S).index_fill_(3, torch.tensor([0, S - 1]), 255)
    assert float(as_one_view(edges, 0.5).max()) == 0.0
    assert float(as_one_view(edges, 4.0)[:, :2].max()) == 0.0 < float(edges[:, 2].max())
    with pytest.raises(ValueError, match="no view of 3.0 s"):
        as_one_view(x, 3.0)


def _model(tmp_path: Path, encoding: str = "rgb-durations", **trained_with: object):
    torch.manual_seed(0)
    extractor, _ = build_backbone("efficientnet_lite0")
    net = GlitchNet(extractor, num_classes=3)
    config = {
        "backbone": "efficientnet_lite0",
        "image_size": S,
        "encoding": encoding,
        "view_dropout": 0.3,
        **trained_with,
    }
    checkpoint = make_checkpoint(
        net, epoch=1, config=config, class_names=["Blip", "Whistle", "Tomte"], metrics={}
    )
    save_checkpoint(checkpoint, tmp_path / "best.pt")
    return load_model(tmp_path, device="cpu", bf16=False)


def test_predictions_and_embeddings_take_the_ensemble_in_any_batch_size(tmp_path: Path) -> None:
    model = _model(tmp_path)
    x = images(5)
    samples = [
        sample_of("a", None, {d: tmp_path / f"a_{d}.png" for d in FOUR}),
        sample_of("b", None, {0.5: tmp_path / "b_0.5.png"}),
        sample_of("c", None, {1.0: tmp_path / "c_1.png", 4.0: tmp_path / "c_4.png"}),
        sample_of("d", None, {2.0: tmp_path / "d_2.png"}),
        sample_of("e", None, {d: tmp_path / f"e_{d}.png" for d in FOUR}),
    ]
    views = views_of(samples)
    assert views == [FOUR, (0.5,), (1.0, 4.0), (2.0,), FOUR]

    plain = predict_proba(model, x)
    ensemble = predict_proba(model, x, views=views, batch_size=2)

    np.testing.assert_allclose(ensemble, predict_proba(model, x, views=views), atol=1e-5)
    np.testing.assert_allclose(ensemble.sum(1), 1.0, atol=1e-5)
    for i in (1, 3):  # one view each: the mean over the durations it could have
        forms = duration_hypotheses(torch.from_numpy(x[i : i + 1]))
        lone = sum(w * predict_proba(model, h) for h, w in forms)
        np.testing.assert_allclose(ensemble[i], lone[0], atol=1e-5)
    alone = [predict_proba(model, as_one_view(torch.from_numpy(x[:1]), d)) for d in FOUR]
    np.testing.assert_allclose(ensemble[0], (plain[0] + sum(alone)[0]) / 5, atol=1e-5)
    assert np.abs(ensemble - plain).max(axis=1).min() > 1e-4  # every glitch is averaged

    vectors = embed(model, x, views=views, batch_size=3)
    plain_vectors = embed(model, x)
    lone_vectors = sum(
        w * embed(model, h) for h, w in duration_hypotheses(torch.from_numpy(x[1:2]))
    )
    np.testing.assert_allclose(vectors[1], lone_vectors[0], rtol=1e-4, atol=1e-4)
    assert np.abs(vectors[0] - plain_vectors[0]).max() > 1e-4
    with pytest.raises(ValueError, match="4 sets of views for 5 images"):
        predict_proba(model, x, views=views[:4])


def test_one_pass_gives_what_the_two_calls_give(tmp_path: Path) -> None:
    model = _model(tmp_path)
    x = images(5)
    views = [FOUR, (0.5,), (1.0, 4.0), (2.0,), FOUR]

    for given in (None, views):
        probs, vectors = predict_and_embed(model, x, views=given, batch_size=2)

        np.testing.assert_allclose(probs, predict_proba(model, x, views=given), atol=1e-5)
        np.testing.assert_allclose(vectors, embed(model, x, views=given), rtol=1e-4, atol=1e-4)
        assert probs.shape == (5, 3) and vectors.shape == (5, 1280)


@pytest.mark.parametrize(
    "trained_with",
    [
        {"encoding": "mosaic"},  # its channels are colours, not views
        {"head_only": True},  # a head fitted on whole glitches' frozen features
        {"view_dropout": 0.0},  # never shown a one-view rebuild
        {},  # a model saved before view dropout existed
    ],
)
def test_models_never_shown_one_view_rebuilds_take_no_ensemble(
    tmp_path: Path, trained_with: dict
) -> None:
    if not trained_with:
        model = _model(tmp_path)
        model.config.pop("view_dropout")
    else:
        model = _model(tmp_path, **trained_with)
    x = images(2)

    same = predict_proba(model, x, views=[FOUR, FOUR])

    np.testing.assert_allclose(same, predict_proba(model, x), atol=1e-6)


def test_bare_extractors_take_no_ensemble() -> None:
    x = images(2)
    extractor, _ = build_backbone("efficientnet_lite0")
    with pytest.raises(ValueError, match="needs a trained model"):
        embed(extractor, x, views=[FOUR, FOUR])
