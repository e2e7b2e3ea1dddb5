"""PDF with fpdf2: the project's CJK font embedded (a subset), title and facts, the charts, then
each table with a repeated, styled header and a bold totals row; A4 landscape, page numbers.

Parsing the font's metrics costs ≈0.2 s, so it happens once per process: each document gets a
copy of the parsed font with its own lazily opened font file and glyph subset (fpdf2 subsets
the font file in place when it writes, so the file object cannot be shared). Subsetting the
font when the PDF is written is most of a small report's time, so the font is embedded once:
the font has no bold face, and headings are set apart by size, colour and a stroked outline
rather than by a second copy of the same glyphs."""

import copy
import struct
import threading
from contextlib import contextmanager

from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import TextEmphasis, WrapMode
from fpdf.fonts import SubsetMap, TTFFont

from services.contracts.document import Document, Table, cell_text, display_width
from services.kit import config

from .csv import MADE_BY, MADE_ON

FAMILY = "cjk"
RED = (192, 0, 0)
GREY = (242, 242, 242)
NUMERIC = ("int", "hours", "pct")
LINE = 5.0      # mm per line of table text
PAD_X, PAD_Y = 1.5, 1.0

_lock = threading.Lock()
_templates: dict[str, TTFFont] = {}


def _add_cjk_font(pdf: FPDF) -> None:
    path = config.cjk_font()
    with _lock:
        template = _templates.get(FAMILY)
        if template is None:
            template = _templates[FAMILY] = TTFFont(FPDF(), path, FAMILY, "")
    font = copy.copy(template)
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(path, fontNumber=0, lazy=True, recalcTimestamp=False)
    font.emphasis = TextEmphasis.coerce("")
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.color_font = None
    pdf.fonts[FAMILY] = font


@contextmanager
def _strong(pdf: FPDF):
    """Bold without a bold face: the glyphs filled and outlined."""
    with pdf.local_context(text_mode="FILL_STROKE", line_width=0.18):
        yield


class ReportPDF(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report_title = title
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(True, margin=14)
        _add_cjk_font(self)
        self.set_title(title)
        self.set_creator("peixun")

    def footer(self):
        self.set_y(-10)
        self.set_font(FAMILY, size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.report_title}　第 {self.page_no()} 页 / 共 {{nb}} 页",
                  align="C")
        self.set_text_color(0)


def render_pdf(document: Document) -> bytes:
    from .charts import render_png

    pdf = ReportPDF(document.title)
    pdf.add_page()
    pdf.set_font(FAMILY, size=18)
    with _strong(pdf):
        pdf.cell(0, 11, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    if document.subtitle:
        pdf.set_font(FAMILY, size=12)
        pdf.cell(0, 7, document.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    made = dict(document.facts)
    _made_line(pdf, made.get(MADE_BY), made.get(MADE_ON))
    pdf.ln(3)
    _facts(pdf, [(label, value) for label, value in document.facts
                 if label not in (MADE_BY, MADE_ON)])
    for table in document.tables:
        _table(pdf, table)
    if document.charts:   # on a page of their own: the same image as format=png
        pdf.add_page()
        _section(pdf, "图表")
        png = render_png(document, width=14.0, dpi=130, title=False)
        # As wide as the page allows, and no taller than what is left of it (three rows of
        # charts would otherwise run off the page's foot).
        pixels_wide, pixels_high = struct.unpack(">II", png[16:24])
        width = min(pdf.epw, (pdf.page_break_trigger - pdf.get_y()) * pixels_wide / pixels_high)
        pdf.image(png, x=pdf.l_margin + (pdf.epw - width) / 2, w=width)
    return bytes(pdf.output())


def _section(pdf: FPDF, title: str) -> None:
    if pdf.get_y() > pdf.page_break_trigger - 30:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FAMILY, size=13)
    pdf.set_text_color(*RED)
    pdf.set_draw_color(*RED)
    with _strong(pdf):
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_draw_color(0)


def _made_line(pdf: FPDF, made_by: str | None, made_on: str | None) -> None:
    """制表单位 at the left, 制表日期 at the right, on one line under the title."""
    if not (made_by or made_on):
        return
    pdf.ln(1)
    pdf.set_font(FAMILY, size=10)
    top = pdf.get_y()
    if made_by:
        pdf.cell(pdf.epw / 2, 6.5, f"{MADE_BY}：{made_by}")
    if made_on:
        pdf.set_xy(pdf.l_margin + pdf.epw / 2, top)
        pdf.cell(pdf.epw / 2, 6.5, f"{MADE_ON}：{made_on}", align="R")
    pdf.set_xy(pdf.l_margin, top + 6.5)


def _facts(pdf: FPDF, facts) -> None:
    if not facts:
        return
    label_width = max(display_width(label) for label, _ in facts) * 1.9 + 6
    for label, value in facts:
        pdf.set_font(FAMILY, size=10)
        pdf.set_text_color(90)
        pdf.cell(label_width, 6.5, f"{label}：")
        pdf.set_text_color(0)
        pdf.multi_cell(0, 6.5, str(value), new_x="LMARGIN", new_y="NEXT",
                       wrapmode=WrapMode.CHAR)


def _widths(pdf: FPDF, table: Table) -> list[float]:
    """Column widths in mm: each column's widest text (CJK counts two, capped), scaled to the
    page's width."""
    weights = []
    for column in table.columns:
        texts = [column.label] + [cell_text(r.get(column.key), column.kind) for r in table.rows]
        if table.totals:
            texts.append(cell_text(table.totals.get(column.key), column.kind))
        weights.append(min(max(display_width(t) for t in texts), 40) + 2)
    total = sum(weights)
    return [pdf.epw * w / total for w in weights]


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Break a cell's text into lines that fit, at any character (Chinese has no spaces)."""
    if pdf.get_string_width(text) <= width:
        return [text]
    lines, line = [], ""
    for char in text:
        if line and pdf.get_string_width(line + char) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return lines + [line]


def _row(pdf: FPDF, texts: list[str], widths: list[float], aligns: list[str],
         fill=None, colour=0) -> None:
    wrapped = [_wrap(pdf, text, width - 2 * PAD_X) for text, width in zip(texts, widths,
                                                                           strict=True)]
    height = max(len(lines) for lines in wrapped) * LINE + 2 * PAD_Y
    x, top = pdf.l_margin, pdf.get_y()
    if fill is not None:
        pdf.set_fill_color(*fill)
    pdf.set_text_color(colour)
    for lines, width, align in zip(wrapped, widths, aligns, strict=True):
        pdf.rect(x, top, width, height, style="DF" if fill is not None else "D")
        for index, line in enumerate(lines):
            pdf.set_xy(x + PAD_X, top + PAD_Y + index * LINE)
            pdf.cell(width - 2 * PAD_X, LINE, line, align=align)
        x += width
    pdf.set_text_color(0)
    pdf.set_xy(pdf.l_margin, top + height)


def _table(pdf: FPDF, table: Table) -> None:
    """Cells drawn one by one (fpdf2's table layout is ten times slower per cell, and a
    coverage-gaps list can run to thousands of rows); the header repeats on every page."""
    _section(pdf, table.title)
    pdf.set_font(FAMILY, size=9)
    if not table.rows:
        pdf.cell(0, 7, "（无）", new_x="LMARGIN", new_y="NEXT")
        return
    widths = _widths(pdf, table)
    aligns = ["R" if c.kind in NUMERIC else "L" for c in table.columns]
    header = [c.label for c in table.columns]
    pdf.set_draw_color(160)
    _row(pdf, header, widths, aligns, fill=RED, colour=255)
    rows = [[cell_text(row.get(c.key), c.kind) for c in table.columns] for row in table.rows]
    if table.totals is not None:
        rows.append([cell_text(table.totals.get(c.key), c.kind) if c.key in table.totals
                     else "" for c in table.columns])
    for index, texts in enumerate(rows):
        lines = max(len(_wrap(pdf, t, w - 2 * PAD_X)) for t, w in zip(texts, widths,
                                                                      strict=True))
        if pdf.get_y() + lines * LINE + 2 * PAD_Y > pdf.page_break_trigger:
            pdf.add_page()
            _row(pdf, header, widths, aligns, fill=RED, colour=255)
        totals = table.totals is not None and index == len(rows) - 1
        _row(pdf, texts, widths, aligns, fill=GREY if totals else None)
    pdf.set_draw_color(0)
    pdf.ln(2)
