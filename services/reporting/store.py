"""Pulling a report: validate, build once as data, render, store the file with the sha256 of its
bytes and the last inbox position it reflects. Pulling it again with nothing new told returns
the stored file itself (same bytes).

"Nothing new" is the watermark: the read models' generation (a replay bumps it), the inbox's
last position and its row count (a handler that took an earlier position may commit after a
later one), and the filing and review counts (filing status depends on them). Parameters are
stored resolved (defaults filled in, the caller's scope, the quotas in force), so two pulls
that mean the same report share one file.
"""

import base64
import hashlib
import json
import uuid

from sqlalchemy import func, select

from services.kit.errors import InvalidInput, NotFound, Tampered
from services.kit.models import inbox
from services.kit.validation import load

from . import domain as d
from . import projections, replay
from .models import filing, filing_review, report_file
from .render import canonical_json, render
from .reports import REPORTS, WITH_CHARTS

YEARLY = ("annual-summary", "coverage-gaps", "filing-status")   # year defaults to this year


def log_size(db) -> tuple[int, int]:
    """The inbox's last position and its row count."""
    position, count = db.execute(select(func.max(inbox.c.position), func.count())).one()
    return position or 0, count


def watermark(db) -> tuple[int, str]:
    position, count = log_size(db)
    filings = db.execute(select(func.count()).select_from(filing)).scalar_one()
    reviews = db.execute(select(func.count()).select_from(filing_review)).scalar_one()
    return position, (f"g{replay.generation(db)}.p{position}.n{count}.f{filings}.r{reviews}")


def resolve(name: str, params: dict | None, fmt: str):
    """The report module and its validated parameters, defaults filled in."""
    spec = REPORTS.get(name)
    if spec is None:
        raise NotFound(f"no report called {name}",
                       errors={"report": [f"must be one of {', '.join(REPORTS)}"]})
    if fmt not in d.FORMATS or (fmt == "png" and name not in WITH_CHARTS):
        allowed = [f for f in d.FORMATS if f != "png" or name in WITH_CHARTS]
        raise InvalidInput("unknown format",
                           errors={"format": [f"{name} comes as {', '.join(allowed)}"]})
    loaded = load(spec.Params(), {k: v for k, v in (params or {}).items() if v is not None})
    if loaded.get("section") is not None and fmt != "csv":
        # XLSX and PDF hold every section, JSON is the whole report: refused, not ignored.
        raise InvalidInput("section is for CSV", errors={
            "section": [f"only with format=csv: format={fmt} holds every section"]})
    if name in YEARLY and loaded.get("year") is None:
        loaded["year"] = d.today().year
    if name == "filing-status" and loaded.get("as_of") is None:
        loaded["as_of"] = d.today()
    return spec, loaded


def _key(name: str, params: dict, within: str | None) -> str:
    key = {"params": params, "within": within}
    if name in ("annual-summary", "personal-archive"):
        quotas = d.quotas()
        key["quotas"] = [quotas.secretary, quotas.member]
    return json.dumps(key, sort_keys=True, default=str, ensure_ascii=False)


def build_content(spec, data: dict, fmt: str) -> bytes:
    if fmt == "json":
        return canonical_json(data)
    return render(spec.layout(data), fmt)


def pull(db, outbox, name: str, params: dict | None = None, fmt: str = "json",
         within: str | None = None) -> dict:
    spec, loaded = resolve(name, params, fmt)
    projections.check_not_replaying(db)
    key = _key(name, loaded, within)
    position, mark = watermark(db)
    stored = db.execute(
        select(report_file).where(report_file.c.report == name, report_file.c.format == fmt,
                                  report_file.c.watermark == mark, report_file.c.params == key)
        .order_by(report_file.c.created_at, report_file.c.id).limit(1)).mappings().first()
    if stored is not None:
        return answer(verified(stored), cached=True)
    data = spec.build(db, loaded, within)
    content = build_content(spec, data, fmt)
    scope, year = spec.file_parts(data)
    row = {"id": str(uuid.uuid4()), "report": name, "params": key, "format": fmt,
           "file_name": d.file_name(name, scope, year, fmt, loaded.get("section")),
           "content_type": d.CONTENT_TYPES[fmt], "sha256": hashlib.sha256(content).hexdigest(),
           "size": len(content), "content": content, "created_at": d.now(),
           "position": position, "watermark": mark}
    db.execute(report_file.insert().values(**row))
    if outbox is not None:
        outbox.add("report_generated", {
            "filing_id": None, "org_code": (data.get("scope") or {}).get("org_code"),
            "parent_code": None, "class_id": (data.get("class") or {}).get("class_id"),
            "kind": None, "version": None, "sha256": row["sha256"], "status": "generated",
            "reason": None, "report": name, "file_name": row["file_name"]})
    return answer(row, cached=False)


def verified(row) -> dict:
    content = bytes(row["content"])
    if hashlib.sha256(content).hexdigest() != row["sha256"]:
        raise Tampered(f"stored file {row['file_name']} does not match its sha256",
                       rule="integrity")
    return {**row, "content": content}


def answer(row, cached: bool) -> dict:
    """What crosses RPC: the file's record and its bytes, base64-encoded."""
    return {"report": row["report"], "format": row["format"], "file_name": row["file_name"],
            "content_type": row["content_type"], "sha256": row["sha256"], "size": row["size"],
            "position": row["position"], "created_at": d.local_iso(row["created_at"]),
            "cached": cached, "content_b64": base64.b64encode(row["content"]).decode()}
