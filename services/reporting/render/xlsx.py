"""XLSX with openpyxl, made to be printed and filed: a 概况 sheet with the facts, then one
sheet per table — styled header, frozen below it, a bold totals row — and on every sheet:

- one CJK font by name on every cell (the workbook's default too, so empty cells match);
- numbers as numbers and ISO dates as dates, each with its number format; text kept as text
  (a 党员编号 or an organisation code is a string cell formatted "@");
- column widths that fit Chinese text (a CJK character is two widths), long text wrapped;
- page setup: A4, landscape when the table is wider than a portrait page, fitted to one page
  wide (as many pages tall as it needs), the header row repeated on every printed page,
  margins, the report's title in the page header and 制表单位 / 页码 / 制表日期 in the footer."""

import io
import math
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.page import PageMargins

from services.contracts.document import Document, Table, cell_text, display_width

from .csv import ISO_DATE, MADE_BY, MADE_ON

# 宋体 is on every Chinese Windows and in WPS; where it is missing (LibreOffice on Linux),
# fontconfig substitutes a CJK font of the same width.
FONT_NAME = "宋体"
BODY_FONT = Font(name=FONT_NAME, size=11)
TITLE_FONT = Font(name=FONT_NAME, size=14, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="C00000")
HEADER_FONT = Font(name=FONT_NAME, size=11, bold=True, color="FFFFFF")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FONT = Font(name=FONT_NAME, size=11, bold=True)
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FORMATS = {"int": "0", "hours": "0.0#", "pct": "0.0%"}
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
TOP = Alignment(vertical="top")
WRAP = Alignment(vertical="top", wrap_text=True)
MAX_WIDTH = 60
LINE_HEIGHT = 15    # points: one line of 11-point text
# Column widths (in characters) an A4 page holds upright at these margins; wider goes across.
PORTRAIT_WIDTH = 95
MARGINS = PageMargins(left=0.4, right=0.4, top=0.75, bottom=0.75, header=0.3, footer=0.3)
INVALID = str.maketrans({c: "_" for c in "[]:*?/\\"})


def sheet_title(name: str, taken: set[str]) -> str:
    base = name.translate(INVALID)[:31]
    title, n = base, 2
    while title in taken:
        title = f"{base[:28]}_{n}"
        n += 1
    taken.add(title)
    return title


def render_xlsx(document: Document) -> bytes:
    workbook = Workbook()
    # The default font (style 0, which empty cells and the Normal style use) is the CJK one.
    workbook._fonts = IndexedList([BODY_FONT])
    workbook._named_styles["Normal"].font = BODY_FONT
    made = dict(document.facts)
    facts = workbook.active
    taken = {"概况"}
    facts.title = "概况"
    _facts_sheet(facts, document)
    _print_setup(facts, document.title, made, header_rows=None)
    for table in document.tables:
        sheet = workbook.create_sheet(sheet_title(table.sheet or table.title, taken))
        _table_sheet(sheet, table)
        _print_setup(sheet, f"{document.title}　{table.title}", made, header_rows="1:1")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _facts_sheet(sheet, document: Document) -> None:
    sheet.append([document.title])
    sheet["A1"].font = TITLE_FONT
    if document.subtitle:
        sheet.append([document.subtitle])
        sheet.cell(sheet.max_row, 1).font = BODY_FONT
    for label, value in document.facts:
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 1).font = TOTAL_FONT
        cell = sheet.cell(sheet.max_row, 2)
        cell.font, cell.alignment, cell.number_format = BODY_FONT, WRAP, TEXT_FORMAT
    width = _fit(sheet, [[label for label, _ in document.facts],
                         [v for _, v in document.facts]])[1]
    for (cell,) in sheet.iter_rows(min_col=2, max_col=2):
        count = math.ceil(display_width(str(cell.value or "")) / (width - 2))
        if count > 1:
            sheet.row_dimensions[cell.row].height = LINE_HEIGHT * count


def _table_sheet(sheet, table: Table) -> None:
    columns = table.columns
    sheet.append([c.label for c in columns])
    for cell in sheet[1]:
        cell.fill, cell.font, cell.border = HEADER_FILL, HEADER_FONT, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in table.rows:
        sheet.append([_value(row.get(c.key)) for c in columns])
    if table.totals is not None:
        sheet.append([_value(table.totals.get(c.key)) for c in columns])
    widths = _fit(sheet, [[c.label] + [cell_text(r.get(c.key), c.kind) for r in table.rows]
                          + ([cell_text(table.totals.get(c.key), c.kind)] if table.totals
                             else []) for c in columns])
    lines: dict[int, int] = {}   # rows with wrapped text: their lines
    for index, column in enumerate(columns, 1):
        width = widths[index - 1]
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.border, cell.font, cell.alignment = BORDER, BODY_FONT, TOP
            cell.number_format = _format(cell.value, column.kind)
            if width >= MAX_WIDTH and isinstance(cell.value, str):
                cell.alignment = WRAP
                need = math.ceil(display_width(cell.value) / (width - 2))
                lines[cell.row] = max(lines.get(cell.row, 1), need)
    # Neither LibreOffice nor Excel makes a row taller for wrapped text when it opens a file.
    for row, count in lines.items():
        if count > 1:
            sheet.row_dimensions[row].height = LINE_HEIGHT * count
    if table.totals is not None:
        for cell in sheet[sheet.max_row]:
            cell.fill, cell.font = TOTAL_FILL, TOTAL_FONT
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(table.rows) + 1}"


def _value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and ISO_DATE.match(value):
        return date.fromisoformat(value)
    return value


def _format(value, kind: str) -> str:
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, str):
        return TEXT_FORMAT
    return FORMATS.get(kind, "General")


def _fit(sheet, columns_text: list[list[str]]) -> list[float]:
    """Column widths in character units (a Chinese character is two); the widths set."""
    widths = []
    for index, texts in enumerate(columns_text, 1):
        widest = max((display_width(str(t)) for t in texts if t is not None), default=4)
        widths.append(min(widest + 3, MAX_WIDTH))
        sheet.column_dimensions[get_column_letter(index)].width = widths[-1]
    return widths


def _print_setup(sheet, title: str, made: dict, header_rows: str | None) -> None:
    wide = sum(d.width or 8 for d in sheet.column_dimensions.values()) > PORTRAIT_WIDTH
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if wide else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0     # as many pages tall as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = MARGINS
    sheet.print_options.horizontalCentered = True
    if header_rows:
        sheet.print_title_rows = header_rows
    font = f"{FONT_NAME},Regular"
    sheet.oddHeader.center.text, sheet.oddHeader.center.font = _header_text(title), font
    sheet.oddFooter.center.text, sheet.oddFooter.center.font = "第 &P 页，共 &N 页", font
    for part, label in ((sheet.oddFooter.left, MADE_BY), (sheet.oddFooter.right, MADE_ON)):
        if made.get(label):
            part.text, part.font = _header_text(f"{label}：{made[label]}"), font


def _header_text(text: str) -> str:
    return text.replace("&", "&&")   # & starts a code in a page header or footer
