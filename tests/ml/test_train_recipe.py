"""The training recipe for real glitches: augmentation in time only, energy and resolution
jitter, and batches balanced over class and source (simulated vs real)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ml.errors import UserError
from ml.train import augment, batch_indices, sampling_weights

S = 32


def _horizontal_line(n: int, row: int) -> torch.Tensor:
    """(n, 3, S, S) uint8: one bright row (a narrow-band line at one frequency)."""
    images = torch.zeros(n, 3, S, S, dtype=torch.uint8)
    images[:, :, row] = 200
    return images


def _bright_rows(images: torch.Tensor) -> set[int]:
    return {int(r) for r in (images.mean(dim=(1, 3)) > 20).nonzero()[:, 1]}


def test_time_only_augmentation_never_moves_a_line_in_frequency() -> None:
    images = _horizontal_line(64, row=10)
    generator = torch.Generator().manual_seed(0)

    out = augment(images, max_shift=6, max_zoom=0.1, generator=generator, axes="x")
    both = augment(images, max_shift=6, max_zoom=0.1, generator=generator, axes="xy")

    assert _bright_rows(out) == {10}
    assert len(_bright_rows(both)) > 3  # the old x-and-y augmentation moves it (control)


def test_energy_jitter_changes_loudness_but_not_where_energy_is() -> None:
    images = _horizontal_line(32, row=5)
    images[:, :, 20] = 80
    generator = torch.Generator().manual_seed(1)

    out = augment(images, max_shift=0, max_zoom=0.0, generator=generator, energy_jitter=0.5)

    assert out.min() >= 0 and out.max() <= 255
    assert out[:, :, 0].abs().max() == 0  # no energy stays no energy
    line = out[:, 0, 5, S // 2]
    assert line.std() > 5  # the gain and gamma differ from image to image
    assert bool((out[:, :, 5] > out[:, :, 20]).all())  # louder stays louder


def test_resolution_jitter_keeps_the_shape_and_blurs() -> None:
    images = torch.zeros(4, 3, S, S, dtype=torch.uint8)
    images[:, :, :, ::2] = 255  # the finest detail there is: alternate columns
    generator = torch.Generator().manual_seed(2)

    out = augment(images, max_shift=0, max_zoom=0.0, generator=generator, min_resolution=0.5)

    assert out.shape == images.shape
    assert float((out[..., ::2] - out[..., 1::2]).abs().mean()) < 200  # no longer 255 apart


def test_an_unknown_axis_is_a_user_error() -> None:
    with pytest.raises(UserError, match="augment_axes"):
        augment(_horizontal_line(2, 1), max_shift=1, max_zoom=0, generator=torch.Generator(),
                axes="y")  # fmt: skip


def test_class_source_sampling_gives_each_class_and_each_source_in_it_equal_shares() -> None:
    targets = np.array([0] * 90 + [0] * 2 + [1] * 8)
    sources = ["sim"] * 90 + ["real"] * 2 + ["sim"] * 8

    weights = sampling_weights(targets, sources, "class-source")

    assert weights is not None and weights.sum() == pytest.approx(1.0)
    assert weights[:92].sum() == pytest.approx(0.5) and weights[92:].sum() == pytest.approx(0.5)
    assert weights[90:92].sum() == pytest.approx(0.25)  # 2 real Blips weigh as 90 simulated


def test_class_sampling_ignores_the_source_and_uniform_is_a_shuffle() -> None:
    targets = np.array([0, 0, 0, 1])

    weights = sampling_weights(targets, ["a", "a", "b", "a"], "class")

    assert weights is not None and list(weights) == pytest.approx([1 / 6, 1 / 6, 1 / 6, 1 / 2])
    assert sampling_weights(targets, None, "uniform") is None
    assert sampling_weights(np.array([0, 1, 0, 1]), None, "class-source") is None  # balanced
    with pytest.raises(UserError, match="unknown sampling"):
        sampling_weights(targets, None, "by-colour")


def test_weighted_batches_draw_the_rare_real_glitches_as_often_as_the_rest() -> None:
    targets = np.array([0] * 98 + [0] * 2)
    sources = ["sim"] * 98 + ["real"] * 2
    weights = torch.from_numpy(sampling_weights(targets, sources, "class-source")).float()

    batches = batch_indices(4000, 100, weights=weights, generator=torch.Generator().manual_seed(0))

    drawn = torch.cat(batches)
    assert len(batches) == 40
    assert 0.4 < float((drawn >= 98).float().mean()) < 0.6  # half the draws, not 2%


def _middle_of(channel: torch.Tensor, fraction: float) -> torch.Tensor:
    keep = round(S * fraction)
    part = channel[None, None, :, (S - keep) // 2 : (S - keep) // 2 + keep]
    return torch.nn.functional.interpolate(part, size=(S, S), mode="bilinear")[0, 0]


def test_view_dropout_rebuilds_images_as_the_encoder_builds_a_one_view_glitch(tmp_path) -> None:
    from ml.data import sample_of
    from ml.encoding import view_source
    from ml.train import one_view

    # the fractions below are the encoder's: a glitch with only its 4 s view gets its 1 s
    # view from the middle quarter of that file, its 2 s view from the middle half
    only_4s = sample_of("g", "Blip", {4.0: tmp_path / "g_4.0.png"})
    assert view_source(only_4s, 1.0)[1] == 0.25 and view_source(only_4s, 2.0)[1] == 0.5
    only_1s = sample_of("g", "Blip", {1.0: tmp_path / "g_1.0.png"})
    assert view_source(only_1s, 4.0) == (tmp_path / "g_1.0.png", 1.0)

    torch.manual_seed(3)
    images = (torch.rand(200, 3, S, S) * 255).to(torch.uint8)
    out = one_view(images, 0.5, torch.Generator().manual_seed(4))

    r, g, b = (images[:, c].float() for c in range(3))
    kinds = {"untouched": 0, "4s": 0, "2s": 0, "1s": 0, "0.5s": 0}
    for i in range(len(images)):
        candidates = {
            "untouched": images[i].float(),
            "4s": torch.stack([_middle_of(b[i], 0.25), _middle_of(b[i], 0.5), b[i]]),
            "2s": torch.stack([_middle_of(g[i], 0.5), g[i], g[i]]),
            "1s": torch.stack([r[i], r[i], r[i]]),
            "0.5s": torch.stack([_middle_of(r[i], 0.5)] * 3),
        }
        match = [k for k, want in candidates.items() if torch.allclose(out[i], want, atol=1e-3)]
        assert len(match) == 1, (i, match)
        kinds[match[0]] += 1
    assert 70 < kinds["untouched"] < 130  # about half chosen
    assert all(kinds[k] > 5 for k in ("4s", "2s", "1s", "0.5s"))  # each kept view drawn


def test_view_dropout_is_part_of_augment_and_off_by_default() -> None:
    images = (torch.rand(64, 3, S, S) * 255).to(torch.uint8)
    same = augment(images, max_shift=0, max_zoom=0.0, generator=torch.Generator().manual_seed(0))
    dropped = augment(images, max_shift=0, max_zoom=0.0, generator=torch.Generator().manual_seed(0),
                      view_dropout=1.0)  # fmt: skip

    assert torch.allclose(same, images.float(), atol=1e-3)
    # every image now has a channel copied from another or cut from one
    copies = (dropped[:, 1] == dropped[:, 2]).flatten(1).all(1) | (
        (dropped[:, 0] == dropped[:, 1]).flatten(1).all(1)
    )
    assert int(copies.sum()) >= 32


def test_pseudo_labels_keep_only_confident_pool_images_with_their_top_class() -> None:
    from ml.train import pseudo_labels

    probs = np.array([[0.95, 0.05], [0.6, 0.4], [0.02, 0.98], [0.5, 0.5]])

    keep, labels = pseudo_labels(probs, ["Blip", "Whistle"], 0.9)

    assert keep.tolist() == [0, 2] and labels == ["Blip", "Whistle"]
    assert pseudo_labels(probs, ["Blip", "Whistle"], 0.99)[0].size == 0
    with pytest.raises(UserError, match="threshold"):
        pseudo_labels(probs, ["Blip", "Whistle"], 0.0)
