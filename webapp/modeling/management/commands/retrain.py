"""`python manage.py retrain [--wait]`: queue a training run (one at a time) and optionally
follow it to the end with a progress bar."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webapp.modeling import selectors, services
from webapp.modeling.models import TrainingRun


class Command(BaseCommand):
    help = "Queue a retrain on the gpu queue (retired labels + gold; fixed validation set)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wait", action="store_true", help="follow the run until it ends")
        parser.add_argument("--epochs", type=int, help="override GLITCHLAB_TRAIN_EPOCHS")
        parser.add_argument("--image-size", type=int, help="override GLITCHLAB_TRAIN_IMAGE_SIZE")
        parser.add_argument("--backbone", help="override GLITCHLAB_TRAIN_BACKBONE")
        parser.add_argument("--device", help="auto | cpu | cuda (override)")
        parser.add_argument("--batch-size", type=int, help="override GLITCHLAB_TRAIN_BATCH_SIZE")
        parser.add_argument(
            "--head-only", action="store_true", default=None, help="frozen features + linear head"
        )
        parser.add_argument(
            "--timeout", type=float, default=0, help="with --wait: give up after this many s"
        )
        parser.add_argument(
            "--if-no-active-model",
            action="store_true",
            help="do nothing when a model is already active (a second `make demo` start)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        active = selectors.model_version_active()
        if options["if_no_active_model"] and active is not None:
            self.stdout.write(f"model {active.name} is active: nothing to train")
            return
        overrides = {
            key: options[opt]
            for key, opt in [
                ("epochs", "epochs"),
                ("image_size", "image_size"),
                ("backbone", "backbone"),
                ("device", "device"),
                ("batch_size", "batch_size"),
                ("head_only", "head_only"),
            ]
            if options[opt] is not None
        }
        try:
            run = services.training_run_request(
                trigger=TrainingRun.Trigger.COMMAND, config_overrides=overrides
            )
        except services.RunAlreadyLiveError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"queued training run {run.pk} on the gpu queue")
        if options["wait"]:
            self._follow(run.pk, options["timeout"])

    def _follow(self, run_id: int, timeout: float) -> None:
        started = time.monotonic()
        with tqdm(total=100, unit="%", desc=f"run {run_id}") as bar:
            while True:
                run = TrainingRun.objects.get(pk=run_id)
                fraction = float(run.progress.get("fraction", 0.0) or 0.0)
                bar.n = round(100 * fraction if run.is_live else 100)
                bar.set_postfix_str(f"{run.status} {run.progress.get('phase', '')}")
                bar.refresh()
                if not run.is_live:
                    break
                if timeout and time.monotonic() - started > timeout:
                    raise CommandError(f"run {run_id} still {run.status} after {timeout:.0f} s")
                time.sleep(1.0)
        version = getattr(run, "model_version", None)
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"run {run_id} {run.status}: {run.error}")
        summary = f"run {run_id} succeeded in {run.duration_s or 0:.1f} s on {run.device}"
        if version is not None:
            summary += (
                f"; model {version.name}: validation top-1 {version.val_top1}, "
                f"gate {version.gate} ({version.gate_reason})"
            )
        self.stdout.write(summary)
