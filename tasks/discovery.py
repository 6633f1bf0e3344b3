"""Discovery jobs: embed every subject with the active model (gpu), then the 2-D map and
the clusters of candidate new classes (default). Queued by tasks.predictions'
activate_and_reroute once a version is active, and queueing clustering in turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from celery import Task
from celery.utils.log import get_task_logger
from django.conf import settings

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
    unless_the_database_is_down,
)
from webapp.discovery import selectors, services
from webapp.discovery.models import EmbeddingSet
from webapp.modeling import services as modeling_services
from webapp.modeling.models import ClaimHolder, ModelVersion

logger = get_task_logger(__name__)

EMBED_LIMIT_S = settings.GLITCHLAB_SCORE_TIME_LIMIT_S


@app.task(bind=True, acks_late=True, **time_limits(EMBED_LIMIT_S))
def embed_subjects(self: Task, version_id: int, force: bool = False) -> dict[str, Any]:
    """Embeddings of every subject (pool, gold, validation; any status) under the version,
    written to one .npz; then clustering is queued. Claims its row first, so a redelivered
    message does nothing while the first delivery runs (and beats) or after it finished."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        return {"version_id": version_id, "status": "missing"}
    embedding_set = services.embedding_set_claim(
        version_id=version_id, force=force, worker=self.request.hostname or ""
    )
    if embedding_set is None:
        return {"version_id": version_id, "status": "skipped"}
    set_id = embedding_set.pk
    cancel = CancelCheck(lambda: services.embedding_set_cancel_requested(set_id=set_id))
    try:
        with Heartbeat(
            lambda: services.embedding_set_heartbeat(set_id=set_id),
            settings.GLITCHLAB_HEARTBEAT_EVERY_S,
        ):
            ids, vectors = _embed_all(self, version, cancel)
        services.embedding_set_store(set_id=set_id, ids=ids, embeddings=vectors)
    except JobCancelled:
        services.embedding_set_mark_cancelled(set_id=set_id)
        return {"version_id": version_id, "status": "cancelled"}
    except Exception as exc:
        fresh_connection()
        services.embedding_set_fail(set_id=embedding_set.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    # Outside the try: the embeddings are stored. A broker that refuses the clustering says
    # so on the ready row, which the page shows with a button to queue it again.
    services.embedding_set_map_queue(set_id=set_id)
    return {"version_id": version_id, "status": "ready", "embedded": len(ids)}


fail_row_when_task_fails(
    embed_subjects.name,
    lambda version_id, error, _task_id: [
        services.embedding_set_fail(set_id=pk, error=error)
        for pk in EmbeddingSet.objects.filter(model_version_id=version_id).values_list(
            "pk", flat=True
        )
    ],
)


def _embed_all(
    task: Task, version: ModelVersion, cancel: CancelCheck
) -> tuple[list[int], np.ndarray]:
    """(N,) subject ids and (N, D) float32 embeddings of every decodable subject; a cancel
    request stops it between two batches."""
    from ml.embed import embed
    from ml.encoding import encode_decodable
    from ml.model import load_model, views_of

    files = selectors.subject_files_all()
    model = load_model(
        Path(version.model_dir or version.checkpoint_path),
        device=settings.GLITCHLAB_TRAIN_DEVICE,
    )
    ids: list[int] = []
    chunks: list[np.ndarray] = []
    batch = settings.GLITCHLAB_SCORE_BATCH_SIZE
    for start in range(0, len(files), batch):
        cancel.step()
        decoded = encode_decodable(
            to_samples(files[start : start + batch]),
            model.encoding,
            model.image_size,
            workers=1,
            warn=logger.warning,
        )
        images, kept = decoded.images, decoded.samples
        if kept:
            chunks.append(embed(model, images, views=views_of(kept)))
            ids.extend(int(s.id) for s in kept)
        report_progress(task, {"done": min(start + batch, len(files)), "total": len(files)})
    dim = chunks[0].shape[1] if chunks else 0
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, dim), np.float32)
    return ids, vectors


# Limited (UMAP may run long) below Redis's visibility timeout, past which it would run twice.
@app.task(bind=True, acks_late=True, **time_limits(EMBED_LIMIT_S))
def cluster_subjects(self: Task, set_id: int) -> dict[str, Any]:
    """The 2-D UMAP map of all subjects and a fresh clustering of the candidates, for the
    claim (map_queued_at) that queued it. However it ends, the claim is freed and, if the
    map or clusters were not made, the row's `error` says why: the page offers to queue it
    again. While it works, a ClaimHolder names its worker and beats, as a job row does: a
    worker killed whole (a host reboot) leaves it behind, and the worker's restart or the
    reaper free the claim, saying why. One claim, one map: a second delivery does nothing
    while the first works, nor once the claim was freed (the first's worker died, and Redis
    hands the message out again hours later); after an admin's Map and cluster again, the
    first of the two messages to run makes the map, and the other finds nothing owed."""
    holder = modeling_services.claim_hold(
        kind=ClaimHolder.Kind.MAP, object_id=set_id, worker=self.request.hostname or ""
    )
    if holder is None:
        logger.info("embeddings %s are being mapped by another delivery: nothing to do", set_id)
        return {"set_id": set_id, "status": "skipped"}
    try:
        if not services.embedding_set_map_claimed(set_id=set_id):
            return {"set_id": set_id, "status": "not queued"}
        with Heartbeat(
            lambda: modeling_services.claim_beat(holder_id=holder),
            settings.GLITCHLAB_HEARTBEAT_EVERY_S,
        ):
            result = _map_and_cluster(set_id)
        services.embedding_set_map_ended(set_id=set_id, error=result.pop("error", ""))
        return result
    except Exception as exc:
        fresh_connection()
        services.embedding_set_map_ended(
            set_id=set_id,
            error=f"the job failed: {type(exc).__name__}: {exc}",
        )
        raise
    finally:  # after the claim is freed: a worker killed in between leaves a holder of nothing
        with unless_the_database_is_down("the end of the clustering job"):
            modeling_services.claim_drop(holder_id=holder)


# A clustering killed with its worker (OOM in UMAP, the hard time limit) reaches no except
# block: the worker's main process frees the claim, saying why. (A worker killed whole
# reports nothing: its restart or the reaper do the same, services.embedding_set_maps_fail_lost.)
fail_row_when_task_fails(
    cluster_subjects.name,
    lambda set_id, error, _task_id: services.embedding_set_map_lost(
        set_id=int(set_id), error=error
    ),
)


def _map_and_cluster(set_id: int) -> dict[str, Any]:
    from ml.cluster import GlitchClusterer, umap_project

    embedding_set = EmbeddingSet.objects.select_related("model_version").get(pk=set_id)
    if embedding_set.status != EmbeddingSet.Status.READY:
        return {"set_id": set_id, "status": "not ready"}
    if services.embedding_set_failed_if_missing(embedding_set=embedding_set):  # Embed again
        return {"set_id": set_id, "status": "embeddings file missing"}
    stored = selectors.embeddings_load(embedding_set)
    if len(stored.ids) < 3:  # UMAP's least; clustering needs more (below)
        n = len(stored.ids)
        return {"set_id": set_id, "status": "too few", "error": f"{n} glitches are too few to map"}
    services.map_store(set_id=set_id, xy=umap_project(stored.unit, random_state=0))
    wanted = [i for i in selectors.subjects_to_cluster(version=embedding_set.model_version)]
    rows = [stored.row[i] for i in wanted if i in stored.row]
    min_size = settings.GLITCHLAB_DISCOVERY_MIN_CLUSTER_SIZE
    if len(rows) < max(2 * min_size, 3):
        return {"set_id": set_id, "status": "too few candidates", "candidates": len(rows)}
    vectors = stored.unit[rows]
    clusterer = GlitchClusterer(min_cluster_size=min_size, random_state=0).fit(vectors)
    run = services.cluster_run_store(
        set_id=set_id,
        subject_ids=[int(stored.ids[r]) for r in rows],
        labels=clusterer.labels_,
        embeddings=vectors,
        params=clusterer.get_params(),
    )
    return {"set_id": set_id, "status": "clustered", "clusters": run.n_clusters}
