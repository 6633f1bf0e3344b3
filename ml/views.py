"""A glitch's views in the rgb-durations encoding: one view alone, and the view ensemble.

The encoding's channels R, G, B are a glitch's 1, 2 and 4 s views (ml.encoding); a missing
view is cut in time from a longer one, or stood in for by the nearest. A third of real
glitches (and every golden example) come with one view, every simulated glitch with four,
so the network is shown both: training rebuilds a share of its images as if one view was
all there was (`as_one_view`, ml.train's view dropout), and a prediction averages the
glitch whole with each of its views alone (`view_mean`: the view ensemble). The ensemble
looks at a four-view glitch also the way a one-view glitch of its class is seen; on the
real benchmark's tune part it took top-1 from 0.865 to 0.93 (docs/real_benchmark.md).
A glitch of one view is averaged over the four durations its view could have
(`duration_hypotheses`), so a file named without a duration loses little.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import torch
import torch.nn.functional as F

# The views a glitch can have, and the order one_view draws them in (ml.train).
ONE_VIEW_DURATIONS: tuple[float, ...] = (4.0, 2.0, 1.0, 0.5)


def _middle(channel: torch.Tensor, fraction: float) -> torch.Tensor:
    """(B, S, S) -> the middle `fraction` in time (width), stretched back to S."""
    w = channel.shape[-1]
    keep = max(1, round(w * fraction))
    start = (w - keep) // 2
    part = channel[:, None, :, start : start + keep]
    return F.interpolate(part, size=channel.shape[-2:], mode="bilinear", align_corners=False)[:, 0]


def as_one_view(images: torch.Tensor, duration: float) -> torch.Tensor:
    """rgb-durations images (B, 3, S, S) -> float32, each as ml.encoding builds a glitch of
    which only its `duration` view exists.

    The same rule as ml.encoding.view_source: a missing view is cut in time from the
    shortest longer view present, else the nearest view stands in whole. Kept 4 s: R, G =
    the middle quarter and half of B. Kept 2 s: R = the middle half of G, B = G. Kept 1 s:
    G = B = R. Kept 0.5 s: every channel the middle half of R (the 0.5 s window).
    """
    x = images.float()
    if duration == 4.0:
        return torch.stack([_middle(x[:, 2], 0.25), _middle(x[:, 2], 0.5), x[:, 2]], 1)
    if duration == 2.0:
        return torch.stack([_middle(x[:, 1], 0.5), x[:, 1], x[:, 1]], 1)
    if duration == 1.0:
        return x[:, :1].expand(-1, 3, -1, -1).contiguous()
    if duration == 0.5:
        half = _middle(x[:, 0], 0.5)
        return torch.stack([half, half, half], 1)
    raise ValueError(f"no view of {duration} s: choose one of {ONE_VIEW_DURATIONS}")


def view_mean(
    fn: Callable[[torch.Tensor], torch.Tensor],
    batch: torch.Tensor,
    present: Sequence[Collection[float]],
) -> torch.Tensor:
    """fn's output (B, ...) for a batch of rgb-durations images, each row averaged over the
    glitch whole and, when it has more than one view, each of its views alone.

    present[i]: the durations of the views that image i's glitch really has (Sample.views()).
    A glitch of one view (or of a file named without a duration: no view known) is averaged
    instead over the durations its view could have (`duration_hypotheses`).
    """
    if len(present) != len(batch):
        raise ValueError(f"{len(present)} sets of views for {len(batch)} images")
    single = [i for i, views in enumerate(present) if len(views) <= 1]
    several = [i for i, views in enumerate(present) if len(views) > 1]
    parts = []
    if single:
        lone = batch[torch.tensor(single, device=batch.device)]
        forms = duration_hypotheses(lone)
        parts.append(torch.stack([weight * fn(form).float() for form, weight in forms]).sum(0))
    if several:
        rows = batch[torch.tensor(several, device=batch.device)]
        parts.append(_whole_and_each_view(fn, rows, [present[i] for i in several]))
    order = torch.tensor(single + several, device=batch.device)
    return torch.cat(parts)[torch.argsort(order)]


def _whole_and_each_view(
    fn: Callable[[torch.Tensor], torch.Tensor],
    batch: torch.Tensor,
    present: Sequence[Collection[float]],
) -> torch.Tensor:
    """fn's output for glitches of several views: the mean over the whole and each view."""
    total = fn(batch).float()
    count = torch.ones(len(batch), device=total.device)
    for duration in ONE_VIEW_DURATIONS:
        rows = [i for i, views in enumerate(present) if duration in views]
        if rows:
            index = torch.tensor(rows, device=batch.device)
            total[index] += fn(as_one_view(batch[index], duration)).float()
            count[index] += 1
    return total / count.reshape(-1, *([1] * (total.ndim - 1)))


def duration_hypotheses(images: torch.Tensor) -> list[tuple[torch.Tensor, float]]:
    """rgb-durations images of one-view glitches (B, 3, S, S) -> (float32 images, weight):
    each glitch as ml.encoding builds it if its one view were 4, 2, 1 or 0.5 s long, each
    duration equally likely. 4 s and 2 s: the shorter windows cut from the middle (weight
    1/4 each); 1 s and 0.5 s are both encoded R = G = B, so that one image stands for both
    (weight 1/2) and the network runs three times, not four.

    The B channel holds the view whole whatever its duration (view_source), so the view's
    own duration need not be known: a file named without one gets the same forms. Averaging
    a prediction over them (view_mean) makes a lone view's duration matter less; on the
    real benchmark's tune part it took single-view top-1 from 0.756-0.905 to 0.854-1.000
    for 1, 2 and 4 s views, 0.870 -> 0.855 for 0.5 s (docs/real_benchmark.md).
    """
    view = images[:, 2:3].float().expand(-1, 3, -1, -1)
    return [
        (as_one_view(view, 4.0), 0.25),
        (as_one_view(view, 2.0), 0.25),
        (view.contiguous(), 0.5),
    ]
