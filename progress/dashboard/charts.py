"""Charts drawn on the server as inline SVG: no script, no CDN, light on a phone's data plan."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from progress.reports import Day, Funnel

BAR, LINE, STOP, GRID, TEXT = "#1f6f8b", "#e07a1f", "#c0392b", "#d8dee4", "#444"
FONT_PX = 12
"""Size of every label, in CSS pixels whatever the screen (legible on a 390 px phone)."""
BARS_PCT = 70
"""How much of a funnel's width its longest bar takes."""


def _nice_max(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above `value`, for the top of an axis."""
    top = 1
    while True:
        for factor in (1, 2, 5):
            if top * factor >= value:
                return top * factor
        top *= 10


@dataclass(frozen=True)
class ActivityLabels:
    """Accessible names of the activity chart and its two series."""

    title: str
    answers: str
    steps: str


def _svg(height: int, title: str) -> list[str]:
    """The opening of a chart: as wide as its box, `height` px tall, no viewBox, so text never shrinks."""
    return [
        f'<svg class="chart" width="100%" height="{height}" role="img" aria-label="{escape(title)}" '
        f'direction="ltr" font-size="{FONT_PX}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def activity_chart(days: Sequence[Day], labels: ActivityLabels) -> Markup:
    """Answers per day as bars and finished steps as a line, with the first, middle and last dates.

    Across, positions are percentages of the chart's width; down, pixels: the chart fills a phone or a
    desktop screen and its labels stay `FONT_PX` px. Each value's label sits above its grid line.
    """
    height, bottom, top = 220, 24, 18
    plot_h = height - bottom - top
    peak = _nice_max(max([d.answers for d in days] + [d.steps for d in days] + [1]))
    slot = 100 / max(len(days), 1)
    parts = _svg(height, labels.title)
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="2" y="{y - 3:.1f}" fill="{TEXT}">{round(peak * fraction)}</text>'
        )
    points = []
    for index, day in enumerate(days):
        bar_h = plot_h * day.answers / peak
        parts.append(
            f'<rect x="{(index + 0.15) * slot:.2f}%" y="{top + plot_h - bar_h:.1f}" '
            f'width="{slot * 0.7:.2f}%" '
            f'height="{bar_h:.1f}" fill="{BAR}"><title>{day.day.isoformat()}: {day.answers} '
            f"{escape(labels.answers)}, {day.steps} {escape(labels.steps)}</title></rect>"
        )
        points.append((f"{(index + 0.5) * slot:.2f}%", f"{top + plot_h * (1 - day.steps / peak):.1f}"))
    parts.extend(
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{LINE}" stroke-width="2" '
        'stroke-linecap="round"/>'
        for (x1, y1), (x2, y2) in itertools.pairwise(points)
    )
    last = len(days) - 1
    for index in sorted({0, len(days) // 2, last} if days else set()):
        anchor = "start" if index == 0 else "end" if index == last else "middle"
        x = 0 if index == 0 else 100 if index == last else (index + 0.5) * slot
        parts.append(
            f'<text x="{x:.2f}%" y="{height - 6}" text-anchor="{anchor}" fill="{TEXT}">'
            f"{days[index].day:%d/%m}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text inside is escaped)


def funnel_chart(funnel: Funnel, step_labels: Sequence[str], title: str) -> Markup:
    """One bar per step: learners who reached it; in red, those who stopped there a week or more ago.

    The step labels take `label_w` px; the bars at most `BARS_PCT` % of the chart's width after them, which
    leaves room for the counts on a phone.
    """
    row, label_w = 22, 48
    height = row * (len(funnel.steps) + 1) + 6
    scale = BARS_PCT / max(funnel.enrolled, 1)
    parts = [*_svg(height, title), f'<g transform="translate({label_w} 0)">']
    bars = [*zip(step_labels, funnel.steps, strict=True)]
    for index, (label, step) in enumerate(bars):
        y = index * row + 4
        reached, stopped = step.reached * scale, step.stopped * scale
        parts.append(
            f'<text x="-6" y="{y + 13}" text-anchor="end" fill="{TEXT}">{escape(label[:6])}</text>'
            f'<rect x="0" y="{y}" width="{reached:.2f}%" height="{row - 5}" fill="{BAR}"/>'
            f'<rect x="{reached - stopped:.2f}%" y="{y}" width="{stopped:.2f}%" height="{row - 5}" '
            f'fill="{STOP}"/>'
            f'<text x="{reached:.2f}%" dx="4" y="{y + 13}" fill="{TEXT}">'
            f"{step.reached}{f' (−{step.stopped})' if step.stopped else ''}</text>"
        )
    y = len(bars) * row + 4
    done = funnel.completed * scale
    parts.append(
        f'<text x="-6" y="{y + 13}" text-anchor="end" font-weight="bold" fill="{TEXT}">✓</text>'
        f'<rect x="0" y="{y}" width="{done:.2f}%" height="{row - 5}" fill="{LINE}"/>'
        f'<text x="{done:.2f}%" dx="4" y="{y + 13}" fill="{TEXT}">{funnel.completed}</text></g></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 (every text inside is escaped)
