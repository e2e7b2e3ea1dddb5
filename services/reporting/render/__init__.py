"""One report, many files: the report's data laid out as a Document (facts and tables), then
written as CSV, XLSX, PDF or PNG charts. JSON is the data itself, in canonical form."""

import json

from .document import Column, Document, Table

__all__ = ["Column", "Document", "Table", "canonical_json", "render"]


def canonical_json(data) -> bytes:
    """Sorted keys, fixed separators, UTF-8: the same data always gives the same bytes."""
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()


def render(document: Document, fmt: str) -> bytes:
    if fmt == "csv":
        from .csv import render_csv
        return render_csv(document)
    if fmt == "xlsx":
        from .xlsx import render_xlsx
        return render_xlsx(document)
    if fmt == "pdf":
        from .pdf import render_pdf
        return render_pdf(document)
    if fmt == "png":
        from .charts import render_png
        return render_png(document)
    raise ValueError(f"no renderer for {fmt}")
