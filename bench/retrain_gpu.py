"""A real fine-tune through the Celery task code, timed: retrain -> gate -> score -> activate.

Builds a throwaway GlitchLab (SQLite + VAR_DIR under --out), fills it with simulated
glitches (22 classes, class-specific Omega-scan-like shapes with jitter and noise, four
durations each, bare viridis crops), then runs `manage.py retrain --wait` with Celery in
eager mode: the very functions a GPU worker runs (tasks.training.train_model ->
ml.train.train, then tasks.predictions.score_subjects and activate_and_reroute), only in
this process instead of behind Redis. Prints one JSON object with the timings.

    python bench/retrain_gpu.py --per-class 200 --epochs 10            # on a GPU machine
    python bench/retrain_gpu.py --per-class 3 --epochs 1 --image-size 32 --device cpu  # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DURATIONS = (0.5, 1.0, 2.0, 4.0)
SIZE = (400, 330)  # width, height of one bare plot-area crop


def _viridis(energy: np.ndarray) -> np.ndarray:
    import matplotlib

    return np.rint(matplotlib.colormaps["viridis"](energy)[..., :3] * 255).astype(np.uint8)


def glitch_views(class_index: int, seed: int) -> list[np.ndarray]:
    """Four uint8 (H, W, 3) views of one glitch of class `class_index` (0..21).

    The class fixes a family (blip, line, chirp, arches, repeated blips, broadband burst)
    and a frequency band; each glitch jitters position, size and loudness; the longer the
    duration, the narrower the feature in time, as on a real Omega scan.
    """
    rng = np.random.default_rng(seed)
    width, height = SIZE
    family, band = class_index % 6, class_index // 6
    y_centre = 0.2 + 0.2 * band + rng.uniform(-0.05, 0.05)  # 0 = top (high frequency)
    x_centre = 0.5 + rng.uniform(-0.08, 0.08)
    loud = rng.uniform(0.6, 1.0)
    yy, xx = np.mgrid[0:height, 0:width]
    y, x = yy / height, xx / width
    views = []
    for duration in DURATIONS:
        squeeze = 1.0 / duration  # features shrink in time on longer windows
        dx = (x - x_centre) / squeeze
        energy = rng.uniform(0, 0.2, size=(height, width))
        if family == 0:  # blip: short vertical teardrop
            shape = np.exp(-((dx / 0.02) ** 2) - ((y - y_centre) / 0.15) ** 2)
        elif family == 1:  # line: narrow horizontal band over the whole window
            shape = np.exp(-(((y - y_centre) / 0.015) ** 2)) * (0.7 + 0.3 * np.sin(20 * x))
        elif family == 2:  # chirp: track rising in frequency towards the centre
            track = y_centre + 0.3 * np.clip(-dx, 0, 1) ** 0.5
            shape = np.exp(-(((y - track) / 0.02) ** 2)) * (dx < 0.02) * (dx > -0.5)
        elif family == 3:  # arches repeating in time
            phase = (dx * 4) % 1.0
            arch = y_centre + 0.25 * (2 * phase - 1) ** 2
            shape = np.exp(-(((y - arch) / 0.02) ** 2)) * (y > y_centre - 0.05)
        elif family == 4:  # repeated blips
            comb = np.exp(-((((dx * 5) % 1.0 - 0.5) / 0.04) ** 2))
            shape = comb * np.exp(-(((y - y_centre) / 0.1) ** 2)) * (np.abs(dx) < 0.5)
        else:  # broadband burst
            shape = np.exp(-((dx / 0.06) ** 2)) * (y > y_centre - 0.3)
        energy = np.clip(energy + loud * shape, 0, 1)
        views.append(_viridis(energy))
    return views


def _write_glitch(job: tuple[Path, str, int, int, int]) -> list[tuple[float, str]]:
    from PIL import Image

    media, external_id, class_index, seed, _ = job
    names = []
    for duration, view in zip(DURATIONS, glitch_views(class_index, seed), strict=True):
        name = f"subjects/gpu-bench/{external_id}_{duration}.png"
        path = media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(view).save(path, compress_level=1)
        names.append((duration, name))
    return names


def populate(per_class: int, workers: int) -> dict[str, int]:
    """70% retired pool labels (train), 15% validation, 15% open pool subjects to score."""
    from django.conf import settings
    from django.utils import timezone

    from webapp.labeling.models import GlitchClass, Subject, SubjectImage

    classes = list(GlitchClass.objects.exclude(name="None_of_the_Above").order_by("order"))[:22]
    media = Path(settings.MEDIA_ROOT)
    jobs, rows = [], []
    for c_index, glitch_class in enumerate(classes):
        for i in range(per_class):
            share = i / per_class
            role = "validation" if 0.70 <= share < 0.85 else "pool"
            retired = share < 0.70
            external_id = f"{glitch_class.name}_{i:05d}"
            rows.append((external_id, glitch_class, role, retired))
            jobs.append((media, external_id, c_index, 1000 * c_index + i, 0))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(_write_glitch, jobs, chunksize=16))
    now = timezone.now()
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                external_id=external_id,
                source="gpu-bench",
                role=role,
                source_label=glitch_class.name if role == "validation" else "",
                status="retired" if retired else "active",
                retired_label=glitch_class if retired else None,
                retired_at=now if retired else None,
            )
            for external_id, glitch_class, role, retired in rows
        ]
    )
    SubjectImage.objects.bulk_create(
        [
            SubjectImage(subject=subject, duration=duration, image=name)
            for subject, names in zip(subjects, images, strict=True)
            for duration, name in names
        ]
    )
    return {
        "train": sum(1 for r in rows if r[3]),
        "validation": sum(1 for r in rows if r[2] == "validation"),
        "open": sum(1 for r in rows if r[2] == "pool" and not r[3]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "gpu-retrain")
    parser.add_argument("--json-out", type=Path, help="also write the JSON summary here")
    args = parser.parse_args()

    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DEBUG": "true",  # a throwaway local database: the debug key is fine here
            "GLITCHLAB_VAR_DIR": str(args.out),
            "DATABASE_URL": f"sqlite:///{args.out / 'db.sqlite3'}",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            # Eager tasks still open a producer: an in-process broker, no Redis needed.
            "CELERY_BROKER_URL": "memory://",
            "CELERY_RESULT_BACKEND": "cache+memory://",
            "GLITCHLAB_TRAIN_DEVICE": args.device,
            "GLITCHLAB_SCORE_BATCH_SIZE": "1024",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from webapp.modeling.models import ModelVersion, TrainingRun

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    t_migrate = time.perf_counter()
    counts = populate(args.per_class, args.workers)
    t_data = time.perf_counter()
    call_command(
        "retrain",
        "--wait",
        "--epochs", str(args.epochs),
        "--image-size", str(args.image_size),
        "--batch-size", str(args.batch_size),
        "--backbone", args.backbone,
    )  # fmt: skip
    t_done = time.perf_counter()

    run = TrainingRun.objects.get()
    version = ModelVersion.objects.get(training_run=run)
    summary = {
        "device": run.device,
        "status": run.status,
        "subjects": counts,
        "config": run.config,
        "train_wall_s": round(run.duration_s or 0.0, 1),
        "retrain_command_wall_s": round(t_done - t_data, 1),
        "score_and_activate_s": round((version.activated_at - run.finished_at).total_seconds(), 1)
        if version.activated_at and run.finished_at
        else None,
        "validation_top1": version.val_top1,
        "validation_top5": version.metrics.get("top5"),
        "active": version.is_active,
        "n_scored": version.predictions.count(),
        "n_rerouted": version.n_rerouted,
        "migrate_s": round(t_migrate - t0, 1),
        "make_data_s": round(t_data - t_migrate, 1),
        "log": run.log.splitlines()[-12:],
    }
    text = json.dumps(summary, indent=1, default=str)
    print(text)
    if args.json_out:
        args.json_out.write_text(text)
    return 0 if run.status == "succeeded" and version.is_active else 1


if __name__ == "__main__":
    raise SystemExit(main())
