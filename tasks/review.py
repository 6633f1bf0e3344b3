"""The label audit (default queue): out-of-fold probabilities for every retired and gold
subject, blended with the weighted votes and ranked by cleanlab (ml.audit), suspects stored
for reviewers. Periodic (beat: audit_periodic) and on demand (services.audit_run_request)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from celery import Task
from celery.utils.log import get_task_logger
from django.conf import settings

from ml.errors import UserError
from tasks.celery import app
from tasks.common import (
    CancelCheck,
    Heartbeat,
    JobCancelled,
    fail_row_when_task_fails,
    fresh_connection,
    report_progress,
    time_limits,
    to_samples,
)
from webapp.review import selectors, services
from webapp.review.models import AuditRun

logger = get_task_logger(__name__)

AUDIT_LIMIT_S = settings.GLITCHLAB_AUDIT_TIME_LIMIT_S
IMAGE_SIZE = 224  # the backbone's ImageNet size
TOP_PROBABILITIES = 5  # per suspect, shown as the model's top 3 and kept for export
EMBED_BATCH = 256  # samples decoded and embedded between two looks at a cancel request


@app.task
def audit_periodic() -> dict[str, Any]:
    """Beat: queue an audit unless one is live or there is nothing to audit."""
    if not selectors.subjects_to_audit().exists():
        return {"queued": False, "reason": "no retired or gold subjects"}
    try:
        run = services.audit_run_request(trigger=AuditRun.Trigger.SCHEDULE)
    except services.AuditAlreadyLiveError as exc:
        return {"queued": False, "reason": str(exc)}
    return {"queued": True, "run_id": run.pk}


@app.task(bind=True, acks_late=True, **time_limits(AUDIT_LIMIT_S))
def audit_labels(self: Task, run_id: int) -> dict[str, Any]:
    """Claim the run, rank every retired and gold subject, store the suspects.

    Idempotent: a second delivery finds the run no longer queued and does nothing (unless
    the first one's worker died: its heartbeat is stale, and this delivery takes over); a
    run that dies half way is marked failed (here, by the task_failure handler below or by
    the reaper) and leaves no suspects behind.
    """
    run = services.audit_run_claim(run_id=run_id, worker=self.request.hostname or "")
    if run is None:
        return {"run_id": run_id, "status": "skipped"}
    cancel = CancelCheck(lambda: services.audit_run_cancel_requested(run_id=run_id))
    try:
        with Heartbeat(
            lambda: services.audit_run_heartbeat(run_id=run_id),
            settings.GLITCHLAB_HEARTBEAT_EVERY_S,
        ):
            return _audit(self, run, cancel)
    except JobCancelled:
        services.audit_run_mark_cancelled(run_id=run_id)
        return {"run_id": run_id, "status": "cancelled"}
    except Exception as exc:
        fresh_connection()
        services.audit_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


fail_row_when_task_fails(
    audit_labels.name,
    lambda run_id, error, _task_id: services.audit_run_fail(run_id=int(run_id), error=error),
)


def _progress(task: Task, phase: str, done: int = 0, total: int = 0) -> None:
    report_progress(task, {"phase": phase, "done": done, "total": total})


def _audit(task: Task, run: AuditRun, cancel: CancelCheck) -> dict[str, Any]:
    from ml.audit import MislabelFinder, top_k

    files = selectors.audit_files()
    samples = to_samples(files)
    if len(samples) < 2:
        _store(run_id=run.pk, ranked=[], features="", n_subjects=len(samples))
        return {"run_id": run.pk, "status": "succeeded", "subjects": len(samples)}
    names = _class_names()
    subject_ids = [int(s.id) for s in samples]
    _progress(task, "features", 0, len(samples))
    present, features, description = _features(samples, subject_ids, task, cancel)
    if len(present) < len(samples):  # each one was logged, naming its file
        if not present:
            raise UserError(
                f"none of the {len(samples)} subjects to audit has images that decode "
                "(the worker's log names each file)"
            )
        logger.warning(
            "audit %s: %d of %d subjects left out, their images do not decode",
            run.pk, len(samples) - len(present), len(samples),
        )  # fmt: skip
        samples = [samples[i] for i in present]
        subject_ids = [subject_ids[i] for i in present]
        if len(samples) < 2:
            _store(run_id=run.pk, ranked=[], features="", n_subjects=1)
            return {"run_id": run.pk, "status": "succeeded", "subjects": 1}
    labels = np.array([names.index(str(s.label)) for s in samples])
    cancel.step()
    votes, n_votes = _vote_matrix(subject_ids, names)
    config = run.config or services.audit_config_default()
    _progress(task, "rank", 0, len(samples))
    # A run queued before model_votes existed carries the old fixed vote_weight instead.
    model_votes = config.get("model_votes", settings.GLITCHLAB_AUDIT_MODEL_VOTES)
    finder = MislabelFinder(
        n_splits=int(config["n_splits"]), c=float(config["c"]), model_votes=float(model_votes)
    ).fit(features, labels, n_classes=len(names), votes=votes, n_votes=n_votes)
    _save_neighbour_features(run, subject_ids, samples, features)
    ranked = [
        services.SuspectData(
            subject_id=subject_ids[r.index],
            given_label=names[r.given],
            suggested_label=names[r.suggested],
            score=r.score,
            is_issue=r.is_issue,
            self_confidence=r.self_confidence,
            vote_agreement=r.vote_agreement,
            probabilities=dict(top_k(finder.proba_[r.index], names, TOP_PROBABILITIES)),
        )
        for r in finder.rows_
    ]
    _store(run_id=run.pk, ranked=ranked, features=description, n_subjects=len(samples))
    return {"run_id": run.pk, "status": "succeeded", "subjects": len(samples)}


def _store(
    *, run_id: int, ranked: list[services.SuspectData], features: str, n_subjects: int
) -> None:
    """Record the audit's suspects; once it is the audit reviewers work through, the
    feature folders of older ones go (a failed or cancelled audit removes nothing)."""
    stored = services.audit_run_store(
        run_id=run_id, ranked=ranked, features=features, n_subjects=n_subjects
    )
    if stored:
        _drop_unused_audit_dirs()


AUDIT_DIR = re.compile(r"audit-\d+")


def _drop_unused_audit_dirs() -> None:
    """Each audit keeps the features of every subject it ranked (about 2.6 kB a subject,
    one audit a day by default): only the latest finished audit's and a live one's are
    read (selectors.audit_dirs_in_use). A folder that cannot be removed is logged and left
    for the next audit."""
    root = Path(settings.VAR_DIR) / "review"
    if not root.is_dir():
        return
    in_use = selectors.audit_dirs_in_use()
    for folder in sorted(root.iterdir()):
        if not AUDIT_DIR.fullmatch(folder.name) or folder.name in in_use or not folder.is_dir():
            continue
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            logger.warning("an older audit's features were not removed: %s", exc)


def _class_names() -> list[str]:
    from webapp.labeling.models import GlitchClass

    return list(GlitchClass.objects.order_by("order", "name").values_list("name", flat=True))


def _vote_matrix(subject_ids: list[int], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) mean weighted-vote posterior per subject, NaN rows where nobody voted, and
    (N,) int the number of votes behind each row."""
    table = selectors.vote_posteriors(subject_ids=subject_ids)
    matrix = np.full((len(subject_ids), len(names)), np.nan)
    counts = np.zeros(len(subject_ids), dtype=np.int64)
    for i, subject_id in enumerate(subject_ids):
        posterior = table.posterior.get(subject_id)
        if posterior:
            matrix[i] = [float(posterior.get(name, 0.0)) for name in names]
            counts[i] = table.counts[subject_id]
    return matrix, counts


def _features(
    samples: list[Any], subject_ids: list[int], task: Task, cancel: CancelCheck
) -> tuple[list[int], np.ndarray, str]:
    """The positions of the samples whose images decode, their (K, D) features, and what
    the features are, reusing the rows cached by earlier audits (a subject's images never
    change). Frozen ImageNet backbone, or the active model's embeddings."""
    from ml.backbones import DEFAULT_BACKBONE
    from webapp.modeling.selectors import model_version_active

    version = (
        model_version_active() if settings.GLITCHLAB_AUDIT_FEATURES == "active-model" else None
    )
    if version is not None:
        key, description = f"model-{version.pk}", f"active model {version.name}"
    else:
        key, description = DEFAULT_BACKBONE, f"{DEFAULT_BACKBONE} ImageNet (frozen)"
    cache = Path(settings.VAR_DIR) / "review" / f"features-{key}.npz"
    known: dict[int, np.ndarray] = {}
    if cache.is_file():
        data = np.load(cache)
        known = dict(zip(data["subject_ids"].tolist(), data["features"], strict=True))
    todo = [i for i, sid in enumerate(subject_ids) if sid not in known]
    if todo:
        kept, fresh = _embed([samples[i] for i in todo], version, task, cancel)
        for k, row in zip(kept, fresh, strict=True):
            known[subject_ids[todo[k]]] = row
        if kept:
            cache.parent.mkdir(parents=True, exist_ok=True)
            ids = np.array(sorted(known))
            features = np.stack([known[i] for i in ids.tolist()])
            _atomic_savez(cache, subject_ids=ids, features=features)
    present = [i for i, sid in enumerate(subject_ids) if sid in known]
    rows = [known[subject_ids[i]] for i in present]
    return present, (np.stack(rows) if rows else np.zeros((0, 0))).astype(np.float32), description


def _embed(
    samples: list[Any], version: Any, task: Task, cancel: CancelCheck
) -> tuple[list[int], np.ndarray]:
    """The positions of the samples whose images decode and their (K, D) features,
    EMBED_BATCH samples at a time; a cancel stops it between two images. A sample a file of
    which does not decode is left out, and the log names the file (encode_decodable)."""
    import torch

    from ml.embed import embed
    from ml.encoding import encode_decodable
    from ml.model import views_of

    done = 0

    def on_encode(i: int, _: int) -> None:
        cancel()
        _progress(task, "decode", done + i, len(samples))

    if version is not None:
        from ml.model import load_model

        model: Any = load_model(
            Path(version.model_dir or version.checkpoint_path),
            device=settings.GLITCHLAB_TRAIN_DEVICE,
        )
        encoding, size, batch_size = model.encoding, model.image_size, 256
    else:
        from ml.backbones import DEFAULT_BACKBONE, build_backbone

        model, _ = build_backbone(DEFAULT_BACKBONE, pretrained=True)
        encoding, size, batch_size = "rgb-durations", IMAGE_SIZE, 64
    chunks = []
    kept: list[int] = []
    for start in range(0, len(samples), EMBED_BATCH):
        cancel.step()
        part = samples[start : start + EMBED_BATCH]
        decoded = encode_decodable(
            part, encoding, size, workers=1, progress=on_encode, warn=logger.warning
        )
        if decoded.samples:
            with torch.inference_mode():
                # the view ensemble (ml.views) is for a trained model, not the bare extractor
                views = views_of(decoded.samples) if version is not None else None
                chunks.append(embed(model, decoded.images, batch_size=batch_size, views=views))
        kept.extend(start + i for i in decoded.kept)
        done += len(part)
    return kept, (np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32))


def _save_neighbour_features(
    run: AuditRun, subject_ids: list[int], samples: list[Any], features: np.ndarray
) -> None:
    """L2-normalised float16 features + labels under the run's folder: the review page's
    nearest neighbours from both candidate classes."""
    norm = features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-9)
    out = selectors.audit_dir(run) / "features.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_savez(
        out,
        subject_ids=np.array(subject_ids),
        labels=np.array([str(s.label) for s in samples]),
        features=norm.astype(np.float16),
    )


def _atomic_savez(path: Path, **arrays: Any) -> None:
    from ml.files import atomic_write

    atomic_write(path, lambda fh: np.savez(fh, **arrays))
