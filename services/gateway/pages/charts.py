"""Bar charts as inline SVG, drawn on the server from a report's `Chart` (the charts the annual
summary's PDF and PNG draw with matplotlib), so that a page needs neither a script nor a second
request. Text is measured roughly — a CJK character one em, others half — which is enough to
place labels and to cut long ones with "…" (the whole name stays in the bar's tooltip)."""

import math

from services.contracts.document import Chart, display_width

from .markup import Markup, el

COLOURS = ("#C00000", "#F4B183", "#5B9BD5", "#A9D18E")   # the PNG charts' colours
WIDTH = 560
HEIGHT = 300
FONT = 12
SMALL = 10
TITLE_ROOM = 30
LEGEND_ROOM = 20
HEADROOM = 14           # above the tallest bar, for its value


def text_width(text: str, size: int = FONT) -> float:
    return display_width(text) * size / 2


def fit(text: str, room: float, size: int = FONT) -> str:
    """The text, cut with "…" so that it takes at most `room` pixels."""
    if text_width(text, size) <= room:
        return text
    kept = ""
    for ch in text:
        if text_width(kept + ch + "…", size) > room:
            break
        kept += ch
    return kept + "…"


def scale(top: float, percent: bool) -> tuple[float, float]:
    """The value axis' end and step: percentages 0–100 by 25; counts by 1, 2 or 5 times a power
    of ten, about four steps, never below one (people come whole)."""
    if percent:
        return max(100.0, math.ceil(top / 25) * 25), 25.0
    if top <= 0:
        return 1.0, 1.0
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    step = max(1.0, next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
    return math.ceil(top / step) * step, step


def tick_text(value: float, percent: bool) -> str:
    return f"{value:g}%" if percent else value_text(value, False)


def value_text(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.1f}%"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def svg(chart: Chart, width: int = WIDTH) -> Markup:
    """One chart: vertical bars (`kind="bar"`) or horizontal ones (`"barh"`, the first category
    at the bottom, as matplotlib draws it), one bar per series in each category."""
    names = list(chart.series)
    values = {name: [_number(v) * (100 if chart.percent else 1) for v in chart.series[name]]
              for name in names}
    if not chart.categories or not names:
        return _frame(chart, width, 80, [el("text", "暂无数据", x=width / 2, y=58,
                                             text_anchor="middle", class_="note")])
    top = max((v for series in values.values() for v in series), default=0)
    end, step = scale(top, chart.percent)
    ticks = [step * i for i in range(int(round(end / step)) + 1)]
    legend_room = LEGEND_ROOM if len(names) > 1 else 0
    draw = _bars_across if chart.kind == "barh" else _bars_up
    height, parts = draw(chart, names, values, end, ticks, width,
                         TITLE_ROOM + legend_room + HEADROOM)
    if legend_room:
        parts.append(_legend(names, TITLE_ROOM + 4))
    return _frame(chart, width, height, parts)


def _number(value) -> float:
    return float(value) if value is not None else 0.0


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(chart: Chart, width: float, height: float, parts: list) -> Markup:
    return el("svg", el("title", chart.title),
              el("text", chart.title, x=8, y=20, class_="chart-title"), *parts,
              xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {_n(width)} {_n(height)}",
              width=_n(width), height=_n(height), role="img", aria_label=chart.title,
              class_="chart")


def _legend(names: list[str], y: float) -> Markup:
    items, x = [], 8.0
    for i, name in enumerate(names):
        items.append(el("rect", x=_n(x), y=_n(y), width=10, height=10,
                        fill=COLOURS[i % len(COLOURS)]))
        items.append(el("text", name, x=_n(x + 14), y=_n(y + 9), font_size=SMALL))
        x += 14 + text_width(name, SMALL) + 16
    return el("g", *items, class_="legend")


def _bar(x, y, w, h, colour, tip) -> Markup:
    return el("rect", el("title", tip), x=_n(x), y=_n(y), width=_n(max(w, 0)),
              height=_n(max(h, 0)), fill=colour)


def _bars_up(chart, names, values, end, ticks, width, top):
    tick_labels = [tick_text(t, chart.percent) for t in ticks]
    left = 12 + max(text_width(t, SMALL) for t in tick_labels)
    plot_w, plot_h = width - left - 12, HEIGHT - top - 40
    base = top + plot_h
    parts = []
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = base - tick / end * plot_h
        parts.append(el("line", x1=_n(left), x2=_n(left + plot_w), y1=_n(y), y2=_n(y),
                        class_="grid"))
        parts.append(el("text", label, x=_n(left - 4), y=_n(y + 3), text_anchor="end",
                        font_size=SMALL))
    band = plot_w / len(chart.categories)
    bar = band * 0.8 / len(names)
    for i, category in enumerate(chart.categories):
        x0 = left + i * band + band * 0.1
        for j, name in enumerate(names):
            value = values[name][i]
            h = value / end * plot_h
            x = x0 + j * bar
            text = value_text(value, chart.percent)
            parts.append(_bar(x, base - h, bar * 0.92, h, COLOURS[j % len(COLOURS)],
                              f"{category} · {name}：{text}"))
            parts.append(el("text", text, x=_n(x + bar * 0.46), y=_n(base - h - 3),
                            text_anchor="middle", font_size=SMALL))
        parts.append(el("text", fit(category, band - 4), x=_n(left + (i + 0.5) * band),
                        y=_n(base + 16), text_anchor="middle"))
    if chart.value_label:
        parts.append(el("text", chart.value_label + ("（%）" if chart.percent else ""),
                        x=_n(left), y=_n(base + 34), font_size=SMALL, class_="axis-label"))
    return HEIGHT, parts


def _bars_across(chart, names, values, end, ticks, width, top):
    room = min(max(text_width(c) for c in chart.categories) + 12, width * 0.38)
    left = room
    row = max(24.0, 14.0 * len(names) + 8)
    plot_w = width - left - 48   # room for the last bar's value
    plot_h = row * len(chart.categories)
    height = top + plot_h + 34
    base = top + plot_h
    parts = []
    for tick in ticks:
        x = left + tick / end * plot_w
        parts.append(el("line", x1=_n(x), x2=_n(x), y1=_n(top), y2=_n(base), class_="grid"))
        parts.append(el("text", tick_text(tick, chart.percent), x=_n(x), y=_n(base + 14),
                        text_anchor="middle", font_size=SMALL))
    bar = (row - 8) / len(names)
    count = len(chart.categories)
    for i, category in enumerate(chart.categories):
        y_row = top + (count - 1 - i) * row
        for j, name in enumerate(names):
            value = values[name][i]
            w = value / end * plot_w
            y = y_row + 4 + j * bar
            text = value_text(value, chart.percent)
            parts.append(_bar(left, y, w, bar * 0.9, COLOURS[j % len(COLOURS)],
                              f"{category} · {name}：{text}"))
            parts.append(el("text", text, x=_n(left + w + 3), y=_n(y + bar * 0.45 + 4),
                            font_size=SMALL))
        parts.append(el("text", fit(category, room - 10), x=_n(left - 6),
                        y=_n(y_row + row / 2 + 4), text_anchor="end"))
    if chart.value_label:
        parts.append(el("text", chart.value_label, x=_n(left + plot_w), y=_n(base + 28),
                        text_anchor="end", font_size=SMALL, class_="axis-label"))
    return height, parts
