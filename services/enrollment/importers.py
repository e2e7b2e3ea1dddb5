"""The row rules of organisation and member files (DESIGN §4): which rows are kept and why the
others are not. `peixun import` reads the file (services.contracts.imports); the service checks
its rows here and keeps the good ones.
"""

import re
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from services.contracts.fields import CODE_PATTERN
from services.contracts.imports import EMPLOYMENTS, KINDS, SECTORS

# The contracts' pattern for organisation codes and member numbers.
CODE = re.compile(CODE_PATTERN)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_JOIN = date(1921, 7, 1)


@dataclass(frozen=True)
class BadRow:
    row: int
    field: str
    reason: str

    def line(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


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
        raise ValueError(f"{value!r} is not a valid {what} ({_spelt(choices)})")
    return chosen


def _spelt(choices: dict) -> str:
    """Each choice as the code and its Chinese label (`enterprise/企业`): a file in either
    language reads the fix in its own words."""
    label = {}
    for text, code in choices.items():
        if text != code:
            label.setdefault(code, text)    # the vocabulary's label comes first
    return ", ".join(f"{code}/{label[code]}" for code in sorted(label))


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


MEMBER_FIELDS = ("row", "member_no", "name", "org_code", "joined_on", "employment",
                 "secretary_of")


def validate_members(rows: list, org_codes, today: date, columns: list[str] | None = None
                     ) -> tuple[list[dict], list[BadRow]]:
    """Member rows that may be kept (typed), and one BadRow for each row that may not.
    Rows are dicts, or sequences of values in the order of `columns`."""
    good, bad = check_members(rows, org_codes, today, columns)
    return [dict(zip(KEPT_FIELDS, row, strict=True)) for row in good.rows()], bad


KEPT_FIELDS = ("member_no", "name", "org_code", "joined_on", "employment", "secretary_of")


@dataclass
class KeptMembers:
    """The rows of a member file that may be kept, column by column (KEPT_FIELDS): what the
    import writes. `joined_on` as dates and `joined_text` as their YYYY-MM-DD; no secretary
    post is None."""

    member_no: list[str]
    name: list[str]
    org_code: list[str]
    joined_on: list[date]
    joined_text: list[str]
    employment: list[str]
    secretary_of: list[str | None]

    def __len__(self) -> int:
        return len(self.member_no)

    def rows(self) -> list[tuple]:
        """One tuple per row, in the order of KEPT_FIELDS."""
        return list(zip(self.member_no, self.name, self.org_code, self.joined_on,
                        self.employment, self.secretary_of, strict=True))

    def page(self, start: int, stop: int) -> "KeptMembers":
        return KeptMembers(*(column[start:stop] for column in vars(self).values()))

    @classmethod
    def of_rows(cls, rows: list[tuple]) -> "KeptMembers":
        if not rows:
            return cls([], [], [], [], [], [], [])
        member_no, name, org_code, joined_on, employment, secretary_of = map(
            list, zip(*rows, strict=True))
        return cls(member_no, name, org_code, joined_on, [d.isoformat() for d in joined_on],
                   employment, secretary_of)


def check_members(rows: list, org_codes, today: date, columns: list[str] | None = None
                  ) -> tuple[KeptMembers, list[BadRow]]:
    """`validate_members` with the kept rows column by column: what the import writes.

    Plain Python in one pass: an import checks tens of thousands of rows, and most of their
    values repeat (organisations, dates, employments), so each distinct one is decided once.
    (Column by column was slower: finding the few bad rows again cost more than this loop.)"""
    good, bad = [], []
    seen: dict[str, int] = {}
    secretaries: dict[str, int] = {}
    dates: dict[str, date | str] = {}         # text -> the date, or why it is not one
    employments: dict[str, str | None] = {}
    match = CODE.match
    for number, member_no, name, org_code, joined_on, employment, secretary_of in \
            _member_values(rows, columns):
        field, reason = "member_no", None
        if not member_no:
            reason = "missing"
        elif not match(member_no):
            reason = "not a valid member number (letters, digits, . _ - ; at most 64)"
        elif member_no in seen:
            reason = f"{member_no} appears again (first at row {seen[member_no]})"
        elif not name:
            field, reason = "name", "missing"
        elif len(name) > 100:
            field, reason = "name", "longer than 100 characters"
        elif org_code not in org_codes:
            field = "org_code"
            reason = _code_reason(org_code, "organisation code") or \
                f"no organisation {org_code}"
        else:
            day = dates.get(joined_on)
            if day is None:
                day = dates[joined_on] = _joined_on_or_reason(joined_on, today)
            chosen = employments.get(employment, False)
            if chosen is False:
                chosen = employments[employment] = EMPLOYMENTS.get(employment) or \
                    EMPLOYMENTS.get(employment.lower())
            if type(day) is str:
                field, reason = "joined_on", day
            elif chosen is None:
                field = "employment"
                reason = "missing" if not employment else (
                    f"{employment!r} is not a valid employment ({_spelt(EMPLOYMENTS)})")
            elif secretary_of:
                field = "secretary_of"
                if secretary_of not in org_codes:
                    reason = _code_reason(secretary_of, "organisation code") or \
                        f"no organisation {secretary_of}"
                elif secretary_of in secretaries:
                    reason = (f"{secretary_of} already has its secretary at row "
                              f"{secretaries[secretary_of]}")
        if reason is not None:
            bad.append(BadRow(number, field, reason))
            continue
        seen[member_no] = number
        if secretary_of:
            secretaries[secretary_of] = number
        good.append((member_no, name, org_code, day, chosen, secretary_of or None))
    return KeptMembers.of_rows(good), bad


def _member_values(rows, columns):
    """Each row as (row number, member_no, name, org_code, joined_on, employment,
    secretary_of), every value text without surrounding spaces."""
    if columns is None:
        for row in rows:
            yield (row.get("row", 0), *(_text(row.get(k)) for k in MEMBER_FIELDS[1:]))
        return
    index = {name: i for i, name in enumerate(columns)}
    picks = [index.get(name) for name in MEMBER_FIELDS]
    if None in picks:   # a column the file lacks (no row number, no secretary_of): ""
        for row in rows:
            values = [_text(row[i]) if i is not None and i < len(row) else "" for i in picks]
            values[0] = row[picks[0]] if picks[0] is not None else 0
            yield values
        return
    pick = itemgetter(*picks)
    for row in rows:
        try:
            number, a, b, c, d, e, f = pick(row)
            yield number, a.strip(), b.strip(), c.strip(), d.strip(), e.strip(), f.strip()
        except (AttributeError, IndexError):   # a value that is not text, a short row
            values = [_text(row[i]) if i < len(row) else "" for i in picks]
            values[0] = row[picks[0]] if picks[0] < len(row) else 0
            yield values


def _text(value) -> str:
    if type(value) is str:
        return value.strip()
    return "" if value is None else str(value).strip()


def _code_reason(value: str, what: str) -> str | None:
    try:
        _code(value, what)
    except ValueError as exc:
        return str(exc)
    return None


def _joined_on_or_reason(value: str, today: date) -> date | str:
    try:
        return _joined_on(value, today)
    except ValueError as exc:
        return str(exc)


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
