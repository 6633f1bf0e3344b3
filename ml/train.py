"""Fine-tune an ImageNet CNN on labelled glitch images (or fit a head-only probe), as in the paper.

Images arrive already decoded: the uint8 (N, 3, S, S) array of ml.encoding.encode_samples.
It stays in memory for the whole run (on the GPU when it fits, 8,500 x 3 x 224 x 224 is
1.3 GB), so an epoch never touches a PNG and needs no DataLoader workers; augmentation
(random shifts and zoom) runs batched on the same device.

Entry points: `train` (from Samples), `fit` (from arrays), `split_samples` / `stratified_split`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import random
import shutil
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ml.classes import CANONICAL_NAMES
from ml.data import SIMULATED_SOURCE
from ml.errors import UserError
from ml.files import atomic_write, ml_source_digest
from ml.model import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    SIM_ONLY_DIR,
    GlitchNet,
    LoadedModel,
    autocast,
    bf16_supported,
    build_glitchnet,
    load_model,
    make_checkpoint,
    place,
    predict_proba,
    remove_checkpoint_leftovers,
    resolve_device,
    run_batched,
    save_checkpoint,
    views_of,
)
from ml.train_config import AUTO_SIM_ONLY_WEIGHT
from ml.train_config import TrainConfig as TrainConfig  # its home: no torch
from ml.views import ONE_VIEW_DURATIONS, as_one_view

_logger = logging.getLogger(__name__)

OPTIMIZERS = ("adamw", "adam", "adagrad")
# How batches are drawn: "uniform" shuffles the training set; "class" gives every class the
# same probability; "class-source" also splits each class's share equally between its
# sources (e.g. simulated and real), so that where an image comes from says nothing about
# its class (without it, real-looking texture alone predicts the few real-rich classes).
SAMPLINGS = ("uniform", "class", "class-source")


@dataclass(frozen=True)
class TrainProgress:
    """What a progress callback receives: during an epoch and once at its end."""

    epoch: int  # 1-based epoch being trained
    epochs: int  # total epochs
    step: int  # steps done in this epoch
    steps: int  # steps per epoch
    loss: float  # mean training loss of this epoch so far
    images_per_second: float  # training throughput of this epoch so far
    metrics: dict[str, float] = field(default_factory=dict)  # last finished epoch's validation
    epoch_done: bool = False  # True on the event sent after validation of `epoch`
    # Not a step when set: a line for the run's log (a last.pt that did not load, moved aside)
    note: str = ""


ProgressCallback = Callable[[TrainProgress], None]
CancelCheck = Callable[[], bool]


@dataclass
class TrainResult:
    model_dir: Path  # holds best.pt, last.pt, metrics.json, history.json, confusion.png
    best_epoch: int  # 0 when cancelled before the first epoch ended
    metrics: dict[str, Any]  # the content of metrics.json (evaluation of best.pt on validation)
    history: list[dict[str, float]]  # one row per finished epoch
    cancelled: bool  # should_cancel() returned True
    seconds: float  # wall time of this fit() call only: a resumed run's last attempt
    images_per_second: float  # mean training throughput (augmentation + forward + backward)
    pseudo_labels: int = 0  # unlabelled pool glitches self-training added (ml.train.train)
    # ids of the glitches ml.train.train left out: a file of theirs did not decode
    undecodable: list[str] = field(default_factory=list)
    resumed_after: int = 0  # epochs last.pt held when this call resumed (0: from the start)

    @property
    def train_seconds(self) -> float:
        """The training time of the model's epochs (history.json's `seconds`), those of
        earlier attempts included: what a run reports. A run retried three times trained for
        the sum of its attempts, not for the last one's `seconds`."""
        return float(sum(row["seconds"] for row in self.history))


# ---------------------------------------------------------------- splitting


def stratified_split(
    labels: Sequence[str | None],
    val_fraction: float,
    seed: int = 0,
    sources: Sequence[str] | None = None,
) -> tuple[list[int], list[int]]:
    """Indices (train, val): round(n * val_fraction) of each class go to val, at most n - 1.

    With sources (e.g. the --data root of each sample), each class's sources are split
    apart: the simulated and the real glitches of a class each give their share, and a
    class's only real glitch (a golden example) stays in training. A class, or a class's
    source, with one sample stays in training. Deterministic for a given seed, and each
    (class, source) group is shuffled by its own generator (seeded by the seed and the group),
    so glitches added to one group move no glitch of another: `ml train` run again with
    more real glitches splits the simulated ones as before (and may reuse their model).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise UserError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    if sources is not None and len(sources) != len(labels):
        raise ValueError("sources and labels differ in length")
    groups: dict[tuple[str, str], list[int]] = {}
    for i, label in enumerate(labels):
        source = sources[i] if sources is not None else ""
        groups.setdefault((label or "", source), []).append(i)
    train_idx: list[int] = []
    val_idx: list[int] = []
    for key in sorted(groups):
        members = np.array(groups[key])
        group = zlib.crc32("\0".join(key).encode())  # stable across processes (not hash())
        np.random.default_rng([seed, group]).shuffle(members)
        n_val = min(int(round(len(members) * val_fraction)), len(members) - 1)
        val_idx.extend(int(i) for i in members[:n_val])
        train_idx.extend(int(i) for i in members[n_val:])
    return sorted(train_idx), sorted(val_idx)


def split_samples(samples: Sequence[Any], val_fraction: float, seed: int = 0) -> tuple[list, list]:
    """(train, val) lists of Samples, stratified by label and source (see stratified_split)."""
    train_idx, val_idx = stratified_split(
        [s.label for s in samples], val_fraction, seed, [s.source for s in samples]
    )
    return [samples[i] for i in train_idx], [samples[i] for i in val_idx]


def class_names_of(labels: Sequence[str]) -> list[str]:
    """The output classes for these labels: canonical order first, then others sorted."""
    present = set(labels)
    canonical = [n for n in CANONICAL_NAMES if n in present]
    return canonical + sorted(present - set(canonical))


# ---------------------------------------------------------------- augmentation


def augment(
    images: torch.Tensor,
    *,
    max_shift: float,
    max_zoom: float,
    generator: torch.Generator,
    axes: str = "x",
    energy_jitter: float = 0.0,
    min_resolution: float = 1.0,
    view_dropout: float = 0.0,
) -> torch.Tensor:
    """Random views of a batch, one draw per image, on the images' device.

    (B, 3, S, S) uint8 -> (B, 3, S, S) float32 on the 0-255 scale:

    * view_dropout > 0 (rgb-durations only: channels are the 1, 2 and 4 s views): that
      share of the images is rebuilt as ml.encoding builds a glitch of which only one
      view exists (see `one_view`); a third of real glitches come that way, every
      simulated one has all four;
    * the paper's shift (integer pixels, up to `max_shift`) and zoom (a factor in
      [1 - max_zoom, 1 + max_zoom]), along time only for axes="x" (the y axis is log
      frequency: 10 px at 224 px moves a 60 Hz line to 47-76 Hz), or along both for "xy";
      pixels shifted in from outside are 0 (no energy);
    * energy_jitter > 0: each image's energy times a gain and raised to a gamma, both
      drawn from exp(U(-energy_jitter, energy_jitter)) (loudness and colour-scale drift);
    * min_resolution < 1: the batch is shrunk to a scale drawn from [min_resolution, 1]
      and brought back (600x450 renderings, JPEG and resampling blur of real images).
    """
    if axes not in ("x", "xy"):
        raise UserError(f"augment_axes must be 'x' or 'xy', got {axes!r}")
    b, _, h, w = images.shape
    dev = images.device
    if view_dropout > 0:
        images = one_view(images, view_dropout, generator)
    zoom = 1.0 + (torch.rand(b, device=dev, generator=generator) * 2 - 1) * max_zoom
    m = int(max_shift)
    shift = torch.randint(-m, m + 1, (b, 2), device=dev, generator=generator).float()
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0] = 1.0 / zoom
    theta[:, 0, 2] = shift[:, 0] * 2.0 / w
    if axes == "xy":
        theta[:, 1, 1] = 1.0 / zoom
        theta[:, 1, 2] = shift[:, 1] * 2.0 / h
    else:
        theta[:, 1, 1] = 1.0
    grid = F.affine_grid(theta, [b, 3, h, w], align_corners=False)
    out = F.grid_sample(
        images.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    if energy_jitter > 0:
        log_gain, log_gamma = torch.rand(2, b, 1, 1, 1, device=dev, generator=generator) * 2 - 1
        unit = out / 255.0
        unit = unit.clamp_min(0).pow(torch.exp(log_gamma * energy_jitter))
        out = (unit * torch.exp(log_gain * energy_jitter)).clamp(0, 1) * 255.0
    if min_resolution < 1.0:
        scale = float(min_resolution + (1 - min_resolution) * torch.rand(
            (), device=dev, generator=generator
        ))  # fmt: skip
        small = (max(2, round(h * scale)), max(2, round(w * scale)))
        if small != (h, w):
            out = F.interpolate(out, size=small, mode="bilinear", antialias=True)
            out = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)
    return out


def one_view(images: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """rgb-durations images (B, 3, S, S; channels the 1, 2, 4 s views), float32: a random
    `share` of them as if only one view, of 0.5, 1, 2 or 4 s (equally likely), existed
    (ml.views.as_one_view)."""
    out = images.float().clone()
    b = out.shape[0]
    dev = out.device
    chosen = torch.rand(b, device=dev, generator=generator) < share
    kept = torch.randint(0, 4, (b,), device=dev, generator=generator)
    for k, duration in enumerate(ONE_VIEW_DURATIONS):
        rows = torch.nonzero(chosen & (kept == k)).flatten()
        if rows.numel():
            out[rows] = as_one_view(out[rows], duration)
    return out


# ---------------------------------------------------------------- data on the device


class DeviceImages:
    """A uint8 (N, 3, S, S) image set held for training: whole on the GPU when it fits,
    else in pinned host memory with batches copied asynchronously."""

    def __init__(self, images: np.ndarray, device: torch.device) -> None:
        self.device = device
        self.n = int(images.shape[0])
        nbytes = int(np.prod(images.shape))
        self.resident = device.type != "cuda" or nbytes < 0.4 * torch.cuda.mem_get_info(device)[0]
        if device.type == "cuda" and self.resident:
            self.data = torch.empty(tuple(images.shape), dtype=torch.uint8, device=device)
            for start in range(0, self.n, 1024):  # chunked: no second full copy in host memory
                chunk = torch.from_numpy(np.array(images[start : start + 1024]))
                self.data[start : start + len(chunk)].copy_(chunk.pin_memory(), non_blocking=True)
        else:
            host = torch.from_numpy(np.array(images, dtype=np.uint8, copy=True))
            self.data = host.pin_memory() if device.type == "cuda" else host
        self._buffers: list[torch.Tensor] = []
        self._events: list[torch.cuda.Event] = []
        self._turn = 0

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """The images at `index` (a LongTensor on self.device) as a (B, 3, S, S) device tensor."""
        if self.resident:
            return self.data[index]
        # Host gather into one of two pinned buffers, then an async copy; the event stops us
        # overwriting a buffer whose previous copy is still in flight.
        cpu_index = index.cpu()
        if len(self._buffers) < 2:
            shape = (len(cpu_index), *self.data.shape[1:])
            self._buffers = [torch.empty(shape, dtype=torch.uint8).pin_memory() for _ in range(2)]
            self._events = [torch.cuda.Event(), torch.cuda.Event()]
        turn = self._turn
        self._turn ^= 1
        self._events[turn].synchronize()
        buf = self._buffers[turn][: len(cpu_index)]
        torch.index_select(self.data, 0, cpu_index, out=buf)
        out = buf.to(self.device, non_blocking=True)
        self._events[turn].record()
        return out


def sampling_weights(
    targets: np.ndarray, sources: Sequence[str] | None, sampling: str
) -> np.ndarray | None:
    """float64 (N,) probability of drawing each training image under `sampling` (one of
    SAMPLINGS), or None for a plain shuffle ("uniform", or a set already balanced). Sums
    to 1.

    "class": every class drawn equally often. "class-source": within a class, every source
    present equally often too (a class with 800 simulated and 2 real images draws each
    real one 400 times as often as each simulated one). No sources = one source.
    """
    if sampling not in SAMPLINGS:
        raise UserError(f"unknown sampling {sampling!r}; choose from {', '.join(SAMPLINGS)}")
    if sampling == "uniform":
        return None
    classes = [int(t) for t in targets]
    if sampling == "class-source" and sources is not None:
        groups = list(zip(classes, sources, strict=True))
    else:
        groups = [(c, "") for c in classes]
    group_size = Counter(groups)
    groups_per_class = Counter(c for c, _ in group_size)
    weights = np.array([1.0 / (groups_per_class[g[0]] * group_size[g]) for g in groups])
    if np.allclose(weights, weights[0]):
        return None  # already balanced: a shuffle shows every image once per epoch
    return weights / weights.sum()


def batch_indices(
    n: int,
    batch_size: int,
    *,
    weights: torch.Tensor | None,
    generator: torch.Generator,
) -> list[torch.Tensor]:
    """One epoch of n draws as batches (index tensors on the generator's device): a
    permutation, or with `weights` n draws with replacement. Drops a ragged last batch
    unless the set is smaller than one batch, so BatchNorm never sees a batch of one."""
    if weights is not None:
        order = torch.multinomial(weights, n, replacement=True, generator=generator)
    else:
        order = torch.randperm(n, device=generator.device, generator=generator)
    if n <= batch_size:
        return [order]
    steps = n // batch_size
    return list(order[: steps * batch_size].view(steps, batch_size))


# ---------------------------------------------------------------- the loop


def recalibrate_batchnorm(
    module: GlitchNet,
    data: DeviceImages,
    *,
    batch_size: int,
    device: torch.device,
    bf16: bool,
    max_images: int = 2048,
) -> None:
    """Replace the BatchNorm running statistics by those of (up to max_images) training images.

    ImageNet statistics are far from a spectrogram's; without this, eval-mode predictions
    after a short fine-tuning use a blend of the two and can be worse than chance.
    """
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    module.train()
    n = min(data.n, max_images)
    with torch.no_grad(), autocast(device, bf16):
        for start in range(0, n, batch_size):
            index = torch.arange(start, min(n, start + batch_size), device=device)
            if len(index) > 1:
                module.backbone(data.batch(index))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum


def adapt_batchnorm(
    model: LoadedModel, images: np.ndarray, *, batch_size: int = 64, max_images: int = 2048
) -> None:
    """AdaBN: set `model`'s BatchNorm statistics, in place, from unlabelled images of the
    domain it is to classify (the real glitches of a deployment's pool).

    images: uint8 (N, 3, S, S) at the model's image size; up to max_images of them, drawn
    evenly. No labels and no gradient step: only the running means and variances change,
    so a model trained mostly on simulations normalises real glitches by real statistics.
    """
    if len(images) < 2:
        raise UserError(
            f"need at least 2 images to estimate BatchNorm statistics, got {len(images)}"
        )
    if images.shape[-1] != model.image_size:
        raise ValueError(f"images are {images.shape[-1]} px, the model takes {model.image_size}")
    pick = np.linspace(0, len(images) - 1, min(len(images), max_images)).round().astype(int)
    data = DeviceImages(np.asarray(images)[np.unique(pick)], model.device)
    recalibrate_batchnorm(
        model.module, data, batch_size=batch_size, device=model.device, bf16=model.bf16,
        max_images=max_images,
    )  # fmt: skip
    model.module.eval()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(module: GlitchNet, config: TrainConfig) -> torch.optim.Optimizer:
    head = list(module.head.parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in module.parameters() if p.requires_grad and id(p) not in head_ids]
    params = [
        {"params": body, "lr": config.lr},
        {"params": head, "lr": config.lr * config.head_lr_scale},
    ]
    fused = bool(body) and body[0].is_cuda  # one kernel for all parameters
    if config.optimizer == "adamw":
        return torch.optim.AdamW(
            params, lr=config.lr, weight_decay=config.weight_decay, fused=fused
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)
    raise UserError(f"unknown optimizer {config.optimizer!r}; choose from {', '.join(OPTIMIZERS)}")


def lr_factor(step: int, total: int, warmup_fraction: float) -> float:
    """Linear warmup over warmup_fraction of the steps, then cosine decay to 0."""
    warmup = int(total * warmup_fraction)
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _label_indices(labels: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    """Label -> output index; -1 for a label the model does not know."""
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index.get(label, -1) for label in labels], dtype=np.int64)


def _validate(
    module: GlitchNet,
    images: np.ndarray | torch.Tensor,
    targets: np.ndarray,
    *,
    device: torch.device,
    bf16: bool,
    batch_size: int,
) -> tuple[dict[str, float], np.ndarray]:
    """(val_loss, val_top1) and the (N, C) float32 probabilities; unknown labels are errors."""
    module.eval()
    logits = run_batched(module, images, device=device, bf16=bf16, batch_size=batch_size)
    known = targets >= 0
    logit_t = torch.from_numpy(logits)
    loss = (
        float(F.cross_entropy(logit_t[known], torch.from_numpy(targets[known])))
        if known.any()
        else float("nan")
    )
    top1 = float((logits.argmax(1) == targets).mean())
    probs = torch.softmax(logit_t, dim=1).numpy()
    return {"val_loss": loss, "val_top1": top1}, probs


def _is_better(new: Mapping[str, float], best: Mapping[str, float] | None) -> bool:
    """Higher validation top-1 wins; on a tie the lower validation loss."""
    if best is None:
        return True
    if new["val_top1"] != best["val_top1"]:
        return new["val_top1"] > best["val_top1"]
    return new["val_loss"] < best["val_loss"]


def _throttled(should_cancel: CancelCheck | None, every_s: float = 0.5) -> CancelCheck:
    """should_cancel called at most every `every_s` seconds (it may query a database)."""
    last = [0.0]

    def check() -> bool:
        if should_cancel is None:
            return False
        now = time.monotonic()
        if now - last[0] < every_s:
            return False
        last[0] = now
        return bool(should_cancel())

    return check


def pseudo_labels(
    probs: np.ndarray, names: Sequence[str], threshold: float
) -> tuple[np.ndarray, list[str]]:
    """Self-training's choice from an unlabelled pool: (indices, labels) of the pool images
    whose top class has probability >= threshold. probs is (N, C) over `names`."""
    if not 0.0 < threshold <= 1.0:
        raise UserError(f"the pseudo-label threshold must be in (0, 1], got {threshold}")
    top = probs.argmax(1)
    keep = np.flatnonzero(probs[np.arange(len(probs)), top] >= threshold)
    return keep, [names[int(top[i])] for i in keep]


def fit(
    train_images: np.ndarray,
    train_labels: Sequence[str],
    val_images: np.ndarray | None,
    val_labels: Sequence[str] | None,
    config: TrainConfig,
    out_dir: str | Path,
    *,
    class_names: Sequence[str] | None = None,
    val_ids: Sequence[str] | None = None,
    val_files: Sequence[Sequence[str]] | None = None,
    val_views: Sequence[Collection[float]] | None = None,
    sources: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a GlitchNet on uint8 (N, 3, S, S) images with string labels; write MODEL_DIR.

    class_names fixes the output classes (default: the training labels, canonical order).
    sources names where each training image comes from (e.g. "sim", "real"; default: one
    source), for config.sampling="class-source".
    Validation labels the model does not know count as errors. Each epoch writes last.pt
    and, when validation improves (top-1, then loss), best.pt; at the end metrics.json
    (ml.evaluate report of best.pt on validation, as the view ensemble predicts when
    val_views gives each validation glitch's views; the epochs' val_top1 in history.json
    are from the whole glitch alone), history.json and confusion.png.
    progress gets a TrainProgress every few steps and after each epoch; should_cancel is
    polled (at most twice a second) and stops the run after the current step, keeping the
    checkpoints written so far. Without validation data the last epoch is the best.
    resume=True continues from MODEL_DIR's last.pt when there is one (the same config and
    classes; see RESUMABLE_CHANGES): after its epoch, with its optimiser state, lr schedule,
    random stream and history, so a lost or cancelled run loses at most one epoch; the
    temporary file of a checkpoint write it was killed in goes, with a note to `progress`.
    """
    started = time.perf_counter()
    if config.sim_only_weight is None:  # one network here: averaging one in is train()'s
        config = replace(config, sim_only_weight=0.0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if resume:  # nothing else trains into `out` now
        for path, size in remove_checkpoint_leftovers(out):
            if progress is not None:
                progress(
                    TrainProgress(0, config.epochs, 0, 0, float("nan"), 0.0,
                                  note=f"removed {path} ({size / 1e6:.0f} MB): a checkpoint "
                                  "write cut short when the run was stopped")
                )  # fmt: skip
    _check_config(config, train_images)
    if len(train_labels) != len(train_images):
        raise ValueError("train_images and train_labels differ in length")
    names = list(class_names) if class_names is not None else class_names_of(train_labels)
    train_targets = _label_indices(train_labels, names)
    if (train_targets < 0).any():
        raise UserError("training labels outside class_names")
    if sources is not None and len(sources) != len(train_labels):
        raise ValueError("sources and train_labels differ in length")
    draw = sampling_weights(train_targets, sources, config.sampling)
    has_val = val_images is not None and val_labels is not None and len(val_labels) > 0
    val_targets = _label_indices(val_labels, names) if has_val and val_labels else None

    seed_everything(config.seed)
    device = resolve_device(config.device)
    bf16 = _use_bf16(config, device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = config.cudnn_benchmark
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    module = build_glitchnet(
        config.backbone,
        len(names),
        pretrained=config.pretrained,
        weights_path=config.weights_path,
        dropout=config.dropout,
    )
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = config.bn_momentum
    module = place(module, device, channels_last=config.channels_last and bf16)

    if config.head_only:
        return _fit_head_only(
            module, names, train_images, train_targets, val_images, val_targets, config, out,
            device=device, bf16=bf16, val_labels=val_labels, val_ids=val_ids,
            val_files=val_files, val_views=val_views, progress=progress, started=started,
            sample_weight=draw,
        )  # fmt: skip

    loop = _start_loop(module, train_images, train_targets, draw, config, device, bf16)
    resumed = resume and _resume(loop, out / LAST_CHECKPOINT, names, progress)
    resumed_after = len(loop.history)  # 0 unless resumed
    if config.recalibrate_bn and not resumed:  # a resumed run has its statistics
        recalibrate_batchnorm(
            loop.module, loop.data, batch_size=config.batch_size, device=device, bf16=bf16
        )
    cancel = _throttled(should_cancel)
    cancelled = False
    for epoch in range(len(loop.history) + 1, config.epochs + 1):
        row = train_one_epoch(loop, epoch, progress=progress, cancel=cancel)
        if row is None:
            cancelled = True
            break
        if has_val and val_images is not None and val_targets is not None:
            val_metrics, _ = _validate(
                loop.module, val_images, val_targets,
                device=device, bf16=bf16, batch_size=config.eval_batch_size,
            )  # fmt: skip
        else:
            val_metrics = {"val_loss": row["train_loss"], "val_top1": float("nan")}
        row.update(val_metrics)
        _end_epoch(loop, epoch, row, improved=not has_val or _is_better(val_metrics, loop.best),
                   out=out, names=names)  # fmt: skip
        if progress is not None:
            steps = _steps_per_epoch(loop.data.n, config.batch_size)
            progress(
                TrainProgress(epoch, config.epochs, steps, steps, row["train_loss"],
                              row["images_per_second"], _shown(row), epoch_done=True)
            )  # fmt: skip

    metrics: dict[str, Any] = {}
    if loop.best_epoch:
        metrics = _finish(
            out, device=device, val_images=val_images if has_val else None,
            val_labels=val_labels, val_ids=val_ids, val_files=val_files, val_views=val_views,
            batch_size=config.eval_batch_size, best_epoch=loop.best_epoch, history=loop.history,
        )  # fmt: skip
    return TrainResult(
        model_dir=out,
        best_epoch=loop.best_epoch,
        metrics=metrics,
        history=loop.history,
        cancelled=cancelled,
        seconds=time.perf_counter() - started,
        images_per_second=_throughput(loop.history),
        resumed_after=resumed_after,
    )


def _throughput(history: Sequence[dict[str, Any]]) -> float:
    """Images per second over the run's epochs, those before a resume included: a run
    retried after its last epoch (it failed later, at the gate) trains none in this call."""
    seconds = sum(row["seconds"] for row in history)
    if not seconds:
        return 0.0
    return sum(row["images_per_second"] * row["seconds"] for row in history) / seconds


# ---------------------------------------------------------------- fine-tuning, epoch by epoch


@dataclass
class _Loop:
    """What fine-tuning carries from one epoch to the next; last.pt saves it to resume."""

    module: GlitchNet
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    generator: torch.Generator  # batch order and augmentation
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # one optimiser step -> loss
    data: DeviceImages
    targets: torch.Tensor  # (N,) int64 class indices on the device
    weights: torch.Tensor | None  # (N,) draw probabilities (config.sampling), None: shuffle
    config: TrainConfig
    device: torch.device
    bf16: bool
    history: list[dict[str, float]] = field(default_factory=list)  # a row per finished epoch
    best: dict[str, float] | None = None  # validation metrics of best.pt
    best_epoch: int = 0


# TrainConfig fields a resumed run may change: where and how fast it runs, not what this
# network learns (sim_only_weight picks a second network beside it; a run saved before the
# field existed resumes as one without it).
RESUMABLE_CHANGES = frozenset(
    {
        "device",
        "precision",
        "channels_last",
        "compile",
        "cudnn_benchmark",
        "eval_batch_size",
        "sim_only_weight",
    }
)


def _start_loop(
    module: GlitchNet,
    train_images: np.ndarray,
    train_targets: np.ndarray,
    draw: np.ndarray | None,
    config: TrainConfig,
    device: torch.device,
    bf16: bool,
) -> _Loop:
    """Images on the device, optimiser and lr schedule made."""
    data = DeviceImages(train_images, device)
    optimizer = make_optimizer(module, config)
    total_steps = _steps_per_epoch(len(train_targets), config.batch_size) * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total_steps, config.warmup_fraction)
    )
    return _Loop(
        module=module,
        optimizer=optimizer,
        scheduler=scheduler,
        generator=torch.Generator(device=device).manual_seed(config.seed),
        step=_make_step(module, optimizer, config, device, bf16),
        data=data,
        targets=torch.from_numpy(train_targets).to(device),
        weights=None if draw is None else torch.from_numpy(draw).float().to(device),
        config=config,
        device=device,
        bf16=bf16,
    )


def _steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimiser steps per epoch of n draws, as batch_indices makes them."""
    return max(1, n // batch_size)


def train_one_epoch(
    loop: _Loop, epoch: int, *, progress: ProgressCallback | None, cancel: CancelCheck
) -> dict[str, float] | None:
    """One pass of draws over the training set -> the epoch's row (train_loss, lr, seconds,
    images_per_second), or None when `cancel` said stop (the epoch is then not finished)."""
    config = loop.config
    shift = config.max_shift * config.image_size / 224
    # Gain and gamma act on energy; on RGB colours (single-2.0, mosaic) they would not.
    energy_jitter = config.energy_jitter if config.encoding == "rgb-durations" else 0.0
    view_dropout = config.view_dropout if config.encoding == "rgb-durations" else 0.0
    shown = _shown(loop.history[-1]) if loop.history else {}
    loop.module.train()
    started = time.perf_counter()
    loss_sum = torch.zeros((), device=loop.device)
    seen = 0
    batches = batch_indices(
        loop.data.n, config.batch_size, weights=loop.weights, generator=loop.generator
    )
    for step, index in enumerate(batches, start=1):
        x = loop.data.batch(index)
        if config.augment:
            x = augment(
                x, max_shift=shift, max_zoom=config.max_zoom, generator=loop.generator,
                axes=config.augment_axes, energy_jitter=energy_jitter,
                min_resolution=config.min_resolution, view_dropout=view_dropout,
            )  # fmt: skip
        loss_sum += loop.step(x, loop.targets[index]).detach() * len(index)
        loop.scheduler.step()
        seen += len(index)
        if progress is not None and (step % 10 == 0 or step == len(batches)):
            elapsed = time.perf_counter() - started
            progress(
                TrainProgress(epoch, config.epochs, step, len(batches), float(loss_sum) / seen,
                              seen / elapsed, dict(shown))
            )  # fmt: skip
        if cancel():
            return None
    seconds = time.perf_counter() - started
    return {
        "epoch": float(epoch),
        "train_loss": float(loss_sum) / max(1, seen),  # float() waits for the GPU
        "lr": float(loop.scheduler.get_last_lr()[0]),
        "seconds": seconds,
        "images_per_second": seen / seconds,
    }


def _shown(row: Mapping[str, float]) -> dict[str, float]:
    """An epoch's row as the progress callback shows it (without the epoch number)."""
    return {k: v for k, v in row.items() if k != "epoch"}


def _end_epoch(
    loop: _Loop,
    epoch: int,
    row: dict[str, float],
    *,
    improved: bool,
    out: Path,
    names: Sequence[str],
) -> None:
    """Record the epoch; write last.pt (weights and everything to resume), then best.pt
    when `improved`, and history.json.

    last.pt first: a run that dies between the two writes resumes with the best epoch's
    weights in last.pt, and _resume writes best.pt from them. The other way round, best.pt
    could hold an epoch that last.pt's history and best epoch did not know of (its retry
    registered those weights under another epoch)."""
    loop.history.append(row)
    if improved:
        loop.best = {k: row[k] for k in ("val_loss", "val_top1")}
        loop.best_epoch = epoch
    checkpoint = make_checkpoint(
        loop.module, epoch=epoch, config=asdict(loop.config), class_names=names, metrics=row
    )
    train_state = {
        "optimizer": loop.optimizer.state_dict(),
        "scheduler": loop.scheduler.state_dict(),
        "generator": loop.generator.get_state(),
        "history": loop.history,
        "best": loop.best,
        "best_epoch": loop.best_epoch,
    }
    save_checkpoint({**checkpoint, "train_state": train_state}, out / LAST_CHECKPOINT)
    if improved:
        save_checkpoint(checkpoint, out / BEST_CHECKPOINT)
    _write_json(out / "history.json", loop.history)


def _resume(
    loop: _Loop, last: Path, names: Sequence[str], progress: ProgressCallback | None
) -> bool:
    """Continue from `last` (a last.pt this config wrote) after its epoch: weights,
    optimiser moments, lr schedule, random stream, history and best; True when it did.
    When its epoch was the best, best.pt is written again from it (the run may have died
    before writing it, _end_epoch). Nothing to resume (no file yet): False, the run starts
    from the beginning; so too when it does not load (a disk error, a copy cut short): it
    is moved aside to last.pt.corrupt and `progress` gets a note saying so (before, every
    retry of the run failed on it). A file of another run, or a whole one that holds what
    torch's weights_only loading refuses, is a UserError."""
    if not last.is_file():
        return False
    try:
        checkpoint = torch.load(last, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        first_sentence = str(exc).split(". ")[0]
        if isinstance(exc, pickle.UnpicklingError) and zipfile.is_zipfile(last):
            # Whole, but holding a type weights_only refuses (another torch or GlitchLab
            # wrote it): not damage, and starting over would hide it at every retry.
            raise UserError(f"cannot resume from {last}: {first_sentence[:300]}") from exc
        aside = last.with_name(last.name + ".corrupt")
        last.replace(aside)
        if progress is not None:
            why = first_sentence[:200]
            steps = _steps_per_epoch(loop.data.n, loop.config.batch_size)
            progress(
                TrainProgress(1, loop.config.epochs, 0, steps, float("nan"), 0.0,
                              note=f"{last} did not load ({type(exc).__name__}: {why}): moved "
                              f"to {aside.name}; training starts again from epoch 1")
            )  # fmt: skip
        return False
    state = checkpoint.get("train_state")
    if state is None:
        raise UserError(f"cannot resume from {last}: it holds no optimiser state (older run)")
    learned = {k: v for k, v in asdict(loop.config).items() if k not in RESUMABLE_CHANGES}
    unknown = sorted(k for k in learned if k not in checkpoint["config"])
    if unknown:  # a field added since: how that run trained in its respect is not known
        raise UserError(f"cannot resume from {last}: it was written by an older GlitchLab, "
                        f"without {', '.join(unknown)}; start a new run")  # fmt: skip
    differs = sorted(k for k, v in learned.items() if checkpoint["config"][k] != v)
    if differs or list(checkpoint["class_names"]) != list(names):
        what = ", ".join(differs) if differs else "class_names"
        raise UserError(f"cannot resume from {last}: it was trained with other {what}; "
                        "start a new run")  # fmt: skip
    loop.module.load_state_dict(checkpoint["model"])
    loop.optimizer.load_state_dict(state["optimizer"])
    loop.scheduler.load_state_dict(state["scheduler"])
    loop.generator.set_state(state["generator"])
    loop.history = list(state["history"])
    loop.best, loop.best_epoch = state["best"], int(state["best_epoch"])
    if loop.best_epoch == int(checkpoint["epoch"]):  # it may have died before best.pt's write
        best = {k: v for k, v in checkpoint.items() if k != "train_state"}
        save_checkpoint(best, last.parent / BEST_CHECKPOINT)
    return True


def _make_step(
    module: GlitchNet,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    device: torch.device,
    bf16: bool,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """One optimiser step on a batch -> its mean loss (a device tensor: no GPU sync)."""

    def forward_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with autocast(device, bf16):
            logits = module(x)
        return F.cross_entropy(logits.float(), y, label_smoothing=config.label_smoothing)

    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = forward_loss
    if config.compile:
        loss_fn = torch.compile(forward_loss)

    def step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = loss_fn(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _fit_head_only(
    module: GlitchNet,
    names: list[str],
    train_images: np.ndarray,
    train_targets: np.ndarray,
    val_images: np.ndarray | None,
    val_targets: np.ndarray | None,
    config: TrainConfig,
    out: Path,
    *,
    device: torch.device,
    bf16: bool,
    val_labels: Sequence[str] | None,
    val_ids: Sequence[str] | None,
    val_files: Sequence[Sequence[str]] | None,
    val_views: Sequence[Collection[float]] | None,
    progress: ProgressCallback | None,
    started: float,
    sample_weight: np.ndarray | None = None,
) -> TrainResult:
    """The paper's >95% baseline: logistic regression on frozen pooled ImageNet features.

    The fitted regression (with its feature standardisation folded in) becomes the Linear
    head, so the result is an ordinary GlitchNet checkpoint.
    """
    from sklearn.linear_model import LogisticRegression

    module.eval()
    t0 = time.perf_counter()
    feats = run_batched(
        module.features, train_images, device=device, bf16=bf16,
        batch_size=config.eval_batch_size,
    )  # fmt: skip
    feature_seconds = time.perf_counter() - t0
    mean = feats.mean(0)
    std = feats.std(0) + 1e-6
    classes = np.unique(train_targets)
    weight = np.zeros((len(names), feats.shape[1]), dtype=np.float64)
    bias = np.full(len(names), -1e4)  # a class with no training sample is never predicted
    if len(classes) == 1:
        bias[classes[0]] = 0.0
    else:
        clf = LogisticRegression(C=config.head_c, max_iter=2000, random_state=config.seed)
        weight_of = None if sample_weight is None else sample_weight * len(sample_weight)
        clf.fit((feats - mean) / std, train_targets, sample_weight=weight_of)
        coef, intercept = clf.coef_, clf.intercept_
        if len(classes) == 2:  # sklearn's binary model: one row, the logit of classes[1]
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.array([0.0, intercept[0]])
        weight[classes] = coef / std
        bias[classes] = intercept - (coef / std) @ mean
    with torch.no_grad():
        module.head.weight.copy_(torch.from_numpy(weight).float())
        module.head.bias.copy_(torch.from_numpy(bias).float())
    logits = torch.from_numpy(feats.astype(np.float64) @ weight.T + bias)
    row: dict[str, float] = {
        "epoch": 1.0,
        "train_loss": float(F.cross_entropy(logits, torch.from_numpy(train_targets))),
        "seconds": feature_seconds,
        "images_per_second": len(train_images) / feature_seconds,
    }
    if val_images is not None and val_targets is not None and len(val_targets):
        val_metrics, _ = _validate(
            module, val_images, val_targets,
            device=device, bf16=bf16, batch_size=config.eval_batch_size,
        )  # fmt: skip
        row.update(val_metrics)
    checkpoint = make_checkpoint(
        module, epoch=1, config=asdict(config), class_names=names, metrics=row
    )
    save_checkpoint(checkpoint, out / LAST_CHECKPOINT)
    save_checkpoint(checkpoint, out / BEST_CHECKPOINT)
    _write_json(out / "history.json", [row])
    if progress is not None:
        progress(
            TrainProgress(
                1, 1, 1, 1, row["train_loss"], row["images_per_second"], _shown(row), True
            )
        )
    has_val = val_images is not None and val_labels is not None and len(val_labels) > 0
    metrics = _finish(
        out, device=device, val_images=val_images if has_val else None, val_labels=val_labels,
        val_ids=val_ids, val_files=val_files, val_views=val_views,
        batch_size=config.eval_batch_size, best_epoch=1,
        history=[row],
    )  # fmt: skip
    return TrainResult(
        model_dir=out,
        best_epoch=1,
        metrics=metrics,
        history=[row],
        cancelled=False,
        seconds=time.perf_counter() - started,
        images_per_second=row["images_per_second"],
    )


def _finish(
    out: Path,
    *,
    device: torch.device,
    val_images: np.ndarray | None,
    val_labels: Sequence[str] | None,
    val_ids: Sequence[str] | None,
    val_files: Sequence[Sequence[str]] | None,
    val_views: Sequence[Collection[float]] | None,
    batch_size: int,
    best_epoch: int,
    history: list[dict[str, float]],
) -> dict[str, Any]:
    """Evaluate best.pt on validation; write metrics.json, confusion.png; store the report
    in best.pt's metrics too."""
    from ml.evaluate import evaluate, plot_confusion
    from ml.model import load_model

    loaded: LoadedModel = load_model(out, device=device)
    metrics: dict[str, Any] = {"best_epoch": best_epoch, "history": history}
    if val_images is not None and val_labels is not None:
        report = evaluate(
            loaded, val_images, val_labels, ids=val_ids, files=val_files, batch_size=batch_size,
            views=val_views,
        )  # fmt: skip
        metrics.update(report)
        plot_confusion(report, out / "confusion.png")
    _write_json(out / "metrics.json", metrics)
    checkpoint = torch.load(out / BEST_CHECKPOINT, map_location="cpu", weights_only=True)
    checkpoint["metrics"] = {k: v for k, v in metrics.items() if k != "history"}
    save_checkpoint(checkpoint, out / BEST_CHECKPOINT)
    return metrics


def _write_json(path: Path, obj: Any) -> None:
    from ml.evaluate import json_safe

    text = json.dumps(json_safe(obj), indent=1, default=str)

    def write(fh: Any) -> None:
        fh.write(text.encode())

    atomic_write(path, write)


def _use_bf16(config: TrainConfig, device: torch.device) -> bool:
    if config.precision == "auto":
        return bf16_supported(device)
    if config.precision in ("bf16", "fp32"):
        return config.precision == "bf16"
    raise UserError(f"unknown precision {config.precision!r}; use auto, bf16 or fp32")


def _check_config(config: TrainConfig, train_images: np.ndarray) -> None:
    if config.optimizer not in OPTIMIZERS:
        choices = ", ".join(OPTIMIZERS)
        raise UserError(f"unknown optimizer {config.optimizer!r}; choose from {choices}")
    if config.epochs < 1 or config.batch_size < 1:
        raise UserError("--epochs and --batch-size must be at least 1")
    if train_images.ndim != 4 or train_images.shape[1] != 3 or train_images.dtype != np.uint8:
        raise ValueError(f"train_images must be uint8 (N, 3, S, S), got {train_images.dtype} "
                         f"{train_images.shape}")  # fmt: skip
    if len(train_images) < 2:
        raise UserError(f"need at least 2 training images, got {len(train_images)}")
    if train_images.shape[-1] != config.image_size or train_images.shape[-2] != config.image_size:
        raise ValueError(f"images are {train_images.shape[-2:]}, config.image_size is "
                         f"{config.image_size}")  # fmt: skip


# ---------------------------------------------------------------- from Samples


def train(
    train_samples: Sequence[Any],
    val_samples: Sequence[Any],
    config: TrainConfig,
    out_dir: str | Path,
    *,
    class_names: Sequence[str] | None = None,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    encode_progress: Callable[[int, int], None] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    resume: bool = False,
    pool_samples: Sequence[Any] = (),
    simulated_sources: Collection[str] = (SIMULATED_SOURCE,),
    glitch_names: Mapping[str, str] | None = None,
    sim_only_from: Sequence[str | Path] = (),
) -> TrainResult:
    """Decode ml.data.Samples once (config.encoding at config.image_size, cached under
    cache_dir when given) and `fit` on them. Samples without a label are skipped.

    config.sim_only_weight > 0 (fine-tuning): then a second model is fitted into
    MODEL_DIR/sim-only, first, on the training samples whose source is in simulated_sources
    (the web app's SIMULATED_SOURCE; the CLI's `ml synth` folders), with the same config and no
    validation; load_model averages it in (metrics.json's validation too). None (the
    default): resolve_sim_only_weight decides from the training glitches that decode, and the
    model's config holds the weight it chose. The simulated-only model depends on the
    simulated glitches and the recipe only, not on the real labels that change from one
    retrain to the next: when a model folder of sim_only_from holds one trained on the same
    simulated images, labels, sources and classes, with the same recipe and ml/ code
    (SIM_ONLY_KEY_FILE), it is reused (linked, or copied) instead of trained again.

    GLITCH_IDS_FILE records the ids of the glitches trained and validated on, as
    glitch_names maps a sample id (the web app's: a subject's key; its glitch id there).

    Self-training (config.self_train > 0, pool_samples given, fine-tuning): a first model
    is fitted into OUT/teacher, it labels the unlabelled pool, the pool glitches whose top
    class reaches config.self_train join the training set with that class (and their own
    source), and the model in OUT is fitted again from ImageNet weights on the lot (when
    none qualifies, the first model in OUT/teacher is the result). Not robust on real
    glitches: in bench/real.py it helped in one tune run and the report run, and hurt in
    two other tune runs (docs/real_benchmark.md), so nothing turns it on by default.
    Progress counts the fits (the simulated-only model's, the first model's, the model's) as
    one run of their epochs together.

    A glitch a file of which does not decode (ml.encoding.encode_decodable) is left out,
    with a progress note naming the file (a warning without `progress`), and its id is in
    TrainResult.undecodable: one bad file does not cost the run. A note says when a class
    loses every training glitch so; a UserError when fewer than 2 training glitches are left.
    """
    from ml.encoding import encode_decodable

    train_samples = [s for s in train_samples if s.label is not None]
    val_samples = [s for s in val_samples if s.label is not None]
    if len(train_samples) < 2:
        raise UserError(f"need at least 2 labelled training glitches, got {len(train_samples)}")
    _check_sim_only(train_samples, config, simulated_sources)
    pool_samples = list(pool_samples) if config.self_train > 0 and not config.head_only else []
    cache = Path(cache_dir) if cache_dir is not None else None

    def warn(line: str) -> None:  # a line for the run's log, or a warning
        if progress is None:
            _logger.warning("%s", line)
        else:
            progress(TrainProgress(0, config.epochs, 0, 0, float("nan"), 0.0, note=line))

    n_train = len(train_samples)
    given = [*train_samples, *val_samples]
    decoded = encode_decodable(
        given, config.encoding, config.image_size,
        workers=workers, cache_dir=cache, progress=encode_progress, warn=warn,
    )  # fmt: skip
    kept = set(decoded.kept)
    undecodable = [s.id for i, s in enumerate(given) if i not in kept]
    images = decoded.images
    if decoded.dropped:
        before = (train_samples, val_samples)
        train_samples = [train_samples[i] for i in decoded.kept if i < n_train]
        val_samples = [val_samples[i - n_train] for i in decoded.kept if i >= n_train]
        for line in _lost_by_decoding(*before, train_samples, val_samples):
            warn(line)
        if len(train_samples) < 2:
            raise UserError(
                f"need at least 2 labelled training glitches that decode, got "
                f"{len(train_samples)}: {len(decoded.dropped)} left out (the first: "
                f"{decoded.dropped[0]})"
            )
        _check_sim_only(train_samples, config, simulated_sources)
        n_train = len(train_samples)
    if config.sim_only_weight is None:  # left to the data: say what they chose (a weight
        # given, as the retrain task's once it decided and logged it, goes unsaid)
        config = resolve_sim_only_weight(config, train_samples, simulated_sources)
        if config.sim_only_weight:
            warn(
                f"sim_only_weight {config.sim_only_weight:g}: a second model trains on the "
                "simulated glitches alone and is averaged in (twice the training time)"
            )
    names = (
        list(class_names)
        if class_names is not None
        else class_names_of([str(s.label) for s in train_samples])
    )
    val_images = images[n_train:] if val_samples else None
    val_labels = [s.label for s in val_samples] if val_samples else None

    def fit_on(
        extra: np.ndarray, extra_samples: Sequence[Any], where: Path, shown: ProgressCallback | None
    ) -> TrainResult:
        chosen = list(train_samples) + list(extra_samples)
        return fit(
            np.concatenate([images[:n_train], extra]) if len(extra) else images[:n_train],
            [s.label for s in chosen],
            val_images,
            val_labels,
            config,
            where,
            class_names=names,
            val_ids=[s.id for s in val_samples],
            val_files=[s.files() for s in val_samples],
            val_views=views_of(val_samples),
            sources=[s.source for s in chosen],
            progress=shown,
            should_cancel=should_cancel,
            resume=resume,
        )

    none = images[:0]
    later_fits = 2 if pool_samples else 1  # the model's own: self-training's two, or one
    first = 0  # the fits before the model's own: 1 when the simulated-only model trains
    if config.sim_only_weight:  # a float now, 0.0 when off
        # First: every model that averages it in loads it (its validation, pseudo-labels).
        simulated = [i for i, s in enumerate(train_samples) if s.source in simulated_sources]
        companion = _sim_only_companion(
            images[simulated],
            [train_samples[i] for i in simulated],
            names,
            replace(config, sim_only_weight=0.0),
            Path(out_dir) / SIM_ONLY_DIR,
            sim_only_from=sim_only_from,
            later_fits=later_fits,
            progress=progress,
            should_cancel=should_cancel,
            resume=resume,
            warn=warn,
        )
        if companion is not None and companion.cancelled:
            return companion
        first = int(companion is not None)
    fits = first + later_fits
    if not pool_samples:
        result = fit_on(none, [], Path(out_dir), _fit_of(progress, first, fits))
        result.undecodable = undecodable
        return _with_glitch_ids(result, train_samples, val_samples, glitch_names)
    if config.sim_only_weight:  # the teacher may be the result: it averages it in too
        (Path(out_dir) / "teacher" / SIM_ONLY_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copy2(
            Path(out_dir) / SIM_ONLY_DIR / BEST_CHECKPOINT,
            Path(out_dir) / "teacher" / SIM_ONLY_DIR / BEST_CHECKPOINT,
        )
    teacher = fit_on(none, [], Path(out_dir) / "teacher", _fit_of(progress, first, fits))
    teacher.undecodable = undecodable
    if teacher.cancelled:
        return teacher
    decoded_pool = encode_decodable(
        pool_samples, config.encoding, config.image_size, workers=workers, cache_dir=cache,
        warn=warn,
    )  # fmt: skip
    pool_samples, pool = decoded_pool.samples, decoded_pool.images
    if not pool_samples:  # none decodes: the first model is the model
        return _with_glitch_ids(teacher, train_samples, val_samples, glitch_names)
    labeller = load_model(teacher.model_dir, device=config.device)
    probs = predict_proba(
        labeller, pool, batch_size=config.eval_batch_size, views=views_of(pool_samples)
    )
    keep, guessed = pseudo_labels(probs, labeller.class_names, config.self_train)
    pseudo = [replace(pool_samples[i], label=g) for i, g in zip(keep, guessed, strict=True)]
    if not pseudo:  # nothing sure enough: the first model is the model
        return _with_glitch_ids(teacher, train_samples, val_samples, glitch_names)
    student = fit_on(
        np.asarray(pool[keep]),
        pseudo,
        Path(out_dir),
        _fit_of(progress, first + 1, fits),
    )
    return _with_glitch_ids(
        replace(student, pseudo_labels=len(pseudo), undecodable=undecodable),
        [*train_samples, *pseudo],
        val_samples,
        glitch_names,
    )


def _sim_only_companion(
    images: np.ndarray,
    samples: Sequence[Any],
    names: Sequence[str],
    config: TrainConfig,
    into: Path,
    *,
    sim_only_from: Sequence[str | Path],
    later_fits: int,
    progress: ProgressCallback | None,
    should_cancel: CancelCheck | None,
    resume: bool,
    warn: Callable[[str], None],
) -> TrainResult | None:
    """The simulated-only model of train(), in `into`: reused from the first model folder of
    sim_only_from that holds one with the same key (sim_only_key of these simulated
    `samples`, their encoded `images`, `names` and `config`), else fitted, as the first of
    1 + later_fits fits in progress, with `names` as its columns, and its key written
    beside it (unless the fit was cancelled). None when reused; the fit's result when
    fitted. Each outcome says so through `warn`, but a fit where there was nothing to reuse."""
    labels = [str(s.label) for s in samples]
    sources = [str(s.source) for s in samples]
    key = sim_only_key(images, labels, sources, names, config)
    reused = reuse_sim_only(sim_only_from, key, into)
    if reused is not None:
        warn(
            f"the simulated-only model of {reused} was trained on these simulated glitches "
            "with this recipe: reused, not trained again"
        )
        return None
    if sim_only_from:
        warn(
            "no simulated-only model to reuse (none of "
            f"{', '.join(str(Path(d)) for d in sim_only_from)} was trained on these "
            "simulated glitches with this recipe and code): training one"
        )
    fitted = fit(
        images,
        labels,
        None,
        None,
        config,
        into,
        class_names=list(names),  # the main model's columns, in its order
        sources=sources,
        progress=_fit_of(progress, 0, 1 + later_fits),
        should_cancel=should_cancel,
        resume=resume,
    )
    if not fitted.cancelled:
        _write_json(into / SIM_ONLY_KEY_FILE, {"key": key})
    return fitted


# Beside a simulated-only model's best.pt: {"key": sim_only_key(...)} of what it was trained on.
SIM_ONLY_KEY_FILE = "trained_on.json"
# TrainConfig fields that do not change how the simulated-only model trains.
_NOT_THE_SIM_ONLY_RECIPE = frozenset(
    {"sim_only_weight", "self_train", "val_fraction", "eval_batch_size"}
)


def sim_only_key(
    images: np.ndarray,
    labels: Sequence[str],
    sources: Sequence[str],
    class_names: Sequence[str],
    config: TrainConfig,
) -> str:
    """What a simulated-only model is trained from, as one sha256: its images (bytes, in
    order), labels, sources and output classes, the recipe (config, less the fields that do
    not touch it), ml/'s source and torch's version. Two runs with the same key train the
    same model, up to the nondeterminism of their kernels."""
    recipe = {k: v for k, v in asdict(config).items() if k not in _NOT_THE_SIM_ONLY_RECIPE}
    digest = hashlib.sha256()
    described = {
        "labels": list(labels),
        "sources": list(sources),
        "classes": list(class_names),
        "recipe": recipe,
        "ml": ml_source_digest(),
        "torch": torch.__version__,
        "images": [list(images.shape), str(images.dtype)],
    }
    digest.update(json.dumps(described, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(images).data)
    return digest.hexdigest()


def reuse_sim_only(candidates: Sequence[str | Path], key: str, into: Path) -> Path | None:
    """The first model folder of `candidates` whose simulated-only model (SIM_ONLY_DIR) was
    trained from `key` (its SIM_ONLY_KEY_FILE), its best.pt hard-linked (copied where a
    link cannot be made: ml.files.atomic_write) into `into` with the key beside it; None
    when none was. A candidate that is missing, unreadable or half-written is passed over."""
    target = into / BEST_CHECKPOINT
    for candidate in candidates:
        source = Path(candidate) / SIM_ONLY_DIR / BEST_CHECKPOINT
        try:
            with (source.parent / SIM_ONLY_KEY_FILE).open() as fh:
                if json.load(fh).get("key") != key or not source.is_file():
                    continue
            if target.exists() and target.samefile(source):
                return Path(candidate)
            into.mkdir(parents=True, exist_ok=True)
            staged = into / f".{BEST_CHECKPOINT}.reused.tmp"
            staged.unlink(missing_ok=True)
            try:
                os.link(source, staged)
                staged.replace(target)
            except OSError:  # another file system, or links not allowed
                with source.open("rb") as original:
                    atomic_write(target, lambda fh: shutil.copyfileobj(original, fh))
        except (OSError, ValueError, AttributeError):  # gone, unreadable, not our JSON
            continue
        _write_json(into / SIM_ONLY_KEY_FILE, {"key": key})
        return Path(candidate)
    return None


def resolve_sim_only_weight(
    config: TrainConfig, train_samples: Sequence[Any], simulated_sources: Collection[str]
) -> TrainConfig:
    """config with sim_only_weight decided when it is None (left to the data):
    AUTO_SIM_ONLY_WEIGHT when the model is fine-tuned and its training glitches hold both
    simulated ones (of 2 classes or more: a simulated-only model to train) and real ones
    (which pull a lone real glitch of a class they lack to the real-rich classes: what the
    average undoes, docs/real_benchmark.md); else 0. A weight given is kept as it is."""
    if config.sim_only_weight is not None:
        return config
    real = any(s.source not in simulated_sources for s in train_samples)
    both = _simulated_classes(train_samples, simulated_sources) >= 2 and real
    return replace(
        config, sim_only_weight=AUTO_SIM_ONLY_WEIGHT if both and not config.head_only else 0.0
    )


def _simulated_classes(train_samples: Sequence[Any], simulated_sources: Collection[str]) -> int:
    """How many classes the simulated training glitches hold: a simulated-only model needs 2."""
    return len({str(s.label) for s in train_samples if s.source in simulated_sources})


def _check_sim_only(
    train_samples: Sequence[Any], config: TrainConfig, simulated_sources: Collection[str]
) -> None:
    """UserError when config.sim_only_weight asks for a simulated-only model these training
    glitches cannot give (None, left to the data, never does)."""
    if config.sim_only_weight is None or config.sim_only_weight <= 0:
        return
    if config.head_only or not 0 < config.sim_only_weight < 1:
        raise UserError("sim_only_weight is a weight in (0, 1), for a fine-tuned model")
    if _simulated_classes(train_samples, simulated_sources) < 2:
        simulated = [s for s in train_samples if s.source in simulated_sources]
        raise UserError(
            "sim_only_weight needs simulated training glitches of 2 classes or more (of "
            f"the sources {', '.join(sorted(simulated_sources)) or 'named: none'}), got "
            f"{len(simulated)}"
        )


def _lost_by_decoding(
    train_before: Sequence[Any],
    val_before: Sequence[Any],
    train_after: Sequence[Any],
    val_after: Sequence[Any],
) -> list[str]:
    """Lines for the run's log once glitches that do not decode were left out: how many,
    each class whose every training glitch went with them, and a validation set gone."""
    lost_train = len(train_before) - len(train_after)
    lost_val = len(val_before) - len(val_after)
    lines = [
        f"{lost_train} training and {lost_val} validation glitches left out: a file of theirs "
        "does not decode (named above)"
    ]
    gone = sorted({str(s.label) for s in train_before} - {str(s.label) for s in train_after})
    lines += [
        f"class {label}: every training glitch of it was left out, so the model does not learn it"
        for label in gone
    ]
    if val_before and not val_after:
        lines.append("every validation glitch was left out: the model is not validated")
    return lines


GLITCH_IDS_FILE = "glitches.json"  # beside best.pt: the ids of the glitches a model saw


def _with_glitch_ids(
    result: TrainResult,
    trained: Sequence[Any],
    validated: Sequence[Any],
    names: Mapping[str, str] | None = None,
) -> TrainResult:
    """Write which glitches the model saw into its folder (`ml evaluate` warns when it
    scores one of them: that score is not a held-out one), each sample id as `names` maps
    it; the result unchanged."""
    named = names or {}
    if not result.cancelled:
        _write_json(
            result.model_dir / GLITCH_IDS_FILE,
            {
                "train": sorted({named.get(s.id, s.id) for s in trained}),
                "validation": sorted({named.get(s.id, s.id) for s in validated}),
            },
        )
    return result


def _fit_of(progress: ProgressCallback | None, index: int, fits: int) -> ProgressCallback | None:
    """progress for fit `index` (0-based) of `fits` run one after the other (the
    simulated-only model, self-training's first model, the model): their epochs counted as
    one run of fits x epochs, so a bar or a run's page moves while each trains."""
    if progress is None:
        return None

    def shown(p: TrainProgress) -> None:
        progress(replace(p, epoch=p.epoch + index * p.epochs, epochs=fits * p.epochs))

    return shown
