"""Self-training (ml.train.train with pool_samples): a first model labels the unlabelled
pool, its confident guesses join the training set, and the model is trained again."""

from __future__ import annotations

from pathlib import Path

from ml.data import load_samples
from ml.train import TrainConfig, TrainProgress, train
from tests.ml.image_factories import write_glitches


def _config(**changes: object) -> TrainConfig:
    base = TrainConfig(image_size=32, epochs=1, batch_size=8, device="cpu", seed=0,
                       augment=False, sampling="uniform")  # fmt: skip
    return TrainConfig(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def _data(tmp_path: Path) -> tuple[list, list, list]:
    labelled, pool = tmp_path / "labelled", tmp_path / "pool"
    for label in ("Blip", "Whistle"):
        write_glitches(labelled, label, 12)
        write_glitches(pool, label, 6, first=100)
    samples = load_samples(labelled).samples
    unlabelled = [s.__class__(s.id, None, s.paths, s.substituted, s.ifo, "pool")
                  for s in load_samples(pool).samples]  # fmt: skip
    return samples[::2] + samples[1::4], samples[3::4], unlabelled


def test_confident_pool_guesses_join_a_second_fit(tmp_path: Path) -> None:
    train_samples, val_samples, pool = _data(tmp_path)
    events: list[TrainProgress] = []

    result = train(train_samples, val_samples, _config(self_train=0.5), tmp_path / "model",
                   workers=1, progress=events.append, pool_samples=pool)  # fmt: skip

    assert 0 < result.pseudo_labels <= len(pool)  # every guess at >= 0.5 of two classes
    assert (tmp_path / "model" / "teacher" / "best.pt").is_file()  # the first model
    assert (tmp_path / "model" / "best.pt").is_file()  # the one that is used
    done = [e.epoch for e in events if e.epoch_done]
    assert done == [1, 2] and {e.epochs for e in events} == {2}  # one run of 2 x 1 epoch


def test_no_pool_or_threshold_zero_trains_once(tmp_path: Path) -> None:
    train_samples, val_samples, pool = _data(tmp_path)

    off = train(train_samples, val_samples, _config(self_train=0.0), tmp_path / "off",
                workers=1, pool_samples=pool)  # fmt: skip
    no_pool = train(train_samples, val_samples, _config(), tmp_path / "plain", workers=1)

    assert off.pseudo_labels == 0 and no_pool.pseudo_labels == 0
    assert not (tmp_path / "off" / "teacher").exists()
    assert not (tmp_path / "plain" / "teacher").exists()
