"""`python -m ml train`: fine-tune a CNN (or fit a head-only probe) and write MODEL_DIR."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from ml.backbones import BACKBONES, DEFAULT_BACKBONE
from ml.commands import add_data_argument, add_encode_arguments, load, merged_split_glitches
from ml.errors import UserError
from ml.train import (
    OPTIMIZERS,
    SAMPLINGS,
    TrainConfig,
    TrainProgress,
    split_samples,
    train,
)
from ml.train_config import AUTO_SIM_ONLY_WEIGHT


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    add_data_argument(parser)
    parser.add_argument("--out", type=Path, metavar="MODEL_DIR", help="where the model goes")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="MODEL_DIR",
        help="continue the run in MODEL_DIR after its last finished epoch, with the settings "
        "it was started with (the training flags are then ignored; --device is kept)",
    )
    parser.add_argument(
        "--pool",
        action="append",
        default=[],
        metavar="DIR",
        help="unlabelled glitches (labels there are ignored) to self-train on: a first model "
        "labels them, those it gives >= --self-train join the training set, and the model "
        "is trained again (twice the time); repeat for several",
    )
    parser.add_argument("--self-train", type=float, default=defaults.self_train,
                        metavar="P", help="pseudo-label threshold for --pool (0: off)")  # fmt: skip
    parser.add_argument(
        "--sim-only-weight",
        type=float,
        default=defaults.sim_only_weight,
        metavar="W",
        help="also train a model on the simulated glitches alone (the --data folders that "
        "ml synth wrote) and give its probabilities this weight in every prediction (twice "
        "the training time; docs/real_benchmark.md); 0: off. Default: "
        f"{AUTO_SIM_ONLY_WEIGHT:g} when the training glitches are simulated and real both "
        "(and the model is fine-tuned), else 0",
    )
    parser.add_argument(
        "--sim-only-from",
        action="append",
        default=[],
        type=Path,
        metavar="MODEL_DIR",
        help="an earlier model whose simulated-only model may be reused: it is, when it was "
        "trained on the same simulated glitches with the same settings and code (repeat for "
        "several)",
    )
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, help=", ".join(BACKBONES))
    parser.add_argument("--weights", metavar="FILE", help="ImageNet weights file (torchvision)")
    parser.add_argument("--no-pretrained", action="store_true", help="random initialisation")
    parser.add_argument("--encoding", default=defaults.encoding)
    parser.add_argument("--image-size", type=int, default=defaults.image_size)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--optimizer", default=defaults.optimizer, choices=OPTIMIZERS)
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=defaults.val_fraction,
        help="share of each class of each --data root that validates (a lone glitch trains)",
    )
    parser.add_argument("--head-only", action="store_true", help="frozen features + logistic")
    parser.add_argument(
        "--sampling",
        default=defaults.sampling,
        choices=SAMPLINGS,
        help="how batches are drawn; class-source: every class, and within it every --data "
        "root, equally often",
    )
    parser.add_argument("--no-augment", action="store_true", help="no shifts / zoom")
    parser.add_argument("--compile", action="store_true", help="torch.compile the train step")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    add_encode_arguments(parser)


def config_of(args: argparse.Namespace) -> TrainConfig:
    if args.backbone not in BACKBONES:
        raise UserError(f"unknown backbone {args.backbone!r}; choose one of {', '.join(BACKBONES)}")
    return TrainConfig(
        backbone=args.backbone,
        pretrained=not args.no_pretrained,
        weights_path=args.weights,
        encoding=args.encoding,
        image_size=args.image_size,
        head_only=args.head_only,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        augment=not args.no_augment,
        sampling=args.sampling,
        self_train=args.self_train,
        sim_only_weight=args.sim_only_weight,
        compile=args.compile,
        device=args.device,
        val_fraction=args.val_fraction,
        seed=args.seed,
    )


def resumed_config(model_dir: Path, device: str) -> TrainConfig:
    """The TrainConfig of the run in MODEL_DIR (its last.pt), to run on `device`."""
    import torch

    from ml.model import LAST_CHECKPOINT, SIM_ONLY_DIR

    last = model_dir / LAST_CHECKPOINT
    if not last.is_file() and (model_dir / SIM_ONLY_DIR / LAST_CHECKPOINT).is_file():
        # sim_only_weight's companion trains first and is saved without the weight
        raise UserError(
            f"--resume {model_dir}: the run stopped while its simulated-only model trained "
            f"({SIM_ONLY_DIR}/), before its own first epoch, so it cannot be resumed: run the "
            f"same command with --out {model_dir} again (it starts over)"
        )
    if not last.is_file():
        raise UserError(f"--resume {model_dir}: no {LAST_CHECKPOINT} there (nothing to resume)")
    try:
        checkpoint = torch.load(last, map_location="cpu", weights_only=True)
        saved = checkpoint["config"]
    except Exception as exc:  # a truncated or foreign file: torch raises many kinds
        message = f"--resume {model_dir}: cannot read {LAST_CHECKPOINT}: {exc}"
        raise UserError(message.splitlines()[0]) from None
    known = set(TrainConfig.__dataclass_fields__)  # a field since removed is dropped
    # A run saved before sim_only_weight existed trained one network: it goes on as one.
    kept = {k: v for k, v in saved.items() if k in known}
    config = TrainConfig(**{"sim_only_weight": 0.0, **kept, "device": device})
    refuse_finished(model_dir, checkpoint, config)
    return config


def refuse_finished(model_dir: Path, last: dict, config: TrainConfig) -> None:
    """A run that trained all its epochs and wrote what comes after them (metrics.json and
    GLITCH_IDS_FILE) has nothing to resume: a UserError saying so, and what to do, before
    its data are read (resuming it decoded every glitch for minutes, to train nothing)."""
    from ml.train import GLITCH_IDS_FILE

    history = (last.get("train_state") or {}).get("history", [])
    epochs = 1 if config.head_only else config.epochs  # a head-only fit is one "epoch"
    trained = len(history) if not config.head_only else 1  # its last.pt is written at its end
    written = all((model_dir / name).is_file() for name in ("metrics.json", GLITCH_IDS_FILE))
    if trained >= epochs and written:
        raise UserError(
            f"--resume {model_dir}: this run is finished (epoch {trained} of {epochs} trained, "
            "metrics.json written): nothing to resume. Its model is ready (python -m ml "
            f"evaluate --model {model_dir} --data DIR); to train longer or otherwise, start a "
            "new run with --out ANOTHER_DIR and the settings wanted (--epochs ...)"
        )


def refuse_to_overwrite(model_dir: Path) -> None:
    """A new run never writes into a folder that holds a model: its first epoch would
    replace best.pt and last.pt, and an interrupted run would leave the new weights beside
    the old metrics.json and confusion picture. UserError naming the way out."""
    from ml.model import BEST_CHECKPOINT, LAST_CHECKPOINT

    if model_dir.is_file():
        raise UserError(f"--out {model_dir} is a file, not a folder")
    held = [n for n in (BEST_CHECKPOINT, LAST_CHECKPOINT) if (model_dir / n).is_file()]
    if held:
        raise UserError(
            f"--out {model_dir} already holds a model ({', '.join(held)}): choose another "
            "folder, remove this one, or continue its run with --resume"
        )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ml.encoding import ENCODINGS
    from ml.model import resolve_device
    from ml.synth import written_by_synth

    if (args.out is None) == (args.resume is None):
        raise UserError("give --out MODEL_DIR for a new run, or --resume MODEL_DIR, not both")
    if args.pool and not 0 < args.self_train <= 1:  # before any training, not after the first
        raise UserError(f"--self-train {args.self_train}: a confidence in (0, 1]")
    if args.resume is not None:
        args.out = args.resume
        config = resumed_config(args.resume, args.device)
    else:
        refuse_to_overwrite(args.out)
        config = config_of(args)
    resolve_device(config.device)  # a bad --device fails now, not after the decode
    if config.encoding not in ENCODINGS:
        raise UserError(
            f"unknown encoding {config.encoding!r}; choose one of {', '.join(ENCODINGS)}"
        )
    if missing := [str(d) for d in args.sim_only_from if not d.is_dir()]:
        raise UserError(f"--sim-only-from: no such model folder: {', '.join(missing)}")
    simulated = {root for root in args.data if written_by_synth(root)}
    if (config.sim_only_weight or 0) > 0 and not simulated:  # None: left to the data
        raise UserError("--sim-only-weight needs a --data folder that ml synth wrote (its "
                        "manifest.csv beside its config.json)")  # fmt: skip
    samples = merged_split_glitches([s for s in load(args.data) if s.label is not None]).samples
    if len(samples) < 2:
        raise UserError("need at least 2 labelled glitches to train")
    # By class and --data root: a class's lone real glitch trains, whatever its simulations.
    train_samples, val = split_samples(samples, config.val_fraction, config.seed)
    # A pool's labels are never read: an "unlabelled" folder (ml scan's) or a class name this
    # model does not know must not drop its glitches.
    pool = load(args.pool, keep_unknown_labels=True) if args.pool else []
    pool = [replace(s, label=None) for s in pool]
    decode = tqdm(total=len(samples), desc="decode", unit="img", file=sys.stderr)
    bar: tqdm | None = None  # made at the first event: its total counts every fit's epochs

    def on_decode(done: int, total: int) -> None:
        decode.update(done - decode.n)

    def progress(event: TrainProgress) -> None:
        nonlocal bar
        if event.note:  # not a step: a line to show
            tqdm.write(event.note, file=sys.stderr)
            return
        if bar is None:
            decode.close()
            bar = tqdm(total=event.epochs, desc="train", unit="epoch", file=sys.stderr)
        bar.set_postfix(step=f"{event.step}/{event.steps}", loss=f"{event.loss:.3f}",
                        img_s=f"{event.images_per_second:.0f}",
                        val_top1=f"{event.metrics.get('val_top1', float('nan')):.3f}")  # fmt: skip
        if event.epoch_done:
            bar.update(1)

    try:
        result = train(
            train_samples, val, config, args.out,
            cache_dir=args.cache_dir, workers=args.workers, encode_progress=on_decode,
            progress=progress, resume=args.resume is not None, pool_samples=pool,
            simulated_sources=simulated, sim_only_from=args.sim_only_from,
        )  # fmt: skip
    finally:
        decode.close()
        if bar is not None:
            bar.close()
    summary = {
        "model_dir": str(result.model_dir),
        "best_epoch": result.best_epoch,
        "n_train": len(train_samples),
        "n_val": len(val),
        "top1": result.metrics.get("top1"),
        "top5": result.metrics.get("top5"),
        "images_per_second": round(result.images_per_second, 1),
        "seconds": round(result.seconds, 1),
        "pseudo_labels": result.pseudo_labels,
    }
    print(json.dumps(summary))
    return 0
