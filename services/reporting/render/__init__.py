"""One report, many files: the report's data laid out as a Document (facts, tables, charts; see
services.contracts.document), then written as CSV, XLSX, PDF or PNG charts. JSON is the data
itself, in canonical form.

CSV and XLSX are written here; PDF and PNG by the renderer process (remote.py), which keeps
matplotlib, fpdf2 and the CJK font out of the service's memory and its event loop free."""

import json

from services.contracts.document import Document

__all__ = ["canonical_json", "render"]


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
    if fmt in ("pdf", "png"):
        from .remote import renderer
        return renderer.render(document, fmt)
    raise ValueError(f"no renderer for {fmt}")
