"""HTML that escapes by construction: `el` writes an element and passes every child and every
attribute value through `html.escape` unless it is `Markup`, which only `el` and `esc` make.
Names, titles and reasons come from people (imports, forms), so none reaches a page raw."""

from html import escape

from services.contracts.document import Table, cell_text

VOID = frozenset({"meta", "input", "br", "hr", "link", "img"})
NUMERIC = ("int", "hours", "pct")


class Markup(str):
    """Text that is already HTML (built here); it goes into a page as it is."""

    __slots__ = ()


def esc(value) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(escape("" if value is None else str(value), quote=True))


def join(*parts) -> Markup:
    """Children in order: nested lists and tuples flattened, None left out."""
    out = []
    for part in parts:
        if part is None or part is False:
            continue
        if isinstance(part, (list, tuple)):
            out.append(join(*part))
        else:
            out.append(esc(part))
    return Markup("".join(out))


def el(name: str, /, *children, **attrs) -> Markup:
    """`el("a", "下载", href=url, class_="button")`: a trailing underscore in an attribute name
    is dropped (class_), other underscores become hyphens (aria_label); None leaves an attribute
    out and True writes it bare."""
    written = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key[:-1] if key.endswith("_") else key.replace("_", "-")
        written.append(f" {key}" if value is True else f' {key}="{esc(value)}"')
    opening = f"<{name}{''.join(written)}>"
    if name in VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(*children)}</{name}>")


def facts(lines: list[tuple[str, str]]) -> Markup:
    """A report's facts (label, value) as a definition list."""
    return el("dl", *[(el("dt", label), el("dd", value)) for label, value in lines],
              class_="facts")


def table(report_table: Table, links: dict | None = None, csv=None) -> Markup:
    """A report's table as the report lays it out: its columns, rows and totals. `links`:
    column key -> a function of the cell's value giving where it links to (None: no link);
    `csv`: a function of the table's section giving where its CSV is downloaded."""
    columns = report_table.columns
    links = links or {}

    def cell(row: dict, column, linked: bool) -> Markup:
        text = cell_text(row.get(column.key), column.kind)
        link = links.get(column.key) if linked else None
        href = link(row.get(column.key)) if link else None
        return el("a", text, href=href) if href else text

    def cells(row: dict, linked: bool = True) -> list:
        return [el("td", cell(row, c, linked), class_="num" if c.kind in NUMERIC else None)
                for c in columns]

    head = el("thead", el("tr", *[el("th", c.label, class_="num" if c.kind in NUMERIC else None,
                                      scope="col") for c in columns]))
    body = el("tbody", *([el("tr", *cells(row)) for row in report_table.rows]
                         or [el("tr", el("td", "暂无数据", colspan=len(columns), class_="empty"))]))
    foot = el("tfoot", el("tr", *cells(report_table.totals, linked=False))) \
        if report_table.totals and report_table.rows else None
    download = el("a", "下载本表 CSV", href=csv(report_table.section), class_="caption-link") \
        if csv is not None and report_table.section else None
    return el("div", el("table", el("caption", report_table.title, download), head, body, foot),
              class_="table-wrap")
