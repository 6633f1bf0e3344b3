"""A retrain end to end in this process (eager Celery): run -> model -> scored -> active."""

from __future__ import annotations

from pathlib import Path

import pytest
from glitch_data import make_dataset

from webapp.labeling.models import Subject
from webapp.modeling import services
from webapp.modeling.models import ModelVersion, Prediction, TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_first_retrain_trains_promotes_scores_and_reroutes(tiny_settings, eager_celery):
    data = make_dataset()
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert (run.n_train, run.n_val) == (16, 6)
    assert run.device.startswith("cpu") and run.started_at and run.finished_at
    assert run.progress["phase"] == "done" and "epoch 1/1" in run.log

    version = ModelVersion.objects.get(training_run=run)
    assert version.is_active and not version.activation_pending
    assert version.gate == ModelVersion.Gate.PASSED
    assert Path(version.model_dir) == Path(tiny_settings.VAR_DIR) / "models" / run.out_dir_name
    assert (Path(version.model_dir) / "best.pt").is_file()
    assert (Path(version.model_dir) / "confusion.png").is_file()
    # its last.pt (to resume a run cut short) went once it succeeded: as large as best.pt
    assert not list(Path(version.model_dir).rglob("last.pt")) and "removed last.pt" in run.log
    assert {"top1", "top5", "per_class", "confusion"} <= version.metrics.keys()
    assert sorted(version.train_subject_ids) == sorted(s.pk for s in data["train"])
    assert sorted(version.val_subject_ids) == sorted(s.pk for s in data["validation"])
    assert set(version.val_subject_ids).isdisjoint(version.train_subject_ids)
    assert version.library_versions["torch"]

    open_ids = {s.pk for s in data["open"]}
    predicted = set(
        Prediction.objects.filter(model_version=version).values_list("subject_id", flat=True)
    )
    # Every open pool subject and every gold one (the map shows gold as it shows the open
    # pool: with the model's guess), nothing else (no retired or validation subject).
    gold_ids = set(Subject.objects.filter(role=Subject.Role.GOLD).values_list("pk", flat=True))
    assert gold_ids and predicted == open_ids | gold_ids
    for subject in Subject.objects.filter(pk__in=open_ids):
        assert subject.priority > 0  # ranked by the new model
        assert subject.posterior  # the model counts as one vote

    # A second retrain is gated against the first, glitch by glitch on the same 6
    # validation glitches: far too few to tell two such models apart.
    second = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    candidate = ModelVersion.objects.get(training_run=second)
    assert candidate.gate_comparison["n"] == 6, candidate.gate_reason
    assert candidate.gate == ModelVersion.Gate.UNDECIDED
    assert candidate.gate_reason.startswith("too few validation glitches to decide")
    assert not candidate.activation_pending and ModelVersion.objects.get(pk=version.pk).is_active


def test_a_fine_tuning_retrain_self_trains_on_the_open_pool(tiny_settings, eager_celery):
    from glitch_data import apply_tiny_training

    apply_tiny_training(tiny_settings, head_only=False)
    tiny_settings.GLITCHLAB_SELF_TRAIN_POOL = 100  # off by default
    # Every pool glitch joins: a tiny first model's confidence is no test's to pin.
    tiny_settings.GLITCHLAB_SELF_TRAIN_MIN_CONFIDENCE = 0.01
    data = make_dataset()
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    n_open = len(data["open"])
    assert f"then self-trained with {n_open} open pool glitches" in run.log
    assert f"sure (>= 0.01) of {n_open} of the {n_open} pool glitches; they joined" in run.log
    assert "epoch 2/2" in run.log  # the two fits are one run of 2 x 1 epoch
    model_dir = Path(tiny_settings.VAR_DIR) / "models" / run.out_dir_name
    assert (model_dir / "teacher" / "best.pt").is_file()  # the model that labelled the pool
    version = ModelVersion.objects.get(training_run=run)
    assert (Path(version.model_dir) / "best.pt").is_file()
    assert not list(model_dir.rglob("last.pt"))  # the teacher's too, once the run succeeded


def test_no_pool_no_self_training(tiny_settings, eager_celery):
    from glitch_data import apply_tiny_training

    apply_tiny_training(tiny_settings, head_only=False)  # GLITCHLAB_SELF_TRAIN_POOL: 0 (off)
    make_dataset()
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert "self-train" not in run.log
    assert not (Path(tiny_settings.VAR_DIR) / "models" / run.out_dir_name / "teacher").exists()


def test_a_retried_run_says_when_the_labels_changed_since_its_earlier_attempt(
    tiny_settings, eager_celery
):
    """A retry continues after its last epoch on the labels of its own time; it trained on
    others before. It went on without a word; now its log says so."""
    make_dataset()
    config = services.train_config_default()
    run = TrainingRun.objects.create(
        trigger=TrainingRun.Trigger.COMMAND,
        config=config,
        status=TrainingRun.Status.FAILED,
        n_train=3,  # what the earlier attempt trained on
        n_val=1,
    )
    services.training_run_retry(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert (
        "the labels changed since this run's earlier attempt (3 training and 1 validation "
        "glitches, now 16 and 6)" in run.log
    )


def test_a_retried_run_whose_last_checkpoint_does_not_load_starts_over_and_says_so(
    tiny_settings, eager_celery
):
    """A last.pt cut short (a disk error) made every Retry fail on its unpickling."""
    from glitch_data import apply_tiny_training

    apply_tiny_training(tiny_settings, head_only=False)
    make_dataset()
    run = TrainingRun.objects.create(
        trigger=TrainingRun.Trigger.COMMAND,
        config=services.train_config_default(),
        status=TrainingRun.Status.FAILED,
    )
    folder = Path(tiny_settings.VAR_DIR) / "models" / run.out_dir_name
    folder.mkdir(parents=True)
    (folder / "last.pt").write_bytes(b"PK\x03\x04 cut short")

    services.training_run_retry(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert "last.pt did not load" in run.log and "moved to last.pt.corrupt" in run.log
    assert (folder / "last.pt.corrupt").is_file()


def test_a_retrain_can_average_in_a_model_of_the_simulated_glitches_alone(
    tiny_settings, eager_celery
):
    """GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT 0.5, set: the retrain trains the second model
    on the subjects of GLITCHLAB_SIMULATED_SOURCES, and the model it registers, its gate and
    its scoring average the two."""
    from glitch_data import apply_tiny_training

    from ml.model import SIM_ONLY_DIR, load_model

    apply_tiny_training(tiny_settings, head_only=False)
    tiny_settings.GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT = 0.5
    tiny_settings.GLITCHLAB_SIMULATED_SOURCES = ["modeling-test"]
    data = make_dataset()
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert "first a model on the 16 simulated glitches alone, averaged in at weight 0.5" in run.log
    version = ModelVersion.objects.get(training_run=run)
    assert (Path(version.model_dir) / SIM_ONLY_DIR / "best.pt").is_file()
    assert load_model(version.model_dir, device="cpu").companion is not None
    assert Prediction.objects.filter(model_version=version).count() >= len(data["open"])


def test_by_default_a_retrain_on_simulated_and_real_glitches_averages_them(
    tiny_settings, eager_celery
):
    """GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT unset (None: left to the data): with simulated
    subjects of 2 classes beside real ones, the retrain averages in a model of the simulated
    ones alone at 0.5 (ml train's default since 2026-12-07); the stored run says "left to
    the data", the model what it chose. With only real subjects it trains one network."""
    from glitch_data import apply_tiny_training

    from ml.model import SIM_ONLY_DIR, load_model

    apply_tiny_training(tiny_settings, head_only=False)
    assert tiny_settings.GLITCHLAB_TRAIN_SIM_ONLY_WEIGHT is None
    make_dataset()
    only_real = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    only_real.refresh_from_db()
    assert only_real.status == TrainingRun.Status.SUCCEEDED, only_real.error + only_real.log
    single = ModelVersion.objects.get(training_run=only_real)
    assert not (Path(single.model_dir) / SIM_ONLY_DIR).exists()
    assert load_model(single.model_dir, device="cpu").config["sim_only_weight"] == 0

    tiny_settings.GLITCHLAB_SIMULATED_SOURCES = ["simulated-test"]
    Subject.objects.filter(role=Subject.Role.GOLD).update(source="simulated-test")  # 2 + 2
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert run.config["sim_only_weight"] is None
    assert "first a model on the 4 simulated glitches alone, averaged in at weight 0.5" in run.log
    assert "a second model trains on the simulated glitches alone" not in run.log  # said once
    version = ModelVersion.objects.get(training_run=run)
    model = load_model(version.model_dir, device="cpu")
    assert model.companion is not None and model.config["sim_only_weight"] == 0.5

    # The next retrain, on the same simulated subjects: their model is the one above, reused
    # (a hard link), not trained again; one simulated label changed: trained again.
    again = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    again.refresh_from_db()
    assert again.status == TrainingRun.Status.SUCCEEDED, again.error + again.log
    assert f"the simulated-only model of {version.model_dir} was trained on these" in again.log
    reused = Path(ModelVersion.objects.get(training_run=again).model_dir) / SIM_ONLY_DIR
    assert (reused / "best.pt").samefile(Path(version.model_dir) / SIM_ONLY_DIR / "best.pt")
    assert not (reused / "history.json").exists()
    assert load_model(reused.parent, device="cpu").companion is not None

    simulated = Subject.objects.filter(source="simulated-test").order_by("pk")
    relabelled = simulated.exclude(gold_label=simulated[0].gold_label).first()
    assert relabelled is not None
    simulated.filter(pk=simulated[0].pk).update(gold_label=relabelled.gold_label)
    changed = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    changed.refresh_from_db()
    assert changed.status == TrainingRun.Status.SUCCEEDED, changed.error + changed.log
    assert "no simulated-only model to reuse" in changed.log
    trained = Path(ModelVersion.objects.get(training_run=changed).model_dir) / SIM_ONLY_DIR
    assert (trained / "history.json").is_file()


def test_a_run_never_resumes_from_a_folder_an_earlier_database_left(tiny_settings, eager_celery):
    """A database reset or restored while VAR_DIR is kept numbers runs again. The retrain
    resumes from its folder's last.pt, so a new run named like an old one trained no epoch
    and registered the old run's weights as its own (a read-only ops review found it)."""
    import shutil

    from glitch_data import apply_tiny_training

    apply_tiny_training(tiny_settings, head_only=False)
    make_dataset()
    first = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)
    first.refresh_from_db()
    assert first.status == TrainingRun.Status.SUCCEEDED, first.error + first.log
    models = Path(tiny_settings.VAR_DIR) / "models"
    for stale in (f"run-{first.pk + 1}", f"run-{first.pk + 1}-20200101T000000"):
        shutil.copytree(models / first.out_dir_name, models / stale)

    second = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    second.refresh_from_db()
    assert second.pk == first.pk + 1 and second.status == TrainingRun.Status.SUCCEEDED
    assert "epoch 1/1" in second.log, second.log
    assert second.out_dir_name not in {f"run-{first.pk + 1}", f"run-{first.pk + 1}-20200101T000000"}


def test_a_cancel_asked_during_the_gate_registers_no_model(
    tiny_settings, eager_celery, monkeypatch
):
    """The page says a cancelled run "will stop at its next step"; asked while the active
    model scored the validation glitches, the run succeeded and its model went live."""
    import tasks.training as training_tasks

    make_dataset()
    scores = training_tasks._active_model_scores

    def an_admin_cancels_meanwhile(val_samples, device, run_id):
        services.training_run_cancel(run_id=run_id)
        return scores(val_samples, device, run_id)

    monkeypatch.setattr(training_tasks, "_active_model_scores", an_admin_cancels_meanwhile)
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED, run.error + run.log
    assert not ModelVersion.objects.filter(training_run=run).exists()
    # a cancelled run is never retried: nothing resumes from its last.pt
    folder = Path(tiny_settings.VAR_DIR) / "models" / run.out_dir_name
    assert (folder / "best.pt").is_file() and not list(folder.rglob("last.pt"))


def test_a_finished_run_removes_the_encode_cache_of_earlier_runs(tiny_settings, eager_celery):
    """Each retrain's new labels make a new full-size array of the data set: kept, they
    would fill the disk (and, on SQLite, stop the votes with it)."""
    import os

    import numpy as np

    cache = Path(tiny_settings.VAR_DIR) / "cache" / "encoded"
    cache.mkdir(parents=True)
    earlier = [cache / "rgb-durations-32-aaaa.npy", cache / "rgb-durations-32-bbbb.123.partial.npy"]
    for path in earlier:  # an earlier run's array, and one a killed worker left half-written
        np.save(path, np.zeros((4, 3, 32, 32), dtype=np.uint8))
        os.utime(path, (1_600_000_000, 1_600_000_000))
    make_dataset()
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log
    assert not any(path.exists() for path in earlier)
    assert list(cache.glob("*.npy")), "the run's own arrays stay (a retry of it reuses them)"
    # the half-written one is gone before the run decodes (ml.encoding removes the partials
    # of dead writers when an encode starts), the earlier run's array when the run ends
    assert "encode cache: removed 1 arrays of earlier runs" in run.log


def test_the_soft_time_limit_during_the_gate_fails_the_run_at_once(
    tiny_settings, eager_celery, monkeypatch
):
    """Scoring the active model for the gate caught every exception (a missing checkpoint
    must not lose the new model), the soft time limit too: the run then went on until the
    hard limit killed it wherever it was."""
    from celery.exceptions import SoftTimeLimitExceeded

    import ml.model

    make_dataset()
    services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)  # an active model
    active = ModelVersion.objects.get(is_active=True).model_dir
    load_model = ml.model.load_model

    def time_is_up_at_the_gate(model, *args, **kwargs):
        if str(model) == active:  # the gate loads the active model; training loads its own
            raise SoftTimeLimitExceeded()
        return load_model(model, *args, **kwargs)

    monkeypatch.setattr(ml.model, "load_model", time_is_up_at_the_gate)
    with pytest.raises(SoftTimeLimitExceeded):
        services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run = TrainingRun.objects.order_by("-pk").first()
    assert run.status == TrainingRun.Status.FAILED and "time limit" in run.error
    assert not ModelVersion.objects.filter(training_run=run).exists()


def test_an_app_model_names_the_glitches_it_saw_by_their_archive_ids(tiny_settings, eager_celery):
    """`ml evaluate` warns when it scores a glitch the model trained or validated on, by the
    ids in glitches.json. The retrain wrote subject keys there ("17"), so scoring an app's
    model on a folder of the same archive could never warn."""
    import json

    from ml.commands import seen_in_training
    from ml.data import sample_of

    data = make_dataset()
    run = services.training_run_request(trigger=TrainingRun.Trigger.COMMAND)

    run.refresh_from_db()
    version = ModelVersion.objects.get(training_run=run)
    seen = json.loads((Path(version.model_dir) / "glitches.json").read_text())
    assert seen["train"] == sorted(s.external_id for s in data["train"])
    assert seen["validation"] == sorted(s.external_id for s in data["validation"])
    scored = sample_of(data["validation"][0].external_id, "Blip", {1.0: Path("x_1.0.png")})
    assert seen_in_training(Path(version.checkpoint_path), [scored], [])
