"""The rollout page's health charts: each rate the gates judge (install failures, crashes per
install) over time against its limit, the threshold drawn across the plot as Play Console does,
as inline SVG (no script, no CDN). Pure: samples in, geometry out.

The drawing is small (360 units wide) so that its labels keep a readable size on a phone,
where it is shown at about its own width; on a wide screen two sit side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH = 360
HEIGHT = 170
PAD_LEFT = 40
PAD_RIGHT = 10
PAD_TOP = 16
PAD_BOTTOM = 24


@dataclass(frozen=True)
class Point:
    at: datetime
    successes: int
    failures: int
    crashes: int
    feedback: int
    percent: float


def failure_rate(p: Point) -> float | None:
    """Failed installs among install attempts."""
    attempts = p.successes + p.failures
    return p.failures / attempts if attempts else None


def crash_rate(p: Point) -> float | None:
    """Crashes per successful install."""
    return p.crashes / p.successes if p.successes else None


RATES: dict[str, tuple[Callable[[Point], float | None], str]] = {
    "failures": (failure_rate, "max_failure_rate"),
    "crashes": (crash_rate, "max_crash_rate"),
}


@dataclass(frozen=True)
class Chart:
    key: str
    width: int
    height: int
    points: str  # SVG polyline "x,y x,y ..."
    value: float | None  # the latest rate
    limit: float
    limit_y: float
    over: bool  # the latest rate is above the limit
    y_ticks: tuple[tuple[float, float], ...]  # (y, rate)
    x_labels: tuple[tuple[float, datetime], ...]  # (x, time)
    stage_marks: tuple[tuple[float, float], ...]  # (x, percent) where a stage began
    plot: tuple[int, int, int, int]  # left, top, right, bottom
    empty: bool


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (a tidy axis top)."""
    if value <= 0:
        return 0.01
    scale = 1e-6
    while True:
        for step in (1, 2, 5):
            if value <= step * scale + 1e-12:
                return step * scale
        scale *= 10


def rate_chart(points: Sequence[Point], key: str, limit: float) -> Chart:
    """One rate over time against its limit; the axis leaves room above the higher of both."""
    rate = RATES[key][0]
    left, top = PAD_LEFT, PAD_TOP
    right, bottom = WIDTH - PAD_RIGHT, HEIGHT - PAD_BOTTOM
    measured = [(p, r) for p in points if (r := rate(p)) is not None]
    top_value = nice_ceiling(max([limit * 1.25] + [r for _, r in measured]))

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / top_value, 1)

    ticks = tuple((y(v), v) for v in (0.0, top_value / 2, top_value))
    if not points:
        return Chart(
            key, WIDTH, HEIGHT, "", None, limit, y(limit), False, ticks, (), (),
            (left, top, right, bottom), True,
        )  # fmt: skip
    start, end = points[0].at, points[-1].at
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return round(left + (right - left) * (at - start).total_seconds() / span, 1)

    line = " ".join(f"{x(p.at)},{y(r)}" for p, r in measured)
    labels = ((float(left), start), (float(right), end)) if span > 1 else ((float(left), start),)
    marks = []
    previous = None
    for p in points:
        if p.percent != previous:
            marks.append((x(p.at), p.percent))
            previous = p.percent
    value = measured[-1][1] if measured else None
    return Chart(
        key,
        WIDTH,
        HEIGHT,
        line,
        value,
        limit,
        y(limit),
        value is not None and value > limit,
        ticks,
        labels,
        tuple(marks),
        (left, top, right, bottom),
        not measured,
    )
