"""XLSX with openpyxl: a 概况 sheet with the facts, then one sheet per table — styled header,
frozen below it, a bold totals row, number formats, widths that fit Chinese text."""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from services.contracts.document import Document, Table, cell_text, display_width

HEADER_FILL = PatternFill("solid", fgColor="C00000")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FONT = Font(bold=True)
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FORMATS = {"int": "0", "hours": "0.0#", "pct": "0.0%"}
MAX_WIDTH = 60
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
    facts = workbook.active
    taken = {"概况"}
    facts.title = "概况"
    facts.append([document.title])
    facts["A1"].font = Font(bold=True, size=14)
    if document.subtitle:
        facts.append([document.subtitle])
    for label, value in document.facts:
        facts.append([label, value])
        facts.cell(facts.max_row, 1).font = TOTAL_FONT
    _fit(facts, [[label for label, _ in document.facts], [v for _, v in document.facts]])
    for table in document.tables:
        _table_sheet(workbook.create_sheet(sheet_title(table.sheet or table.title, taken)), table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _table_sheet(sheet, table: Table) -> None:
    columns = table.columns
    sheet.append([c.label for c in columns])
    for cell in sheet[1]:
        cell.fill, cell.font, cell.border = HEADER_FILL, HEADER_FONT, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in table.rows:
        sheet.append([_value(row.get(c.key), c.kind) for c in columns])
    if table.totals is not None:
        sheet.append([_value(table.totals.get(c.key), c.kind) for c in columns])
        for cell in sheet[sheet.max_row]:
            cell.fill, cell.font = TOTAL_FILL, TOTAL_FONT
    for index, column in enumerate(columns, 1):
        number_format = FORMATS.get(column.kind)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.border = BORDER
            if number_format and not isinstance(cell.value, str):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(table.rows) + 1}"
    texts = [[c.label] + [cell_text(r.get(c.key), c.kind) for r in table.rows]
             + ([cell_text(table.totals.get(c.key), c.kind)] if table.totals else [])
             for c in columns]
    _fit(sheet, texts)


def _value(value, kind):
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def _fit(sheet, columns_text: list[list[str]]) -> None:
    """Column widths in character units; a Chinese character is about two."""
    for index, texts in enumerate(columns_text, 1):
        widest = max((display_width(str(t)) for t in texts if t is not None), default=4)
        sheet.column_dimensions[get_column_letter(index)].width = min(widest + 3, MAX_WIDTH)
