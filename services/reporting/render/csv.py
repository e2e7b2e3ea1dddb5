"""CSV in UTF-8 with a BOM (so Excel opens the Chinese right): one flat table — the document's
first table (a report's main one, or the section asked for), its Chinese headings, then its
rows. No title, facts or totals row: a CSV is for sorting, filtering and importing.

Excel and LibreOffice guess at every unquoted-looking field: "3/3" becomes a date, a 13-digit
党员编号 3.1E+12, "0012" 12, "88.9%" the number 0.889. A text that a spreadsheet could read
as a number, date, time, percentage or formula is written as the formula `="…"`, which both
show as exactly that text. Numbers (int and hours columns) and ISO dates stay bare: they are
the numbers and dates they look like.

Also here: the labels of the 制表单位 / 制表日期 facts, which every renderer puts on its page."""

import csv
import io
import re

from services.contracts.document import Document, cell_text

MADE_BY, MADE_ON = "制表单位", "制表日期"

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What a spreadsheet may take for something other than text: digits (dates, times, fractions,
# numbers, percentages, 3月3日), signs and brackets (negative numbers, formulas), currency,
# full-width digits, booleans.
NOT_PLAIN_TEXT = re.compile(r"^\s|^[-+=@.,(0-9$¥￥０-９]|^(true|false)$", re.IGNORECASE)
# Excel refuses a formula's string literal longer than 255 characters.
LONGEST_LITERAL = 250


def spreadsheet_safe(text: str) -> str:
    """`text` as a field that Excel and LibreOffice both show as `text`, unchanged."""
    if not NOT_PLAIN_TEXT.search(text) or ISO_DATE.match(text):
        return text
    if len(text) > LONGEST_LITERAL:
        # Too long to be a number or a date; only a formula's first character needs defusing.
        return "'" + text if text[0] in "=+-@" else text
    return '="' + text.replace('"', '""') + '"'


def field(value, kind: str) -> str:
    if kind in ("int", "hours") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return cell_text(value, kind)
    return spreadsheet_safe(cell_text(value, kind))


def render_csv(document: Document) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if document.tables:
        table = document.tables[0]
        writer.writerow([spreadsheet_safe(column.label) for column in table.columns])
        for row in table.rows:
            writer.writerow([field(row.get(c.key), c.kind) for c in table.columns])
    return "\ufeff".encode() + out.getvalue().encode()
