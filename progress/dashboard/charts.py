"""Charts drawn on the server as inline SVG: no script, no CDN, light on a phone's data plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from progress.reports import Day, Funnel

BAR, LINE, STOP, GRID, TEXT = "#1f6f8b", "#e07a1f", "#c0392b", "#d8dee4", "#444"


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


def activity_chart(days: Sequence[Day], labels: ActivityLabels) -> Markup:
    """Answers per day as bars and finished steps as a line, with the first, middle and last dates."""
    width, height, left, bottom, top = 640, 220, 36, 24, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max([d.answers for d in days] + [d.steps for d in days] + [1]))
    slot = plot_w / max(len(days), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(labels.title)}" '
        f'direction="ltr" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(labels.title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{TEXT}">'
            f"{round(peak * fraction)}</text>"
        )
    points = []
    for index, day in enumerate(days):
        x = left + index * slot
        bar_h = plot_h * day.answers / peak
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_h:.1f}" fill="{BAR}"><title>{day.day.isoformat()}: {day.answers} '
            f"{escape(labels.answers)}, {day.steps} {escape(labels.steps)}</title></rect>"
        )
        points.append(f"{x + slot / 2:.1f},{top + plot_h * (1 - day.steps / peak):.1f}")
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for index in sorted({0, len(days) // 2, len(days) - 1} if days else set()):
        x = left + index * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" font-size="11" fill="{TEXT}">'
            f"{days[index].day:%d/%m}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text inside is escaped)


def funnel_chart(funnel: Funnel, step_labels: Sequence[str], title: str) -> Markup:
    """One bar per step: learners who reached it; in red, those who stopped there a week or more ago."""
    row, label_w, width = 20, 150, 640
    height = row * (len(funnel.steps) + 1) + 6
    scale = (width - label_w - 60) / max(funnel.enrolled, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'direction="ltr" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    bars = [*zip(step_labels, funnel.steps, strict=True)]
    for index, (label, step) in enumerate(bars):
        y = index * row + 4
        reached_w, stopped_w = step.reached * scale, step.stopped * scale
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="11" fill="{TEXT}">'
            f"{escape(label[:24])}</text>"
            f'<rect x="{label_w}" y="{y}" width="{reached_w:.1f}" height="{row - 5}" fill="{BAR}"/>'
            f'<rect x="{label_w + reached_w - stopped_w:.1f}" y="{y}" width="{stopped_w:.1f}" '
            f'height="{row - 5}" fill="{STOP}"/>'
            f'<text x="{label_w + reached_w + 4:.1f}" y="{y + 13}" font-size="11" fill="{TEXT}">'
            f"{step.reached}{f' (−{step.stopped})' if step.stopped else ''}</text>"
        )
    y = len(bars) * row + 4
    parts.append(
        f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="11" font-weight="bold" '
        f'fill="{TEXT}">✓</text>'
        f'<rect x="{label_w}" y="{y}" width="{funnel.completed * scale:.1f}" height="{row - 5}" '
        f'fill="{LINE}"/>'
        f'<text x="{label_w + funnel.completed * scale + 4:.1f}" y="{y + 13}" font-size="11" fill="{TEXT}">'
        f"{funnel.completed}</text></svg>"
    )
    return Markup("".join(parts))  # noqa: S704 (every text inside is escaped)
