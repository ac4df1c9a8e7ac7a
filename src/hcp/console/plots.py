"""Time-series plots drawn on the server as inline SVG: one polyline per series, axes labelled with units,
a legend with each series' last value. No JavaScript chart library (none is available offline) and no
inline styles (the console's Content-Security-Policy refuses them): only SVG presentation attributes.

Pure functions: Prometheus's `query_range` answer in, SVG text out.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

Point = tuple[float, float]
"""(Unix time in seconds, value)."""
Series = tuple[str, Sequence[Point]]
"""(legend label, points in time order)."""

COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
          "#bab0ac")
WIDTH, PLOT_HEIGHT = 560, 170
LEFT, RIGHT, TOP = 72, 14, 10
AXIS_HEIGHT = 28
LEGEND_ROW = 16
MAX_LABEL = 60

_SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    # Grafana unit id: (divisor, suffix) from the smallest up; a value takes the largest divisor below it.
    "bytes": ((1, " B"), (1024, " KiB"), (1024 ** 2, " MiB"), (1024 ** 3, " GiB"), (1024 ** 4, " TiB")),
    "s": ((1e-6, " µs"), (1e-3, " ms"), (1, " s")),
    "reqps": ((1, " req/s"), (1e3, "k req/s"), (1e6, "M req/s")),
    "short": ((1, ""), (1e3, "k"), (1e6, "M"), (1e9, "G")),
    "percentunit": ((0.01, "%"),),
}


def scale(unit: str, magnitude: float) -> tuple[float, str]:
    """(divisor, suffix) for showing numbers of about `magnitude` in a Grafana unit: bytes in KiB, MiB...;
    seconds in µs, ms, s; `suffix:<text>` as is; an unknown unit as plain numbers."""
    if unit.startswith("suffix:"):
        text = unit.removeprefix("suffix:")
        steps: tuple[tuple[float, str], ...] = ((1, text), (1e3, "k" + text), (1e6, "M" + text))
    else:
        steps = _SCALES.get(unit, ((1, ""),))
    chosen = next((entry for entry in steps if entry[0] == 1), steps[0])  # for 0: B, s, not µs
    for divisor, suffix in steps:
        if abs(magnitude) >= divisor:
            chosen = (divisor, suffix)
    return float(chosen[0]), chosen[1]


def format_value(value: float, unit: str) -> str:
    """One value with its unit, three significant digits: `1.5 GiB`, `12 ms`, `0.25 cores`, `3.2k req/s`."""
    if not math.isfinite(value):
        return str(value)
    divisor, suffix = scale(unit, value)
    scaled = value / divisor
    text = f"{scaled:.3g}" if abs(scaled) < 1000 else f"{scaled:.0f}"
    if "e" in text:
        text = f"{scaled:.6f}".rstrip("0").rstrip(".")
    return text + suffix


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high], about `count` steps."""
    if not high > low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _tick_label(value: float, step: float, suffix: str, unit: str) -> str:
    if value == 0:
        return "0" + scale(unit, 0)[1]  # "0 B", not "0.0 MiB"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    return f"{value:.{decimals}f}{suffix}"


def time_ticks(start: float, end: float, most: int = 7) -> list[float]:
    """Round wall-clock times (every 1, 5, 10, 15, 30 minutes, 1, 2, 6, 12 hours or a day) within [start, end]."""
    for step in (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):
        first = math.ceil(start / step) * step
        ticks = [float(t) for t in range(int(first), int(end) + 1, step)]
        if len(ticks) <= most:
            return ticks
    return [start, end]


def _segments(points: Sequence[Point], step: float | None) -> list[list[Point]]:
    """Runs of finite points; a gap of more than 1.5 steps (the series was absent) or a NaN breaks the line."""
    runs: list[list[Point]] = []
    previous = None
    for t, v in points:
        if not math.isfinite(v):
            previous = None
            continue
        if previous is None or (step and t - previous > 1.5 * step):
            runs.append([])
        runs[-1].append((t, v))
        previous = t
    return runs


def svg_plot(series: Sequence[Series], unit: str, *, start: float, end: float, step: float | None = None,
             title: str = "", width: int = WIDTH) -> str:
    """An SVG line plot of `series` over [start, end] (Unix seconds) with values in Grafana unit `unit`.

    The y axis starts at 0 (or below, for negative values) and its ticks carry
    the unit, scaled to the values (MiB, ms, ...); the x axis is labelled in
    UTC wall-clock time. The legend lists each series' label and last value.
    Without a finite point the plot says "no data" instead of drawing an empty
    frame that looks like zero.
    """
    plot_width = width - LEFT - RIGHT
    values = [v for _, points in series for _, v in points if math.isfinite(v)]
    legend_rows = len(series)
    height = TOP + PLOT_HEIGHT + AXIS_HEIGHT + legend_rows * LEGEND_ROW + (6 if legend_rows else 0)
    bottom = TOP + PLOT_HEIGHT
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
           f'font-family="system-ui, sans-serif" font-size="11" fill="#5d6677">']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_width}" height="{PLOT_HEIGHT}" fill="#ffffff" '
               f'stroke="#d9dde5"/>')

    low = min([0.0, *values])
    high = max([0.0, *values])
    divisor, suffix = scale(unit, max(abs(low), abs(high)))
    ticks = nice_ticks(low / divisor, high / divisor)
    y_low, y_high = ticks[0] * divisor, ticks[-1] * divisor
    tick_step = ticks[1] - ticks[0] if len(ticks) > 1 else 1

    def x_of(t: float) -> float:
        return LEFT + (t - start) / ((end - start) or 1) * plot_width

    def y_of(v: float) -> float:
        return bottom - (v - y_low) / ((y_high - y_low) or 1) * PLOT_HEIGHT

    for tick in ticks:
        y = y_of(tick * divisor)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_width}" y2="{y:.1f}" stroke="#eef0f4"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{escape(_tick_label(tick, tick_step, suffix, unit))}</text>')
    for t in time_ticks(start, end):
        x = x_of(t)
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#5d6677"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
                   f'{time.strftime("%H:%M", time.gmtime(t))}</text>')
    out.append(f'<text x="{LEFT + plot_width}" y="{bottom + 26}" text-anchor="end">UTC</text>')

    if not values:
        out.append(f'<text x="{LEFT + plot_width / 2:.1f}" y="{TOP + PLOT_HEIGHT / 2:.1f}" text-anchor="middle" '
                   f'class="no-data">no data in this time range</text>')
    for index, (label, points) in enumerate(series):
        color = COLORS[index % len(COLORS)]
        for run in _segments(points, step):
            if len(run) == 1:
                t, v = run[0]
                out.append(f'<circle cx="{x_of(t):.1f}" cy="{y_of(v):.1f}" r="1.5" fill="{color}"/>')
                continue
            coordinates = " ".join(f"{x_of(t):.1f},{y_of(v):.1f}" for t, v in run)
            out.append(f'<polyline class="series" points="{coordinates}" fill="none" stroke="{color}" '
                       f'stroke-width="1.5"/>')
        y = bottom + AXIS_HEIGHT + index * LEGEND_ROW + 10
        finite = [v for _, v in points if math.isfinite(v)]
        last = format_value(finite[-1], unit) if finite else "no data"
        shown = label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"
        out.append(f'<line x1="{LEFT}" y1="{y - 4}" x2="{LEFT + 16}" y2="{y - 4}" stroke="{color}" '
                   f'stroke-width="3"/>')
        out.append(f'<text x="{LEFT + 22}" y="{y}" class="legend">{escape(shown)} '
                   f'<tspan fill="#1d2330">{escape(last)}</tspan></text>')
    out.append("</svg>")
    return "".join(out)


# -- Prometheus's answers ----------------------------------------------------------------------------------


def legend_label(legend_format: str, labels: Mapping[str, str]) -> str:
    """Grafana's legendFormat: `{{pod}}` replaced by the series' label (empty if absent); without a format,
    the labels as PromQL writes them (`{code="200"}`)."""
    if legend_format:
        return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", lambda m: labels.get(m.group(1), ""),
                      legend_format)
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    name = labels.get("__name__", "")
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(shown.items())) + "}" if shown or not name \
        else name


def matrix_series(answer: Mapping[str, Any], legend_format: str = "") -> list[Series]:
    """The series of a `query_range` answer (`{"status": "success", "data": {"resultType": "matrix", ...}}`),
    labelled with `legend_format`, sorted by label. Values are Prometheus's strings ("NaN", "+Inf" too)."""
    data = answer.get("data") or {}
    found = []
    for result in data.get("result") or ():
        points = [(float(t), float(v)) for t, v in result.get("values") or ()]
        found.append((legend_label(legend_format, result.get("metric") or {}), points))
    return sorted(found, key=lambda s: s[0])
