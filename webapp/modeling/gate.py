"""The gate: is a newly trained model better, worse, or indistinguishable from the active one?

Both models are scored on the same validation glitches and compared pair by pair
(McNemar's exact test, ml.evaluate.mcnemar_exact): only the glitches where exactly one
of them is right count. The gate fails a candidate only when it is significantly worse,
and says "too few validation glitches to decide" when the two disagree on too few
glitches for any outcome to be significant; such a model is not promoted automatically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webapp.modeling.models import ModelVersion

if TYPE_CHECKING:  # ml.evaluate loads torch: the web process imports it only to gate
    from ml.evaluate import PairedComparison

PASSED, FAILED, UNDECIDED = (
    ModelVersion.Gate.PASSED,
    ModelVersion.Gate.FAILED,
    ModelVersion.Gate.UNDECIDED,
)
TOO_FEW = "too few validation glitches to decide"


@dataclass(frozen=True)
class Verdict:
    gate: str  # PASSED, FAILED or UNDECIDED
    reason: str  # one line for the dashboard and the confirm question
    comparison: PairedComparison | None = None


def _counts(c: PairedComparison) -> str:
    return (
        f"of {c.n} validation glitches, the new model alone is right on {c.a_only}, "
        f"the active one alone on {c.b_only}"
    )


def gate_decide(
    *,
    has_active: bool,
    candidate_correct: Sequence[bool] | None,
    baseline_correct: Sequence[bool] | None,
    alpha: float,
) -> Verdict:
    """The verdict on a candidate from per-glitch correctness on the validation set.

    candidate_correct / baseline_correct: (N,) "right" of each model, in the same order;
    None (or empty) when there is nothing to compare: no validation glitches, or the
    active model could not be scored on them.
    """
    if not has_active:
        return Verdict(PASSED, "no active model yet")
    if not candidate_correct:
        return Verdict(UNDECIDED, f"{TOO_FEW}: there are none; check the model by hand")
    if baseline_correct is None:
        return Verdict(
            UNDECIDED,
            "the active model could not be scored on this validation set: check the new "
            "one by hand",
        )
    from ml.evaluate import mcnemar_exact

    c = mcnemar_exact(candidate_correct, baseline_correct, alpha=alpha)
    if not c.decidable:
        return Verdict(
            UNDECIDED,
            f"{TOO_FEW}: {_counts(c)}; at least {c.min_discordant} disagreements are "
            f"needed for significance at {alpha:g}",
            c,
        )
    if c.significant and c.a_only < c.b_only:
        return Verdict(
            FAILED, f"worse than the active model: {_counts(c)} (p = {c.p_value:.3g})", c
        )
    if c.significant:
        return Verdict(
            PASSED, f"better than the active model: {_counts(c)} (p = {c.p_value:.3g})", c
        )
    return Verdict(
        PASSED,
        f"no significant difference from the active model: {_counts(c)} (p = {c.p_value:.3g})",
        c,
    )
