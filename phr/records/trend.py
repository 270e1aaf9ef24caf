"""A lab trend drawn on the server as SVG coordinates: no chart library, no script, nothing from a CDN.

The template draws the line, the points and the reference band; the results table beside it is the
chart's text alternative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from phr.records.labs import LabValue

WIDTH = 640
HEIGHT = 240
PAD_LEFT = 72
PAD_RIGHT = 16
PAD_TOP = 16
PAD_BOTTOM = 40


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    flagged: bool


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Trend:
    width: int
    height: int
    path: str
    points: list[Point]
    ticks: list[Tick]
    band_top: float | None
    band_height: float | None
    first_label: str
    last_label: str
    left: int
    right: int
    top: int
    bottom: int

    @property
    def plot_width(self) -> int:
        return self.right - self.left


def _format(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"


def build_trend(values: Sequence[LabValue]) -> Trend | None:
    """Coordinates for the numeric results, oldest first; None with fewer than two dated numeric results."""
    usable = sorted((v for v in values if v.value is not None and v.at is not None), key=lambda v: v.at or 0)
    if len(usable) < 2:
        return None
    numbers = [v.value for v in usable if v.value is not None]
    low_band = next((v.low for v in usable if v.low is not None), None)
    high_band = next((v.high for v in usable if v.high is not None), None)
    bounds = [*numbers, *(b for b in (low_band, high_band) if b is not None)]
    lowest, highest = min(bounds), max(bounds)
    if lowest == highest:
        lowest, highest = lowest - 1, highest + 1
    span = float(highest - lowest)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y_of(value: Decimal) -> float:
        return round(PAD_TOP + plot_h * (1 - float(value - lowest) / span), 1)

    step = plot_w / (len(usable) - 1)
    points = [
        Point(
            x=round(PAD_LEFT + n * step, 1),
            y=y_of(v.value),
            label=f"{v.at:%Y-%m-%d} {_format(v.value)} {v.unit}".strip() if v.at else "",
            flagged=bool(v.flag),
        )
        for n, v in enumerate(usable)
        if v.value is not None
    ]
    path = "M " + " L ".join(f"{p.x} {p.y}" for p in points)
    band_top = band_height = None
    if low_band is not None or high_band is not None:
        top = y_of(high_band) if high_band is not None else float(PAD_TOP)
        bottom = y_of(low_band) if low_band is not None else float(PAD_TOP + plot_h)
        band_top, band_height = top, round(bottom - top, 1)
    ticks = [Tick(y=y_of(value), label=_format(value)) for value in (highest, lowest)]
    first, last = usable[0].at, usable[-1].at
    return Trend(
        width=WIDTH,
        height=HEIGHT,
        path=path,
        points=points,
        ticks=ticks,
        band_top=band_top,
        band_height=band_height,
        first_label=f"{first:%Y-%m-%d}" if first else "",
        last_label=f"{last:%Y-%m-%d}" if last else "",
        left=PAD_LEFT,
        right=WIDTH - PAD_RIGHT,
        top=PAD_TOP,
        bottom=HEIGHT - PAD_BOTTOM,
    )
