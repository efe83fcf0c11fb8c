"""A tiny SVG chart builder: geometry in Python, drawn as markup by `Chart.svg` (escaped).

No JavaScript and no inline style: colours come from CSS classes in desk.css, so the page
keeps its strict Content Security Policy. Every bar carries a <title> a mouse or a screen
reader can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from django.utils.safestring import SafeString, mark_safe


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    w: str
    h: str
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: str
    y: str
    text: str
    anchor: str = "start"
    css: str = "chart-label"


@dataclass(frozen=True)
class Line:
    x1: str
    y1: str
    x2: str
    y2: str
    css: str = "chart-axis"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css, name)

    @property
    def svg(self) -> SafeString:
        """The chart as inline SVG markup; every value passes through `escape`."""
        parts = [
            f'<svg class="health-svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" role="img" '
            f'aria-label="{escape(self.title)}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(self.title)}</title>"
        ]
        parts += [
            f'<rect x="{escape(b.x)}" y="{escape(b.y)}" width="{escape(b.w)}" '
            f'height="{escape(b.h)}" class="{escape(b.css)}">'
            f"<title>{escape(b.title)}</title></rect>"
            for b in self.bars
        ]
        parts += [
            f'<line x1="{escape(ln.x1)}" y1="{escape(ln.y1)}" x2="{escape(ln.x2)}" '
            f'y2="{escape(ln.y2)}" class="{escape(ln.css)}"/>'
            for ln in self.lines
        ]
        parts += [
            f'<text x="{escape(t.x)}" y="{escape(t.y)}" text-anchor="{escape(t.anchor)}" '
            f'class="{escape(t.css)}">{escape(t.text)}</text>'
            for t in self.labels
        ]
        parts.append("</svg>")
        # Safe: the markup is ours and every interpolated value was escaped above (format_html
        # does the same, at ten times the cost for a chart's thousand values).
        return mark_safe("".join(parts))  # noqa: S308


def _bar(x: float, y: float, w: float, h: float, css: str, title: str) -> Bar:
    return Bar(_n(x), _n(y), _n(max(w, 0)), _n(max(h, 0)), css, title)


def diverging_bars(
    *,
    title: str,
    slots: Sequence[str],
    up: Sequence[int],
    down: Sequence[int],
    up_name: str,
    down_name: str,
    width: int = 600,
    height: int = 120,
    axis_labels: bool = True,
) -> Chart:
    """Per slot, `up` above a baseline and `down` below it (e.g. opened vs resolved per day)."""
    pad_left, pad_bottom = (34, 14) if axis_labels else (0, 0)
    plot_w, plot_h = width - pad_left, height - pad_bottom
    base = plot_h / 2
    peak = max([*up, *down, 1])
    slot = plot_w / max(len(slots), 1)
    chart = Chart(width, height, title, legend=[("bar-up", up_name), ("bar-down", down_name)])
    for i, name in enumerate(slots):
        x = pad_left + i * slot + slot * 0.15
        h_up = up[i] / peak * (base - 2)
        h_down = down[i] / peak * (base - 2)
        chart.bars.append(
            _bar(x, base - h_up, slot * 0.7, h_up, "bar-up", f"{name}: {up[i]} {up_name}")
        )
        chart.bars.append(
            _bar(x, base, slot * 0.7, h_down, "bar-down", f"{name}: {down[i]} {down_name}")
        )
    chart.lines.append(Line(_n(pad_left), _n(base), _n(width), _n(base)))
    if axis_labels and slots:
        chart.labels.extend(
            (
                Label("0", _n(10), str(peak), css="chart-label"),
                Label("0", _n(plot_h), str(peak), css="chart-label"),
                Label(_n(pad_left), _n(height - 2), slots[0]),
                Label(_n(width), _n(height - 2), slots[-1], anchor="end"),
            )
        )
    return chart


def grouped_bars(
    *,
    title: str,
    slots: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],  # (css, name, values per slot)
    width: int = 600,
    height: int = 140,
    every_label: int = 6,
) -> Chart:
    """Side-by-side bars per slot (e.g. orders pulled and posted per hour)."""
    pad_left, pad_bottom = 34, 14
    plot_w, plot_h = width - pad_left, height - pad_bottom
    peak = max([v for _, _, values in series for v in values] + [1])
    slot = plot_w / max(len(slots), 1)
    each = slot * 0.8 / max(len(series), 1)
    chart = Chart(width, height, title, legend=[(css, name) for css, name, _ in series])
    for i, name in enumerate(slots):
        for j, (css, label, values) in enumerate(series):
            h = values[i] / peak * (plot_h - 4)
            x = pad_left + i * slot + slot * 0.1 + j * each
            chart.bars.append(_bar(x, plot_h - h, each, h, css, f"{name}: {values[i]} {label}"))
        if i % every_label == 0:
            chart.labels.append(Label(_n(pad_left + i * slot), _n(height - 2), name))
    chart.lines.append(Line(_n(pad_left), _n(plot_h), _n(width), _n(plot_h)))
    chart.labels.append(Label("0", _n(10), str(peak)))
    return chart


def horizontal_bars(
    *,
    title: str,
    rows: Sequence[tuple[str, float | None, str]],  # (name, fraction 0..1 or None, text)
    width: int = 600,
    row_height: int = 26,
    label_width: int = 150,
) -> Chart:
    """One bar per row, as a share of the full width (e.g. failure rate per flow)."""
    height = row_height * max(len(rows), 1)
    plot_w = width - label_width - 190
    chart = Chart(width, height, title)
    for i, (name, fraction, text) in enumerate(rows):
        y = i * row_height
        chart.labels.append(Label("0", _n(y + row_height * 0.68), name, css="chart-label-lg"))
        chart.bars.append(
            _bar(label_width, y + 4, plot_w, row_height - 8, "bar-track", f"{name}: {text}")
        )
        if fraction:
            css = "bar-bad" if fraction >= 0.05 else "bar-warn" if fraction > 0 else "bar-good"
            w = max(fraction * plot_w, 2)
            chart.bars.append(_bar(label_width, y + 4, w, row_height - 8, css, f"{name}: {text}"))
        chart.labels.append(
            Label(
                _n(label_width + plot_w + 8), _n(y + row_height * 0.68), text, css="chart-label-lg"
            )
        )
    return chart
