"""The six reports of DESIGN §5. Each module has `Params` (its marshmallow schema), `build(db,
params, within)` giving the report as plain data, `layout(data)` giving the Document
(services.contracts.document) the renderers and the admin pages draw, and `file_parts(data)`
giving the scope and year of its file name. `SECTIONS` names the document's tables, the main
one first: a CSV holds one of them (`section`, common.sectioned)."""

from . import (
    annual_summary,
    class_plan,
    class_record,
    coverage_gaps,
    filing_status,
    personal_archive,
)

REPORTS = {module.NAME: module for module in (
    class_record, class_plan, annual_summary, coverage_gaps, personal_archive, filing_status)}

# Which reports answer format=png (their charts).
WITH_CHARTS = ("annual-summary",)
