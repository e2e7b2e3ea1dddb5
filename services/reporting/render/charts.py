"""Charts as PNG with matplotlib (Agg, no pyplot state), Chinese labels in the project's CJK font.

The font is registered once per process (`fontManager.addfont`: a font installed after
matplotlib built its cache is otherwise not found), and matplotlib's cache lives under var/."""

import io
import os
import threading

from services.kit import config

os.environ.setdefault("MPLCONFIGDIR", str(config.var_dir() / "matplotlib"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from matplotlib import font_manager, rcParams  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from services.contracts.document import Chart, Document  # noqa: E402

COLOURS = ("#C00000", "#F4B183", "#5B9BD5", "#A9D18E")
_font_lock = threading.Lock()
_font_ready = False


def use_cjk_font() -> None:
    global _font_ready
    with _font_lock:
        if _font_ready:
            return
        path = str(config.cjk_font())
        font_manager.fontManager.addfont(path)
        rcParams["font.family"] = font_manager.FontProperties(fname=path).get_name()
        rcParams["axes.unicode_minus"] = False
        _font_ready = True


def draw(axes, chart: Chart) -> None:
    names = list(chart.series)
    n = max(len(names), 1)
    width = 0.8 / n
    positions = range(len(chart.categories))
    for i, name in enumerate(names):
        offsets = [p - 0.4 + width * (i + 0.5) for p in positions]
        values = [v * 100 if chart.percent else v for v in chart.series[name]]
        colour = COLOURS[i % len(COLOURS)]
        if chart.kind == "barh":
            bars = axes.barh(offsets, values, height=width, label=name, color=colour)
        else:
            bars = axes.bar(offsets, values, width=width, label=name, color=colour)
        axes.bar_label(bars, fmt="%.1f%%" if chart.percent else "%g", fontsize=7, padding=2)
    if not chart.percent:   # counts of people: whole numbers on the value axis
        (axes.xaxis if chart.kind == "barh" else axes.yaxis).set_major_locator(
            MaxNLocator(integer=True))
    if chart.kind == "barh":
        axes.set_yticks(list(positions), chart.categories, fontsize=8)
        axes.set_xlabel(chart.value_label)
    else:
        axes.set_xticks(list(positions), chart.categories, fontsize=8)
        axes.set_ylabel(chart.value_label + ("（%）" if chart.percent else ""))
        if chart.percent:
            axes.set_ylim(0, 110)
    axes.set_title(chart.title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    if len(names) > 1:
        axes.legend(fontsize=8, frameon=False)
    axes.margins(x=0.05)


def _png(figure: Figure, dpi: int) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()


def render_png(document: Document, width: float = 14.0, dpi: int = 110,
               title: bool = True) -> bytes:
    """All the document's charts in one image, two to a row (the PDF embeds the same image).
    Margins are set by hand: a constrained layout would draw every chart twice."""
    use_cjk_font()
    charts = document.charts
    rows = max((len(charts) + 1) // 2, 1)
    height = 4.3 * rows + (0.6 if title else 0)
    figure = Figure(figsize=(width, height))
    if title:
        figure.suptitle(document.title + (f" · {document.subtitle}" if document.subtitle
                                          else ""), fontsize=14)
    for index, chart in enumerate(charts, 1):
        draw(figure.add_subplot(rows, 2, index), chart)
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.06,
                           top=1 - (0.9 if title else 0.35) / height, wspace=0.42, hspace=0.42)
    # Long category names (committees) on a horizontal bar chart need room on the left.
    for axes, chart in zip(figure.axes, charts, strict=True):
        if chart.kind == "barh":
            box = axes.get_position()
            shift = 0.08
            axes.set_position([box.x0 + shift, box.y0, box.width - shift, box.height])
    return _png(figure, dpi)
