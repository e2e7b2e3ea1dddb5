"""CSV in UTF-8 with a BOM (so Excel opens the Chinese right): the title and facts, then each
table under its own title row, with its totals row."""

import csv
import io

from services.contracts.document import Document, cell_text


def render_csv(document: Document) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([document.title] + ([document.subtitle] if document.subtitle else []))
    for label, value in document.facts:
        writer.writerow([label, value])
    for table in document.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([c.label for c in table.columns])
        for row in table.rows:
            writer.writerow([cell_text(row.get(c.key), c.kind) for c in table.columns])
        if table.totals is not None:
            writer.writerow([cell_text(table.totals.get(c.key), c.kind) if c.key in table.totals
                             else "" for c in table.columns])
    return "\ufeff".encode() + out.getvalue().encode()
