"""The layout every renderer reads: a title, facts (label, value), tables with totals, charts."""

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


@dataclass
class Chart:
    """A bar chart: categories on one axis, one bar per series; `reference` draws a line."""

    title: str
    categories: list[str]
    series: dict[str, list[float]]
    kind: str = "bar"             # bar | barh
    reference: dict[str, list[float]] | None = None
    value_label: str = ""
    percent: bool = False


@dataclass
class Document:
    title: str
    subtitle: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


def to_data(document: Document) -> dict:
    """The document as plain data (dicts, lists, strings, numbers) for the renderer process.
    Rows are not copied; a value JSON cannot carry (a date, a Decimal) fails when it is sent."""
    return _plain(document)


def _plain(value):
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def from_data(data: dict) -> Document:
    """The document `to_data` gave, after a trip through JSON (facts are tuples again)."""
    return Document(
        data["title"], data["subtitle"], [tuple(fact) for fact in data["facts"]],
        [Table(t["title"], [Column(**c) for c in t["columns"]], t["rows"], t["totals"],
               t["sheet"]) for t in data["tables"]],
        [Chart(**c) for c in data["charts"]])


def display_width(text: str) -> int:
    """Columns a text takes in a fixed-width view: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def cell_text(value, kind: str) -> str:
    """A value as people read it in CSV and PDF."""
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
