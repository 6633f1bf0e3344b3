"""bench/synth.py reads the Q plane an Omega scan was drawn on off its background."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.synth import plane_of, plane_widths, simulated_widths, time_widths  # noqa: E402


def test_the_plane_read_off_a_view_is_the_plane_it_was_drawn_on(
    every_class: tuple[Path, list[dict[str, str]]],
) -> None:
    out, rows = every_class
    sims = simulated_widths(out)
    assert len(sims) == sum(r["duration"] == "1.0" for r in rows)
    calibration = plane_widths(sims)
    assert len(calibration) >= 3  # the 25 classes span low- and high-Q planes
    right = sum(plane_of(widths, calibration) == plane for _, plane, widths in sims)
    assert right >= 0.9 * len(sims), f"{right} of {len(sims)} planes read right"


def test_a_longer_tile_keeps_the_background_correlated_longer(
    every_class: tuple[Path, list[dict[str, str]]],
) -> None:
    out, rows = every_class
    one_second = [r for r in rows if r["duration"] == "1.0" and r["style"] == "crop"]
    low = min(one_second, key=lambda r: float(r["q_plane"]))
    high = max(one_second, key=lambda r: float(r["q_plane"]))
    assert float(high["q_plane"]) >= 4 * float(low["q_plane"])
    assert all(time_widths(out / high["path"]) > 2 * time_widths(out / low["path"]))
