"""GlitchNet (ImageNet backbone + dropout + linear head), its checkpoint file, and inference.

A checkpoint is ONE torch file holding a plain dict:
    {"model": state_dict, "epoch": int, "config": dict (TrainConfig as asdict),
     "class_names": list[str] (output index -> label), "metrics": dict,
     "versions": {"python", "torch", "torchvision", "numpy", "sklearn", ...},
     "git_commit": str | None, "created": ISO-8601 UTC str}
A MODEL_DIR holds best.pt (the checkpoint to use), last.pt (to resume a run cut short; the
retrain task removes it once its run succeeded or was cancelled: drop_resume_checkpoints),
metrics.json, history.json and confusion.png. Fine-tuned and head-only models share this
format, so every command works on both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import pickle
import platform
import subprocess
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ml.backbones import FeatureExtractor, build_backbone
from ml.errors import UserError
from ml.files import atomic_write, atomic_write_leftovers
from ml.views import view_mean

BEST_CHECKPOINT = "best.pt"
LAST_CHECKPOINT = "last.pt"
SIM_ONLY_DIR = "sim-only"  # beside best.pt: the simulated-only model (TrainConfig.sim_only_weight)


def drop_resume_checkpoints(run_dir: Path) -> int:
    """Remove the last.pt files of a finished run's folder (its model's, and those of its
    simulated-only model and self-training's first model, in folders below): they exist to
    resume a run cut short, hold the optimiser's state beside the weights, and nothing reads
    them once the run is done. So go the checkpoint writes cut short there
    (remove_checkpoint_leftovers). Returns the bytes freed."""
    freed = sum(size for _, size in remove_checkpoint_leftovers(run_dir, below=True))
    for path in sorted(run_dir.rglob(LAST_CHECKPOINT)):
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            path.unlink()
            freed += size
    return freed


def remove_checkpoint_leftovers(folder: Path, *, below: bool = False) -> list[tuple[Path, int]]:
    """Remove the temporary files of checkpoint writes cut short in `folder` (and its
    subfolders with below=True): `.last.pt.<random>.tmp`, `.best.pt.<random>.tmp`
    (ml.files.atomic_write). A worker killed while writing one leaves it, as large as the
    checkpoint, and nothing else would ever remove it. Call it only when no process trains
    into the folder: when a run resumes, or once it is done. Returns (path, bytes) removed."""
    removed = []
    for path in atomic_write_leftovers(folder, "*.pt", below=below):
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            path.unlink()
            removed.append((path, size))
    return removed


class GlitchNet(nn.Module):
    """Backbone + dropout + Linear(num_classes): (N, 3, S, S) uint8 -> (N, C) float logits."""

    def __init__(self, backbone: FeatureExtractor, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(backbone.feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) uint8 or 0-255 float -> (N, D) pooled features (the embedding)."""
        out: torch.Tensor = self.backbone(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.dropout(self.backbone(x)))
        return out


def build_glitchnet(
    backbone: str,
    num_classes: int,
    *,
    pretrained: bool = True,
    weights_path: str | Path | None = None,
    dropout: float = 0.2,
) -> GlitchNet:
    """A fresh GlitchNet whose backbone carries ImageNet weights unless pretrained=False."""
    extractor, _ = build_backbone(backbone, pretrained=pretrained, weights_path=weights_path)
    return GlitchNet(extractor, num_classes, dropout)


# ---------------------------------------------------------------- devices and precision


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N' -> a torch.device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name} asked for, but this machine has no CUDA GPU")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu or cuda") from None


def bf16_supported(device: torch.device) -> bool:
    """True where bf16 autocast is both available and faster than fp32 (CUDA, CPUs with AMX)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on `device` when enabled, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def place(module: GlitchNet, device: torch.device, *, channels_last: bool) -> GlitchNet:
    """Move to `device`; channels_last memory format (faster convs under bf16) when asked."""
    module = module.to(device)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    module.backbone.channels_last = channels_last
    return module


# ---------------------------------------------------------------- checkpoints


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a trained model, recorded in every checkpoint."""
    import sklearn
    import torchvision

    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__),
        "numpy": str(np.__version__),
        "sklearn": str(sklearn.__version__),
        "cuda": str(torch.version.cuda),
    }


def git_commit() -> str | None:
    """The commit of the code that trained the model, or None outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def make_checkpoint(
    module: GlitchNet,
    *,
    epoch: int,
    config: Mapping[str, Any],
    class_names: Sequence[str],
    metrics: Mapping[str, Any],
) -> dict[str, Any]:
    """The checkpoint dict described in the module docstring (weights copied to the CPU)."""
    state = {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}
    return {
        "model": state,
        "epoch": epoch,
        "config": dict(config),
        "class_names": list(class_names),
        "metrics": dict(metrics),
        "versions": library_versions(),
        "git_commit": git_commit(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def save_checkpoint(checkpoint: Mapping[str, Any], path: Path) -> None:
    """Save a checkpoint dict atomically."""
    atomic_write(Path(path), lambda fh: torch.save(dict(checkpoint), fh))


@dataclass
class LoadedModel:
    """A trained model ready for inference (eval mode, on its device)."""

    module: GlitchNet
    class_names: tuple[str, ...]  # output index -> label
    config: dict[str, Any]  # the TrainConfig it was trained with, as a dict
    device: torch.device
    bf16: bool  # run inference under bf16 autocast
    epoch: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None  # the checkpoint file it came from
    created: str = ""  # its checkpoint's "created" (ISO-8601 UTC); "" in one that has none
    # the model trained on simulated glitches alone, and the weight of its probabilities in
    # every prediction (TrainConfig.sim_only_weight); None: this model alone
    companion: LoadedModel | None = None

    @property
    def image_size(self) -> int:
        return int(self.config["image_size"])

    @property
    def encoding(self) -> str:
        return str(self.config["encoding"])

    @property
    def feature_dim(self) -> int:
        return self.module.backbone.feature_dim

    def identity(self) -> dict[str, Any]:
        """Which model this is, for the output of what it predicted or embedded: its folder
        and checkpoint file, the file's sha256 (the same bytes wherever it is copied, another
        run's never), when the checkpoint was made, its epoch and how it reads images; its
        simulated-only model's too when it has one (sim_only, with its weight)."""
        assert self.path is not None  # load_model sets it
        with self.path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        identity: dict[str, Any] = {
            "dir": str(self.path.parent.resolve()),
            "checkpoint": self.path.name,
            "sha256": digest,
            "created": self.created,
            "epoch": self.epoch,
            "backbone": str(self.config["backbone"]),
            "encoding": self.encoding,
            "image_size": self.image_size,
        }
        if self.companion is not None:
            identity["sim_only"] = self.companion.identity()
            identity["sim_only_weight"] = float(self.config["sim_only_weight"])
        return identity


def checkpoint_path(model: str | Path) -> Path:
    """MODEL_DIR -> MODEL_DIR/best.pt; a .pt file is returned as is. UserError if missing."""
    path = Path(model)
    if path.is_dir():
        path = path / BEST_CHECKPOINT
    if not path.is_file():
        raise UserError(f"no model at {model}: expected a MODEL_DIR holding {BEST_CHECKPOINT}")
    return path


def checkpoint_class_names(model: str | Path) -> list[str]:
    """The output classes of MODEL_DIR's best.pt (or of a checkpoint file), in the order of
    its outputs, without building its network."""
    checkpoint = torch.load(checkpoint_path(model), map_location="cpu", weights_only=True)
    return [str(name) for name in checkpoint["class_names"]]


def load_model(
    model: str | Path, *, device: str | torch.device = "auto", bf16: bool | None = None
) -> LoadedModel:
    """Load MODEL_DIR (its best.pt) or a checkpoint file for inference.

    Needs no network and no ImageNet weights file: the checkpoint holds every weight.
    bf16=None uses bf16 autocast where the device supports it. A model trained with
    sim_only_weight > 0 comes with its simulated-only model (SIM_ONLY_DIR beside it).
    """
    path = checkpoint_path(model)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's message advises loading with weights_only=False: unsafe (it runs what the
        # file holds), and wrong here, where the file is not a checkpoint ml train wrote
        if not zipfile.is_zipfile(path):  # a checkpoint is a zip archive (torch.save)
            raise UserError(
                f"{path} is not a model: give a model folder made by python -m ml train (it "
                f"holds {BEST_CHECKPOINT}), or a checkpoint file in one"
            ) from None
        raise UserError(
            f"{path} is not a checkpoint python -m ml train wrote: it holds objects other than "
            "weights and plain data, which are not loaded (loading them could run any code); "
            "give a model folder made by python -m ml train"
        ) from None
    except Exception as exc:
        raise UserError(f"cannot read checkpoint {path}: {exc}".splitlines()[0]) from None
    if not isinstance(ckpt, dict) or not {"model", "config", "class_names"} <= ckpt.keys():
        raise UserError(f"{path} is not a GlitchLab checkpoint")
    config = dict(ckpt["config"])
    class_names = tuple(ckpt["class_names"])
    if missing := [k for k in ("backbone", "image_size", "encoding") if k not in config]:
        raise UserError(f"{path}: its config lacks {', '.join(missing)}")
    try:
        backbone, dropout = config["backbone"], config.get("dropout", 0.0)
        net = build_glitchnet(backbone, len(class_names), pretrained=False, dropout=dropout)
        net.load_state_dict(ckpt["model"], strict=True)
    except (KeyError, RuntimeError, ValueError) as exc:
        # Weights that do not fit the network its config names (edited, or written by
        # something else): torch's message names the first layer that does not fit.
        message = f"{path}: its weights do not fit its config: {exc}"
        raise UserError(message.splitlines()[0]) from None
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    use_bf16 = bf16_supported(dev) if bf16 is None else bf16
    net = place(net, dev, channels_last=use_bf16).eval()
    companion = None
    weight = float(config.get("sim_only_weight") or 0.0)
    if not 0 <= weight < 1:  # training refuses such a weight: the config was edited
        raise UserError(f"{path}: its sim_only_weight, {weight:g}, is not a weight in [0, 1)")
    if weight > 0:
        beside = path.parent / SIM_ONLY_DIR
        if not (beside / BEST_CHECKPOINT).is_file():
            raise UserError(f"{path}: trained with sim_only_weight, but {beside} holds no model")
        companion = load_model(beside, device=dev, bf16=bf16)
        if companion.class_names != class_names:
            raise UserError(f"{beside}: its classes are not those of {path}")
    return LoadedModel(
        module=net,
        class_names=class_names,
        config=config,
        device=dev,
        bf16=use_bf16,
        epoch=int(ckpt.get("epoch", 0)),
        metrics=dict(ckpt.get("metrics", {})),
        path=path,
        created=str(ckpt.get("created") or ""),
        companion=companion,
    )


def averaged_with_companion(
    model: LoadedModel,
    probs: np.ndarray,
    images: np.ndarray | torch.Tensor,
    *,
    batch_size: int,
    views: Sequence[Collection[float]] | None,
) -> np.ndarray:
    """probs (the model's own, of images), averaged with its companion's at the config's
    sim_only_weight when it has one."""
    if model.companion is None:
        return probs
    theirs = predict_proba(model.companion, images, batch_size=batch_size, views=views)
    return blend(probs, theirs, float(model.config["sim_only_weight"]))


def blend(probs: np.ndarray, theirs: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) x probs + weight x theirs, as float32: a model's class probabilities
    averaged with its simulated-only companion's at TrainConfig.sim_only_weight (the one
    place that formula lives; the benchmarks average saved probabilities with it too)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"a blend weight is in [0, 1], not {weight}")
    return ((1 - weight) * np.asarray(probs) + weight * np.asarray(theirs)).astype(np.float32)


# ---------------------------------------------------------------- batched inference


def iter_batches(
    images: np.ndarray | torch.Tensor,
    device: torch.device,
    batch_size: int,
    image_size: int | None = None,
) -> Iterator[torch.Tensor]:
    """Yield (B, 3, S, S) batches of `images` on `device`, resized to image_size if it differs.

    Only one batch is on the device at a time, so any number of images fits.
    """
    data = torch.as_tensor(images)
    if data.ndim != 4 or data.shape[1] != 3:
        raise ValueError(f"images must be (N, 3, H, W), got {tuple(data.shape)}")
    staging: torch.Tensor | None = None
    for start in range(0, data.shape[0], batch_size):
        batch = data[start : start + batch_size]
        if device.type == "cuda" and not batch.is_cuda:
            # One reused pinned buffer: pageable copies (and pinning a fresh buffer per batch)
            # ran at ~1.5k img/s on an H200. The copy is synchronous, so reuse is safe.
            if staging is None:
                staging = torch.empty((batch_size, *data.shape[1:]), dtype=data.dtype)
                staging = staging.pin_memory()
            batch = staging[: len(batch)].copy_(batch)
        batch = batch.to(device)
        if image_size is not None and tuple(batch.shape[-2:]) != (image_size, image_size):
            batch = F.interpolate(
                batch.float(), size=(image_size, image_size), mode="bilinear", antialias=True
            ).clamp_(0, 255)
        yield batch


def run_batched(
    fn: Callable[[torch.Tensor], torch.Tensor],
    images: np.ndarray | torch.Tensor,
    *,
    device: torch.device,
    bf16: bool,
    batch_size: int = 256,
    image_size: int | None = None,
    views: Sequence[Collection[float]] | None = None,
) -> np.ndarray:
    """Apply `fn` (a module in eval mode) to all images in batches -> float32 (N, ...) array.

    With `views` (rgb-durations images; views[i]: the durations image i's glitch really
    has), each row is the view ensemble's: fn averaged over the glitch whole and each of
    its views alone (ml.views.view_mean).
    """
    if views is not None and len(views) != len(images):
        raise ValueError(f"{len(views)} sets of views for {len(images)} images")
    outputs: list[torch.Tensor] = []
    done = 0
    with torch.inference_mode(), autocast(device, bf16):
        for batch in iter_batches(images, device, batch_size, image_size):
            if views is None:
                outputs.append(fn(batch).float().cpu())
            else:
                outputs.append(view_mean(fn, batch, views[done : done + len(batch)]).cpu())
            done += len(batch)
    if not outputs:
        raise ValueError("no images given")
    return torch.cat(outputs).numpy().astype(np.float32, copy=False)


def run_model(
    model: LoadedModel,
    fn: Callable[[torch.Tensor], torch.Tensor],
    images: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    views: Sequence[Collection[float]] | None = None,
    image_size: int | None = None,
) -> np.ndarray:
    """run_batched of `fn` (a function of model.module in eval mode) on the model's device
    and precision, images resized to its image size (or `image_size`), with the view
    ensemble where the model takes it (ensemble_views)."""
    return run_batched(
        fn,
        images,
        device=model.device,
        bf16=model.bf16,
        batch_size=batch_size,
        image_size=model.image_size if image_size is None else image_size,
        views=ensemble_views(model, views),
    )


def predict_proba(
    model: LoadedModel,
    images: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    views: Sequence[Collection[float]] | None = None,
) -> np.ndarray:
    """Class probabilities: (N, 3, S, S) uint8 -> (N, C) float32, rows sum to 1.

    Column j is model.class_names[j]. Images of another size are resized to the model's.
    `views` (see views_of): the view ensemble, for a model of the rgb-durations encoding.
    """
    module = model.module.eval()

    def proba(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(module(x).float(), dim=1)

    probs = run_model(model, proba, images, batch_size=batch_size, views=views)
    return averaged_with_companion(model, probs, images, batch_size=batch_size, views=views)


def predict_and_embed(
    model: LoadedModel,
    images: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    views: Sequence[Collection[float]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """predict_proba and ml.embed.embed of the same images from one pass of the network:
    ((N, C) probabilities, (N, D) pooled features). Scoring needs both; the backbone, the
    whole cost (five times over with the view ensemble), runs once instead of twice (a
    model with a companion runs the companion's too, for its probabilities)."""
    module = model.module.eval()
    n_classes = len(model.class_names)

    def both(x: torch.Tensor) -> torch.Tensor:
        features = module.features(x)  # forward() is head(dropout(features)); eval: no dropout
        proba = torch.softmax(module.head(features).float(), dim=1)
        return torch.cat([proba, features.float()], dim=1)

    out = run_model(model, both, images, batch_size=batch_size, views=views)
    probs = averaged_with_companion(
        model, out[:, :n_classes], images, batch_size=batch_size, views=views
    )
    return probs, out[:, n_classes:]


def views_of(samples: Sequence[Any]) -> list[tuple[float, ...]]:
    """The durations of the views each Sample (ml.data) really has: `views` for the view
    ensemble of predict_proba and ml.embed.embed."""
    return [tuple(sample.views()) for sample in samples]


def ensemble_views(
    model: LoadedModel, views: Sequence[Collection[float]] | None
) -> Sequence[Collection[float]] | None:
    """`views` for a model that was shown one-view rebuilds in training (fine-tuned on the
    rgb-durations encoding with view dropout), else None: a head-only model, one of another
    encoding or one trained before view dropout has never seen a glitch rebuilt that way."""
    config = model.config
    shown_one_view = (
        model.encoding == "rgb-durations"
        and not config.get("head_only", False)
        and config.get("augment", True)
        and float(config.get("view_dropout", 0.0)) > 0
    )
    return views if shown_one_view else None
