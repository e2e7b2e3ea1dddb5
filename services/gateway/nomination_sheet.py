"""The 报名表 of a class: the XLSX template a clerk fills in, and reading a filled one (XLSX or
CSV) back into rows numbered as the spreadsheet shows them. The columns are contracts'
(NOMINATION_HEADERS): 党员编号, 姓名, 党组织, 方式."""

import csv
import io

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from services.contracts import vocabulary
from services.contracts.imports import (
    NOMINATION_HEADERS,
    NOMINATION_REQUIRED,
    FileUnreadable,
    cell_text,
    records,
)
from services.kit.errors import InvalidInput

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 2 * 1024 * 1024        # bytes: thousands of rows fit well within
MAX_ROWS = 5000                     # enrollment's largest nomination
HEADER_SEARCH = 10                  # rows above the header: the title and the instructions
FIRST_ROW = 4                       # where people are written, below title, notes and header
# A font every Chinese office has, so the sheet opens alike everywhere.
FONT = "宋体"
WIDTHS = {"member_no": 20, "name": 14, "org": 34, "mode": 12}
HEADER_FILL = PatternFill("solid", fgColor="C00000")
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def instructions(klass: dict) -> str:
    modes = "、".join(vocabulary.ENROLLMENT_MODES[m] for m in offered_modes(klass["delivery"]))
    return (f"填写说明：从第 {FIRST_ROW} 行起每行填写一人。党员编号必填；姓名、党组织（编码或名称）"
            f"用于核对，填写时须与党员信息一致；方式填“{modes}”之一，留空按班次默认。"
            "只能报名本单位及下级党组织的党员；有误的行会逐行指出，其余各行照常报名。")


def offered_modes(delivery: str) -> tuple[str, ...]:
    """How people may take part in a class of this delivery."""
    return {"offline": ("offline",), "live": ("online",)}.get(delivery, ("offline", "online"))


def template(klass: dict) -> bytes:
    """The class's 报名表 to fill in: its title, the instructions, then the header row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "报名表"
    labels = [aliases[1] for aliases in NOMINATION_HEADERS.values()]
    last = chr(ord("A") + len(labels) - 1)
    sheet["A1"] = f"{klass['title']} · 报名表"
    sheet["A1"].font = Font(name=FONT, bold=True, size=14)
    sheet["A2"] = instructions(klass)
    sheet["A2"].font = Font(name=FONT, size=10, color="555555")
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    for row in (1, 2):
        sheet.merge_cells(f"A{row}:{last}{row}")
    sheet.row_dimensions[1].height = 24
    sheet.row_dimensions[2].height = 48
    sheet.append(labels)
    for cell in sheet[3]:
        cell.font = Font(name=FONT, bold=True, color="FFFFFF")
        cell.fill, cell.border = HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, field in enumerate(NOMINATION_HEADERS):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = WIDTHS[field]
        # Member numbers are text: Excel would write a long number as 3.1012E+10.
        sheet.column_dimensions[letter].number_format = "@"
        sheet.column_dimensions[letter].font = Font(name=FONT)
    modes = [vocabulary.ENROLLMENT_MODES[m] for m in offered_modes(klass["delivery"])]
    mode_column = chr(ord("A") + list(NOMINATION_HEADERS).index("mode"))
    choice = DataValidation(type="list", formula1=f'"{",".join(modes)}"', allow_blank=True,
                            error="请填写：" + "或".join(modes), showErrorMessage=True)
    choice.add(f"{mode_column}{FIRST_ROW}:{mode_column}{FIRST_ROW + MAX_ROWS}")
    sheet.add_data_validation(choice)
    sheet.freeze_panes = f"A{FIRST_ROW}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read(filename: str, data: bytes) -> list[dict]:
    """The filled 报名表's rows as {member_no, name, org, mode, row}, `row` as the spreadsheet
    numbers it; a file that cannot be read at all is refused (422) saying why, in Chinese."""
    if not data:
        raise _unreadable("请选择要上传的报名表文件")
    if len(data) > MAX_UPLOAD:
        raise _unreadable(f"文件超过 {MAX_UPLOAD // (1024 * 1024)} MB，请分成几个文件上传")
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    raw = _xlsx_rows(data) if suffix in ("xlsx", "xlsm") else \
        _csv_rows(data) if suffix == "csv" else None
    if raw is None:
        raise _unreadable("报名表应为 XLSX 或 CSV 文件（可用本页下载的模板填写）")
    header = _header_index(raw)
    try:
        rows = records(raw[header:], NOMINATION_HEADERS, NOMINATION_REQUIRED)
    except FileUnreadable:
        raise _unreadable("没有找到表头“党员编号”：请使用本页下载的模板") from None
    if len(rows) > MAX_ROWS:
        raise _unreadable(f"一次最多报名 {MAX_ROWS} 人，请分成几个文件上传")
    return [{**row, "row": row["row"] + header} for row in rows]


def _header_index(raw: list[list]) -> int:
    """The header row's index: the first row (of the first few) naming the member number."""
    names = set(NOMINATION_HEADERS["member_no"])
    for index, row in enumerate(raw[:HEADER_SEARCH]):
        if any(cell_text(cell) in names for cell in row):
            return index
    raise _unreadable("没有找到表头“党员编号”：请使用本页下载的模板")


def _xlsx_rows(data: bytes) -> list[list]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        return rows
    except Exception:  # noqa: BLE001 - any parse failure means "not a spreadsheet"
        raise _unreadable("无法读取该 XLSX 文件，请用 Excel 或 WPS 另存为 XLSX 后再上传") from None


def _csv_rows(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):   # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            break
    raise _unreadable("无法读取该 CSV 文件，请另存为 UTF-8 或 GBK 编码的 CSV 后再上传")


def _unreadable(reason: str) -> InvalidInput:
    return InvalidInput(reason, errors={"报名表": [reason]})
