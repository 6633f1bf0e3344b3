"""Training throughput (img/s) and wall time of ml.train.fit, the real training loop.

Three measurements, each optional:
  synthetic  random uint8 images of the real shape (N, 3, S, S) and 22 classes: the GPU
             throughput number (no decode in it; the data sit on the GPU as in training);
  real       --data DIR: decode once (timed), then train on it with a stratified split;
  transfer   --compare-pretrained: the same data (--data, or --encoded) fine-tuned from
             ImageNet weights and from random init (--no-pretrained), validation top-1 of both.

  python bench/train.py                                   # CPU-sized defaults
  python bench/train.py --device cuda --images 8500 --epochs 10 --compile
  python bench/train.py --device cuda --repeat 2     # cold process, then warm
  python bench/train.py --device cuda --data ../shared/data/gravityspy-real --compare-pretrained
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.classes import CANONICAL_NAMES  # noqa: E402
from ml.data import DURATIONS  # noqa: E402
from ml.embed import embed  # noqa: E402
from ml.model import load_model, predict_and_embed, resolve_device  # noqa: E402
from ml.train import TrainConfig, TrainResult, fit, stratified_split  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--backbone", default="efficientnet_lite0")
    p.add_argument("--images", type=int, help="synthetic images (default 8500 GPU, 48 CPU)")
    p.add_argument("--epochs", type=int, help="default 10 on a GPU, 1 on a CPU")
    p.add_argument("--batch-size", type=int, help="default 256 on a GPU, 16 on a CPU")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--compile", action="store_true", help="torch.compile the train step")
    p.add_argument("--precision", default="auto", help="auto | bf16 | fp32")
    p.add_argument("--cudnn-benchmark", action="store_true", help="autotune convolutions")
    p.add_argument("--no-synthetic", action="store_true", help="skip the synthetic run")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="train the synthetic set this many times in one process: the first run pays the "
        "process's warm-up (CUDA: cuDNN picks its backward convolutions, ~8 s on an H200), the "
        "later ones are what a long-lived GPU worker pays from its second retrain on",
    )
    p.add_argument("--data", action="append", help="real glitch folder: decode + train on it")
    p.add_argument("--encoded", type=Path, help=".npz with images (N,3,S,S) uint8 and labels")
    p.add_argument("--save-encoded", type=Path, help="write the decoded --data as such a .npz")
    p.add_argument("--real-epochs", type=int, default=10, help="epochs on real data")
    p.add_argument("--compare-pretrained", action="store_true", help="ImageNet vs scratch")
    p.add_argument("--workers", type=int, help="decode processes")
    p.add_argument("--json", type=Path, help="also write all numbers to this file")
    return p.parse_args()


def synthetic(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 3, size, size), dtype=np.uint8)
    labels = [CANONICAL_NAMES[i % len(CANONICAL_NAMES)] for i in range(n)]
    return images, labels


def summarise(name: str, result: TrainResult, n_images: int) -> dict[str, float | str]:
    per_epoch = [row["images_per_second"] for row in result.history]
    steady = statistics.median(per_epoch[1:]) if len(per_epoch) > 1 else per_epoch[0]
    row: dict[str, float | str] = {
        "run": name,
        "images": n_images,
        "epochs": len(result.history),
        "first_epoch_img_s": round(per_epoch[0], 1),
        "steady_img_s": round(steady, 1),
        "train_seconds": round(sum(r["seconds"] for r in result.history), 2),
        "wall_seconds": round(result.seconds, 2),
    }
    top1 = result.metrics.get("top1")
    if top1 is not None:
        row["val_top1"] = round(float(top1), 4)
    print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return row


def rate(
    run: str, n: int, unit: str, call: Callable[[], object], what: str | None = None
) -> dict[str, float | str]:
    """Time call() over n items; print "<what>: <rate> <unit>" and return the result row."""
    t0 = time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    print(f"{what or run}: {n / seconds:.0f} {unit}", flush=True)
    return {"run": run, "images": n, "img_s": round(n / seconds, 1)}


def load_real(args: argparse.Namespace, size: int) -> tuple[np.ndarray, list[str], float]:
    """(images, labels, decode seconds) from --encoded or by decoding --data."""
    if args.encoded:
        with np.load(args.encoded) as z:
            return z["images"], [str(s) for s in z["labels"]], 0.0
    from ml.data import load_samples
    from ml.encoding import encode_samples

    samples = [s for s in load_samples(args.data).samples if s.label is not None]
    t0 = time.perf_counter()
    images = encode_samples(samples, "rgb-durations", size, workers=args.workers)
    seconds = time.perf_counter() - t0
    labels = [str(s.label) for s in samples]
    print(f"decode: {len(samples)} glitches in {seconds:.1f} s "
          f"({len(samples) / seconds:.0f} glitches/s)", flush=True)  # fmt: skip
    if args.save_encoded:
        np.savez_compressed(args.save_encoded, images=np.asarray(images), labels=np.array(labels))
    return np.asarray(images), labels, seconds


def main() -> int:
    args = parse_args()
    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    size = args.image_size
    config = TrainConfig(
        backbone=args.backbone,
        image_size=size,
        epochs=args.epochs or (10 if cuda else 1),
        batch_size=args.batch_size or (256 if cuda else 16),
        device=str(device),
        precision=args.precision,
        compile=args.compile,
        cudnn_benchmark=args.cudnn_benchmark,
        eval_batch_size=512 if cuda else 64,
    )
    name = torch.cuda.get_device_name(device) if cuda else platform.processor() or "cpu"
    print(
        f"device={device} ({name}) torch={torch.__version__} backbone={args.backbone} "
        f"size={size} batch={config.batch_size} compile={config.compile}",
        flush=True,
    )
    rows: list[dict[str, float | str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_synthetic:
            n = args.images or (8500 if cuda else 48)
            images, labels = synthetic(n, size)
            for run in range(1, max(1, args.repeat) + 1):
                name = "synthetic" if run == 1 else f"synthetic-{run}"
                result = fit(images, labels, None, None, config, Path(tmp) / name)
                rows.append(summarise(name, result, n))
            model = load_model(Path(tmp) / "synthetic", device=device)
            embed(model, images[: min(n, 512)])  # warm-up
            batch, four_views = config.eval_batch_size, [DURATIONS] * n
            rows.append(rate("embed", n, "img/s", lambda: embed(model, images, batch_size=batch)))
            # What scoring and discovery pay per glitch: the view ensemble (ml.views) of
            # four-view glitches runs the network on the glitch and each of its 4 views alone.
            rows.append(rate(
                "embed-views", n, "glitches/s",
                lambda: embed(model, images, batch_size=batch, views=four_views),
                what="embed, view ensemble of 4-view glitches",
            ))  # fmt: skip
            # The scoring task's call: probabilities and embedding from one pass.
            rows.append(rate(
                "score-views", n, "glitches/s",
                lambda: predict_and_embed(model, images, batch_size=batch, views=four_views),
                what="score (probabilities + embedding), view ensemble",
            ))  # fmt: skip
            # With TrainConfig.sim_only_weight a second network (its simulated-only model)
            # scores every glitch too; here the same network stands in for it.
            averaged = replace(
                model, config={**model.config, "sim_only_weight": 0.5}, companion=model
            )
            rows.append(rate(
                "score-views-sim-only", n, "glitches/s",
                lambda: predict_and_embed(averaged, images, batch_size=batch, views=four_views),
                what="score, view ensemble, averaged with a simulated-only model",
            ))  # fmt: skip
            # A one-view glitch is scored as each of the four durations it could be.
            one_view = [(1.0,)] * n
            rows.append(rate(
                "score-one-view", n, "glitches/s",
                lambda: predict_and_embed(model, images, batch_size=batch, views=one_view),
                what="score, one-view glitches (averaged over 4 durations)",
            ))  # fmt: skip

        if args.data or args.encoded:
            images, labels, decode_s = load_real(args, size)
            train_idx, val_idx = stratified_split(labels, 0.2, config.seed)
            tr = (images[train_idx], [labels[i] for i in train_idx])
            va = (images[val_idx], [labels[i] for i in val_idx])
            real = replace(config, epochs=args.real_epochs)
            variants = [("real-pretrained", real)]
            if args.compare_pretrained:
                variants.append(("real-scratch", replace(real, pretrained=False)))
            for run_name, cfg in variants:
                result = fit(*tr, *va, cfg, Path(tmp) / run_name)
                row = summarise(run_name, result, len(train_idx))
                row["decode_seconds"] = round(decode_s, 2)
                rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
