"""The rollout page's health chart: cumulative installs, failures, crashes and linked feedback
over time, as inline SVG paths (no script, no CDN). Pure: samples in, geometry out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH = 720
HEIGHT = 220
PAD_LEFT = 48
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 28


@dataclass(frozen=True)
class Point:
    at: datetime
    successes: int
    failures: int
    crashes: int
    feedback: int
    percent: float


@dataclass(frozen=True)
class Series:
    key: str
    points: str  # SVG polyline "x,y x,y ..."
    last: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, int], ...]  # (y, value)
    x_labels: tuple[tuple[float, datetime], ...]  # (x, time)
    stage_marks: tuple[tuple[float, float], ...]  # (x, percent) where a stage began
    plot: tuple[int, int, int, int]  # left, top, right, bottom
    empty: bool


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude: int = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value  # pragma: no cover


def build(points: Sequence[Point]) -> Chart:
    left, top = PAD_LEFT, PAD_TOP
    right, bottom = WIDTH - PAD_RIGHT, HEIGHT - PAD_BOTTOM
    if not points:
        return Chart(WIDTH, HEIGHT, (), (), (), (), (left, top, right, bottom), True)
    start, end = points[0].at, points[-1].at
    span = max((end - start).total_seconds(), 1.0)
    top_value = _nice_max(max(max(p.successes, p.failures, p.crashes, p.feedback) for p in points))

    def x(at: datetime) -> float:
        return round(left + (right - left) * (at - start).total_seconds() / span, 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / top_value, 1)

    series = tuple(
        Series(
            key,
            " ".join(f"{x(p.at)},{y(getattr(p, key))}" for p in points),
            getattr(points[-1], key),
        )
        for key in ("successes", "failures", "crashes", "feedback")
    )
    ticks = tuple((y(v), v) for v in (0, top_value // 2, top_value))
    labels = ((float(left), start), (float(right), end)) if span > 1 else ((float(left), start),)
    marks = []
    previous = None
    for p in points:
        if p.percent != previous:
            marks.append((x(p.at), p.percent))
            previous = p.percent
    return Chart(
        WIDTH, HEIGHT, series, ticks, labels, tuple(marks), (left, top, right, bottom), False
    )
