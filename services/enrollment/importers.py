"""Organisation and member files (CSV or XLSX, English or Chinese headers, DESIGN §4): reading
them into plain rows, and the row rules that decide which rows are kept and why the others are
not. The CLI reads; the service validates with the same rules and keeps the good rows.
"""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

# The contracts' pattern for organisation codes and member numbers (fields.code).
CODE = re.compile(r"^[0-9A-Za-z_.\-]{1,64}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_JOIN = date(1921, 7, 1)

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

KINDS = {
    "district": "district", "区委": "district",
    "committee": "committee", "党(工)委": "committee", "党（工）委": "committee",
    "党委": "committee", "党工委": "committee",
    "grassroots": "grassroots", "基层党组织": "grassroots",
}
SECTORS = {
    "village": "village", "村": "village",
    "residential": "residential", "居民区": "residential",
    "institution": "institution", "机关事业单位": "institution",
    "soe": "soe", "国有企业": "soe", "国有(集体)企业": "soe", "国有（集体）企业": "soe",
    "two_new": "two_new", "两新组织": "two_new", "“两新”组织": "two_new", "两新": "two_new",
}
EMPLOYMENTS = {
    "institution": "institution", "机关事业单位": "institution",
    "enterprise": "enterprise", "企业": "enterprise",
    "other": "other", "其他": "other",
}


class FileUnreadable(Exception):
    """Nothing could be read: no such file, not a table, or its headers lack a column."""


@dataclass(frozen=True)
class BadRow:
    row: int
    field: str
    reason: str

    def line(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


# -- reading -----------------------------------------------------------------------------------

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


def read_rows(path: str | Path) -> list[list]:
    """Every row of the file's first sheet (or the CSV), header included."""
    path = Path(path)
    if not path.is_file():
        raise FileUnreadable(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_path(str(path))
            return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001 - any parse failure means "not readable"
            raise FileUnreadable(f"{path}: not a readable spreadsheet ({exc})") from None
    for encoding in ("utf-8-sig", "gb18030"):   # Excel in China saves CSV as GBK
        try:
            with path.open(newline="", encoding=encoding) as handle:
                return list(csv.reader(handle))
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            raise FileUnreadable(f"{path}: not a readable CSV ({exc})") from None
    raise FileUnreadable(f"{path}: neither UTF-8 nor GB18030 text")


def records(raw: list[list], headers: dict, required: Iterable[str]) -> list[dict]:
    """Rows as dicts of text keyed by the English field names, each with its row number
    (the header is row 1). Empty rows are skipped; unknown columns are ignored."""
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
    out = []
    for number, row in enumerate(raw[1:], start=2):
        values = {field: cell_text(row[i]) if i < len(row) else ""
                  for field, i in columns.items()}
        if any(values.values()):
            values["row"] = number
            out.append(values)
    return out


# -- row rules ------------------------------------------------------------------------------------

def _code(value: str, what: str) -> str:
    if not value:
        raise ValueError("missing")
    if not CODE.match(value):
        raise ValueError(f"not a valid {what} (letters, digits, . _ - ; at most 64)")
    return value


def _choice(value: str, choices: dict, what: str) -> str:
    if not value:
        raise ValueError("missing")
    chosen = choices.get(value) or choices.get(value.lower())
    if chosen is None:
        english = sorted(set(choices.values()))
        raise ValueError(f"{value!r} is not a valid {what} ({', '.join(english)})")
    return chosen


def _name(value: str, longest: int) -> str:
    if not value:
        raise ValueError("missing")
    if len(value) > longest:
        raise ValueError(f"longer than {longest} characters")
    return value


def _joined_on(value: str, today: date) -> date:
    if not value:
        raise ValueError("missing")
    if not ISO_DATE.match(value):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if day > today:
        raise ValueError(f"{value} is in the future")
    if day < EARLIEST_JOIN:
        raise ValueError(f"{value} is before the Party was founded")
    return day


def validate_members(rows: list[dict], org_codes: set[str], today: date
                     ) -> tuple[list[dict], list[BadRow]]:
    """Member rows that may be kept (typed), and one BadRow for each row that may not."""
    good, bad = [], []
    seen: dict[str, int] = {}
    secretaries: dict[str, int] = {}
    for row in rows:
        number = row.get("row", 0)
        field = "member_no"
        try:
            member_no = _code(row.get("member_no", ""), "member number")
            if member_no in seen:
                raise ValueError(f"{member_no} appears again (first at row {seen[member_no]})")
            field = "name"
            name = _name(row.get("name", ""), 100)
            field = "org_code"
            org_code = _code(row.get("org_code", ""), "organisation code")
            if org_code not in org_codes:
                raise ValueError(f"no organisation {org_code}")
            field = "joined_on"
            joined_on = _joined_on(row.get("joined_on", ""), today)
            field = "employment"
            employment = _choice(row.get("employment", ""), EMPLOYMENTS, "employment")
            field = "secretary_of"
            secretary_of = row.get("secretary_of") or None
            if secretary_of is not None:
                _code(secretary_of, "organisation code")
                if secretary_of not in org_codes:
                    raise ValueError(f"no organisation {secretary_of}")
                if secretary_of in secretaries:
                    raise ValueError(f"{secretary_of} already has its secretary at row "
                                     f"{secretaries[secretary_of]}")
        except ValueError as exc:
            bad.append(BadRow(number, field, str(exc)))
            continue
        seen[member_no] = number
        if secretary_of is not None:
            secretaries[secretary_of] = number
        good.append({"member_no": member_no, "name": name, "org_code": org_code,
                     "joined_on": joined_on, "employment": employment,
                     "secretary_of": secretary_of})
    return good, bad


def validate_orgs(rows: list[dict], existing: dict[str, str | None]
                  ) -> tuple[list[dict], list[BadRow]]:
    """Organisation rows that may be kept, in any order. `existing` maps the organisations
    already known to their parents: a row may hang under one of them. A parent that appears
    nowhere, or a cycle, makes a bad row (and so does every row below it)."""
    from .domain import tree_paths

    typed, bad = [], []
    seen: dict[str, int] = {}
    invalid: dict[str, int] = {}   # codes of rows refused for another field
    for row in rows:
        number = row.get("row", 0)
        field, org_code = "org_code", None
        try:
            org_code = _code(row.get("org_code", ""), "organisation code")
            if org_code in seen:
                raise ValueError(f"{org_code} appears again (first at row {seen[org_code]})")
            field = "name"
            name = _name(row.get("name", ""), 200)
            field = "parent_code"
            parent_code = row.get("parent_code") or None
            if parent_code is not None:
                _code(parent_code, "organisation code")
                if parent_code == org_code:
                    raise ValueError("an organisation cannot be its own parent")
            field = "kind"
            kind = _choice(row.get("kind", ""), KINDS, "kind")
            if parent_code is None:
                kind = "district"   # the top of the tree
            elif kind == "district":
                raise ValueError("only the top organisation (no parent) is the district")
            field = "sector"
            sector = row.get("sector") or None
            if sector is not None:
                sector = _choice(sector, SECTORS, "sector")
            elif kind == "grassroots":
                raise ValueError("missing (a grassroots organisation has a sector)")
        except ValueError as exc:
            bad.append(BadRow(number, field, str(exc)))
            if org_code is not None and field != "org_code":
                invalid.setdefault(org_code, number)
            continue
        seen[org_code] = number
        typed.append({"row": number, "org_code": org_code, "name": name,
                      "parent_code": parent_code, "kind": kind, "sector": sector})
    parents = dict(existing)
    parents.update({r["org_code"]: r["parent_code"] for r in typed})
    _paths, broken = tree_paths(parents)
    good = []
    for r in typed:
        if r["org_code"] in broken:
            reason = broken[r["org_code"]]
            if r["parent_code"] in invalid and r["parent_code"] not in parents:
                reason = f"parent {r['parent_code']} is not valid (row {invalid[r['parent_code']]})"
            bad.append(BadRow(r["row"], "parent_code", reason))
        else:
            good.append({k: v for k, v in r.items() if k != "row"})
    bad.sort(key=lambda b: b.row)
    return good, bad
