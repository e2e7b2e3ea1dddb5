"""The document model reports and pages draw: a title, facts (label, value), tables with totals,
bar charts. Reporting lays each report out as a Document; its renderers write it as CSV, XLSX,
PDF and PNG, and the gateway's admin pages as HTML and SVG. A document crosses RPC (and the pipe
to reporting's renderer process) as the plain dict `to_dict` gives and `from_dict` reads."""

import unicodedata
from dataclasses import dataclass, field, fields, is_dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"     # text | int | hours | pct


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None    # a row of the same keys; its first column says 合计
    sheet: str | None = None      # the XLSX sheet name (≤ 31 characters)
    section: str | None = None    # the report's `section=` whose CSV is this table

    @classmethod
    def from_dict(cls, data: dict) -> "Table":
        return cls(data["title"], [Column(**c) for c in data["columns"]], data["rows"],
                   data["totals"], data["sheet"], data.get("section"))


@dataclass
class Chart:
    """A bar chart: categories on one axis, one bar per series in each category."""

    title: str
    categories: list[str]
    series: dict[str, list[float]]
    kind: str = "bar"             # bar | barh
    value_label: str = ""
    percent: bool = False

    @classmethod
    def from_dict(cls, data: dict) -> "Chart":
        return cls(**data)


@dataclass
class Document:
    title: str
    subtitle: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The document as plain data (dicts, lists, strings, numbers). Rows are not copied; a
        value JSON cannot carry (a date, a Decimal) fails when the dict is sent."""
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Document":
        """The document `to_dict` gave, after a trip through JSON (facts are tuples again)."""
        return cls(data["title"], data["subtitle"], [tuple(fact) for fact in data["facts"]],
                   [Table.from_dict(t) for t in data["tables"]],
                   [Chart.from_dict(c) for c in data["charts"]])


def _plain(value):
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def display_width(text: str) -> int:
    """Columns a text takes in a fixed-width view: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def cell_text(value, kind: str) -> str:
    """A value as people read it in CSV, PDF and on a page."""
    if value is None:
        return "—" if kind in ("pct", "hours") else ""
    if isinstance(value, str):
        return value
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:g}"
    if kind == "int":
        return str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)
