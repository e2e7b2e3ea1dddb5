"""Organisation, member and study-hour files (DESIGN §4 "import columns"): what `peixun import`,
which reads a file, and enrollment, which validates its rows, agree on. The columns with their
English and Chinese headers, the values a file may spell a kind, sector, employment or source of
study hours with, the reading of CSV and XLSX into rows of text, and the separator that joins a
column's texts on the wire.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import compress, islice
from operator import itemgetter
from pathlib import Path

from . import vocabulary

# Joins a column's texts where an import sends them column by column: the ASCII unit
# separator, which no member file has in a cell (and where one does, rows go as lists).
SEP = "\x1f"

ORG_HEADERS = {
    "org_code": ("org_code", "党组织编码"),
    "name": ("name", "名称"),
    "parent_code": ("parent_code", "上级党组织编码"),
    "kind": ("kind", "类型"),
    "sector": ("sector", "领域"),
}
ORG_REQUIRED = ("org_code", "name", "parent_code", "kind")

MEMBER_HEADERS = {
    "member_no": ("member_no", "党员编号"),
    "name": ("name", "姓名"),
    "org_code": ("org_code", "党组织编码"),
    "joined_on": ("joined_on", "入党日期"),
    "employment": ("employment", "人员类别"),
    "secretary_of": ("secretary_of", "任书记的党组织编码"),
}
MEMBER_REQUIRED = ("member_no", "name", "org_code", "joined_on", "employment")

# Study hours earned outside this system's classes (其他学时), one entry a row.
HOURS_HEADERS = {
    "member_no": ("member_no", "党员编号"),
    "year": ("year", "年度"),
    "hours": ("hours", "学时"),
    "source": ("source", "来源"),
    "title": ("title", "名称"),
    "on": ("on", "日期"),
}
HOURS_REQUIRED = tuple(HOURS_HEADERS)

# A class's 报名表 (DESIGN §4 "The clerk's pages"): who is nominated and how. 姓名 and 党组织
# are checked against the roll, so that a mistyped number is caught rather than enrolled.
NOMINATION_HEADERS = {
    "member_no": ("member_no", "党员编号"),
    "name": ("name", "姓名"),
    "org": ("org", "党组织"),
    "mode": ("mode", "方式"),
}
NOMINATION_REQUIRED = ("member_no",)


def _spellings(labels: dict[str, str], others: dict[str, str] | None = None) -> dict[str, str]:
    """Each way a file may write a value -> its code: the code, its label, and the other
    spellings organisation departments use."""
    return {**{code: code for code in labels}, **{text: code for code, text in labels.items()},
            **(others or {})}


KINDS = _spellings(vocabulary.ORG_KINDS, {
    "党（工）委": "committee", "党委": "committee", "党工委": "committee"})
SECTORS = _spellings(vocabulary.SECTORS, {
    "国有企业": "soe", "国有（集体）企业": "soe", "两新组织": "two_new", "两新": "two_new"})
EMPLOYMENTS = _spellings(vocabulary.EMPLOYMENTS)
HOUR_SOURCES = _spellings(vocabulary.STUDY_HOUR_SOURCES, {
    "单位组织": "unit", "网络学习": "online", "党校": "party_school"})
MODES = _spellings(vocabulary.ENROLLMENT_MODES)


class FileUnreadable(Exception):
    """Nothing could be read: no such file, not a table, or its headers lack a column."""


def cell_text(value) -> str:
    """A cell as text: spreadsheet numbers without their `.0`, dates as YYYY-MM-DD."""
    if type(value) is str:   # most cells: checked first, an import reads hundreds of thousands
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def iter_rows(path: str | Path) -> Iterator[list]:
    """The rows of the file's first sheet (or the CSV), header first, as they are taken. A file
    that is missing, not a spreadsheet or neither UTF-8 nor GB18030 text fails here, before
    any row; a CSV broken further down fails where it breaks."""
    path = Path(path)
    if not path.is_file():
        raise FileUnreadable(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_path(str(path))
            return iter(workbook.get_sheet_by_index(0).to_python(skip_empty_area=False))
        except Exception as exc:  # noqa: BLE001 - any parse failure means "not readable"
            raise FileUnreadable(f"{path}: not a readable spreadsheet ({exc})") from None
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):   # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _csv_rows(path, text)
    raise FileUnreadable(f"{path}: neither UTF-8 nor GB18030 text")


def _csv_rows(path: Path, text: str) -> Iterator[list]:
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise FileUnreadable(f"{path}: not a readable CSV ({exc})") from None


def records(raw: list[list], headers: dict, required: Iterable[str]) -> list[dict]:
    """Rows as dicts of text keyed by the English field names, each with its row number
    (the header is row 1). Empty rows are skipped; unknown columns are ignored."""
    columns = _header(raw, headers, required)
    fields = list(columns)
    return [{**dict(zip(fields, row[1:], strict=True)), "row": row[0]}
            for row in _rows_below(raw, list(columns.values()))]


def column_chunks(rows: Iterator[list], headers: dict, required: Iterable[str], size: int,
                  first: int | None = None
                  ) -> Iterator[tuple[list[int], dict[str, list[str]]]]:
    """The file column by column, a chunk of rows at a time, from the rows as they are read
    (header first): for each chunk, the numbers of its rows that are not empty and each
    field's text in those rows. An import sends one chunk while it reads the next, and a
    smaller `first` chunk sets the service to work sooner. The header is checked at once; a
    chunk of empty rows only is left out."""
    header = next(rows, None)
    fields = _header([header] if header is not None else [], headers, required)
    return _chunks(rows, fields, size, first or size)


def _chunks(rows, fields, size, first):
    number = 2
    while True:
        batch = list(islice(rows, first if number == 2 else size))
        if not batch:
            return
        numbers, texts = _columns_of(batch, fields, number)
        number += len(batch)
        if numbers:
            yield numbers, texts


def _columns_of(body: list[list], fields: dict[str, int], first: int
               ) -> tuple[list[int], dict[str, list[str]]]:
    """Rows (numbered from `first`) column by column, empty rows left out. Column-wise, so
    that C functions (itemgetter, str.strip) do the per-cell work: a member file has 360,000
    cells."""
    width = max(fields.values()) + 1
    if any(len(row) < width for row in body):
        body = [row if len(row) >= width else [*row, *([""] * (width - len(row)))]
                for row in body]
    texts = {}
    for field, index in fields.items():
        column = list(map(itemgetter(index), body))
        try:
            texts[field] = list(map(str.strip, column))
        except TypeError:   # a spreadsheet's numbers and dates
            texts[field] = [cell_text(value) for value in column]
    numbers = list(range(first, first + len(body)))
    kept = list(map(any, zip(*texts.values(), strict=True)))
    if not all(kept):   # empty rows are skipped
        numbers = list(compress(numbers, kept))
        texts = {field: list(compress(column, kept)) for field, column in texts.items()}
    return numbers, texts


def _header(raw: list[list], headers: dict, required: Iterable[str]) -> dict[str, int]:
    """The English name of each column found, and its index; every required one is there."""
    if not raw:
        raise FileUnreadable("the file is empty")
    names = {alias: field for field, aliases in headers.items() for alias in aliases}
    columns = {}
    for index, header in enumerate(raw[0]):
        field = names.get(cell_text(header).lower()) or names.get(cell_text(header))
        if field is not None and field not in columns:
            columns[field] = index
    missing = [field for field in required if field not in columns]
    if missing:
        wanted = ", ".join(f"{f}/{headers[f][1]}" for f in missing)
        raise FileUnreadable(f"the header row lacks {wanted}")
    return columns


def _rows_below(raw: list[list], indexes: list[int]) -> Iterator[list]:
    width = max(indexes) + 1
    for number in range(2, len(raw) + 1):
        row = raw[number - 1]
        if len(row) < width:
            row = [*row, *([""] * (width - len(row)))]
        values = [value.strip() if type(value) is str else cell_text(value)
                  for value in (row[i] for i in indexes)]
        if any(values):
            yield [number, *values]
