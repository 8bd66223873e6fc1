"""Geometry of the dashboard's SVG charts (no I/O, no markup: the templates draw it).

A :class:`LineChart` places one point per period for each series, with a y axis rounded to a
readable step and x labels thinned so they never overlap. A :class:`BarChart` places one bar
per funnel step with the drop-off from the previous one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ("Bar", "BarChart", "LineChart", "Point", "Series", "bar_chart", "line_chart")

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
COLOURS = ("#1769c2", "#d9822b", "#2e9e5b", "#9c4fd6", "#c23d3d", "#5f6b7a")


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str
    value: float
    text: str


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour: str
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points)
        )


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    bottom_y: int
    right_x: int
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_title: str
    x_title: str


def _nice_step(top: float, ticks: int = 5) -> float:
    if top <= 0:
        return 1.0
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)  # pragma: no cover


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.1f}%"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    y_title: str,
    x_title: str,
    percent: bool = False,
) -> LineChart:
    """One point per label for each series (each of ``len(labels)`` values)."""
    n = len(labels)
    top_value = max((v for _, values in series for v in values), default=0.0)
    step = _nice_step(top_value)
    top = step * max(1, math.ceil(top_value / step)) if top_value > 0 else step * 5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    drawn = []
    for k, (name, values) in enumerate(series):
        if len(values) != n:
            raise ValueError(f"series {name!r} has {len(values)} values for {n} labels")
        points = tuple(
            Point(x(i), y(v), labels[i], v, _fmt(v, percent)) for i, v in enumerate(values)
        )
        drawn.append(Series(name, COLOURS[k % len(COLOURS)], points))
    y_ticks = []
    value = 0.0
    while value <= top + step / 2:
        y_ticks.append((y(value), _fmt(value, percent)))
        value += step
    every = max(1, math.ceil(n / 8))
    x_ticks = tuple((x(i), labels[i]) for i in range(0, n, every))
    return LineChart(
        WIDTH, HEIGHT, LEFT, TOP, HEIGHT - BOTTOM, WIDTH - RIGHT,
        tuple(drawn), tuple(y_ticks), x_ticks, y_title, x_title,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    share: str
    drop: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: int
    top: int
    bottom_y: int
    right_x: int
    bars: tuple[Bar, ...]
    y_ticks: tuple[tuple[float, str], ...]


def bar_chart(steps: Sequence[str], totals: Sequence[int]) -> BarChart:
    """A bar per funnel step: its users, its share of the first step, and the drop from the
    step before."""
    top_value = max(totals, default=0)
    step = _nice_step(float(top_value))
    top = step * max(1, math.ceil(top_value / step)) if top_value > 0 else step * 5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(steps))
    bars = []
    first = totals[0] if totals else 0
    for i, (name, value) in enumerate(zip(steps, totals, strict=True)):
        h = plot_h * value / top
        share = f"{value / first:.1%}" if first else "0.0%"
        prev = totals[i - 1] if i else 0
        drop = f"-{(prev - value) / prev:.1%}" if i and prev else ""
        bars.append(
            Bar(
                LEFT + slot * i + slot * 0.15,
                TOP + plot_h - h,
                slot * 0.7,
                h,
                name,
                value,
                share,
                drop,
            )
        )
    y_ticks = []
    value_f = 0.0
    while value_f <= top + step / 2:
        y_ticks.append((TOP + plot_h * (1 - value_f / top), _fmt(value_f, False)))
        value_f += step
    return BarChart(
        WIDTH, HEIGHT, LEFT, TOP, HEIGHT - BOTTOM, WIDTH - RIGHT, tuple(bars), tuple(y_ticks)
    )
