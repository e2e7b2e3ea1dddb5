"""Filing (备案): the organiser files a class's plan or record with its parent organisation; the
parent acknowledges or returns it; a re-filing is a new version.

What is filed is the report as it stood (its canonical JSON), kept with its sha256, and the
attachments it was filed with (attachments.py). A filing row is never changed: its review is a
row of its own, the database refuses updates and deletes, and every read checks the bytes against
the sha256.

A training record also keeps the head of its class's attendance chain it summarised (as the
attendance_recorded events told it): when the class's head moves on, attendance changed after
the record was filed, and the filing says so.
"""

import base64
import hashlib
import json
import uuid

from sqlalchemy import and_, func, or_, select
from sqlalchemy import exc as sa_exc

from services.kit.errors import DomainError, Forbidden, InvalidInput, NotFound, Tampered
from services.kit.validation import MAX_PAGE

from . import attachments as attached
from . import domain as d
from . import projections
from .models import filing, filing_attachment, filing_review, rp_attendance, rp_class
from .render import canonical_json, render
from .reports import REPORTS, common

REPORT_OF = {"plan": "class-plan", "record": "class-record"}
EVENT_OF = {"acknowledged": "filing_acknowledged", "returned": "filing_returned"}
ATTENDANCE_CHANGED = "考勤记录在备案后有变动"


def _rows(db, *where):
    return db.execute(
        select(filing, filing_review.c.action, filing_review.c.reason,
               filing_review.c.reviewed_at, filing_review.c.reviewed_by)
        .outerjoin(filing_review, filing_review.c.filing_id == filing.c.filing_id)
        .where(*where).order_by(filing.c.class_id, filing.c.kind, filing.c.version)
    ).mappings().all()


def verified(row) -> dict:
    """The row, after checking its bytes still match the sha256 kept when it was filed."""
    content = bytes(row["content"])
    if hashlib.sha256(content).hexdigest() != row["sha256"]:
        raise Tampered(f"filing {row['filing_id']} (version {row['version']}) does not match "
                       "the sha256 it was filed with", rule="integrity")
    return {**row, "content": content}


def describe(row, class_sequence: int | None = None, attachments: list | None = None,
             attendance_head: tuple | None = None) -> dict:
    """A filing version as the API shows it; `class_sequence`: the class's now, to tell whether
    it changed after this version was filed; `attachments`: what it was filed with;
    `attendance_head`: the class's attendance chain head now, (sequence, sha256)."""
    status = row["action"] or "filed"
    attendance_changed = attendance_changed_since_filed(row, attendance_head)
    return {
        "filing_id": row["filing_id"], "class_id": row["class_id"], "kind": row["kind"],
        "kind_label": d.FILING_KINDS[row["kind"]], "version": row["version"],
        "year": row["year"], "org_code": row["org_code"], "parent_code": row["parent_code"],
        "report": row["report"], "file_name": row["file_name"], "sha256": row["sha256"],
        "size": len(row["content"]), "deadline": row["deadline"].isoformat(),
        "filed_at": d.local_iso(row["filed_at"]), "filed_by": row["filed_by"],
        "late": not d.in_time(row["filed_at"], row["deadline"]),
        "status": status, "status_label": d.FILING_STATES[status], "reason": row["reason"],
        "reviewed_at": d.local_iso(row["reviewed_at"]), "reviewed_by": row["reviewed_by"],
        "changed_since_filed": d.changed_since_filed(row.get("class_sequence"), class_sequence),
        "changed_label": (d.FILING_STATES["changed"] if d.changed_since_filed(
            row.get("class_sequence"), class_sequence) else None),
        "attachments": attachments or [],
        "attendance_chain": {"sequence": row.get("attendance_chain_sequence"),
                             "head": row.get("attendance_chain_head")},
        "attendance_changed_since_filed": attendance_changed,
        "attendance_changed_label": ATTENDANCE_CHANGED if attendance_changed else None,
    }


def attendance_changed_since_filed(row, attendance_head: tuple | None) -> bool:
    """A record filed with a chain head whose class's head is another now. A plan, or a
    record filed before heads were kept, tells nothing."""
    if row.get("attendance_chain_sequence") is None:
        return False
    filed = (row["attendance_chain_sequence"], row.get("attendance_chain_head"))
    return tuple(attendance_head or (0, None)) != filed


def attendance_heads(db, class_ids) -> dict[str, tuple[int, str]]:
    """Each class's attendance chain head as reporting has heard: (sequence, sha256) of the
    highest place its attendance events carried."""
    ids = sorted(set(class_ids))
    if not ids:
        return {}
    c = rp_attendance.c
    newest = (select(c.class_id, func.max(c.chain_sequence).label("sequence"))
              .where(c.class_id.in_(ids), c.chain_sequence.is_not(None))
              .group_by(c.class_id).subquery())
    return {class_id: (sequence, head) for class_id, sequence, head in db.execute(
        select(c.class_id, c.chain_sequence, c.chain_head).join(newest, and_(
            newest.c.class_id == c.class_id, newest.c.sequence == c.chain_sequence)))}


def class_sequences(db, class_ids) -> dict[str, int]:
    ids = sorted(set(class_ids))
    if not ids:
        return {}
    return dict(db.execute(select(rp_class.c.class_id, rp_class.c.sequence)
                           .where(rp_class.c.class_id.in_(ids))).all())


def _event(row: dict, status: str, reason: str | None = None) -> dict:
    return {"filing_id": row["filing_id"], "org_code": row["org_code"],
            "parent_code": row["parent_code"], "class_id": row["class_id"], "kind": row["kind"],
            "version": row["version"], "sha256": row["sha256"], "status": status,
            "reason": reason, "report": row["report"], "file_name": row["file_name"]}


def file(db, outbox, class_id: str, kind: str, acting_org: str | None, filed_by: str,
         now=None, attachments: list[dict] | None = None) -> dict:
    """File the class's plan or record as it stands now, as the next version, with its
    attachments ({file_name, content_b64}: PDF, JPEG or PNG)."""
    projections.check_not_replaying(db)
    if kind not in REPORT_OF:
        raise InvalidInput("unknown filing kind",
                           errors={"kind": [f"must be one of {', '.join(REPORT_OF)}"]})
    row = common.load_class(db, class_id)
    tree = common.load_tree(db)
    earlier = _rows(db, filing.c.class_id == class_id, filing.c.kind == kind)
    pending = next((r["version"] for r in earlier if r["action"] is None), None)
    d.check_may_file(kind, row["status"], row["organiser_org_code"], acting_org, pending)
    uploads = attached.checked(attachments)

    report = REPORT_OF[kind]
    content = canonical_json(REPORTS[report].build(db, {"class_id": class_id}, None))
    version = max((r["version"] for r in earlier), default=0) + 1
    filed = {
        "filing_id": str(uuid.uuid4()), "class_id": class_id, "kind": kind, "version": version,
        "year": row["year"], "org_code": row["organiser_org_code"],
        "parent_code": d.reviewer_of(tree, row["organiser_org_code"]), "report": report,
        "file_name": f"{report}-{class_id}-{row['year']}-v{version}.json",
        "sha256": hashlib.sha256(content).hexdigest(), "content": content,
        "deadline": d.deadline_for(kind, row["start_date"], row["completed_on"]),
        "filed_at": now or d.now(), "filed_by": filed_by, "class_sequence": row["sequence"],
        "attendance_chain_sequence": None, "attendance_chain_head": None,
    }
    head = attendance_heads(db, [class_id]).get(class_id, (0, None))
    if kind == "record":
        filed["attendance_chain_sequence"], filed["attendance_chain_head"] = head
    try:
        with db.begin_nested():
            db.execute(filing.insert().values(**filed))
            if uploads:
                db.execute(filing_attachment.insert(),
                           [{**u, "filing_id": filed["filing_id"]} for u in uploads])
    except sa_exc.IntegrityError:
        raise DomainError(f"version {version} of this {kind} was filed at the same moment; "
                          "look again before filing", rule="concurrent_filing") from None
    outbox.add("report_filed", _event(filed, "filed"))
    return describe({**filed, "action": None, "reason": None, "reviewed_at": None,
                     "reviewed_by": None}, row["sequence"],
                    attached.listed(db, [filed["filing_id"]])[filed["filing_id"]], head)


def get(db, filing_id: str, within: str | None = None) -> dict:
    rows = _rows(db, filing.c.filing_id == filing_id)
    if not rows:
        raise NotFound(f"filing {filing_id} is not known", errors={"filing_id": ["not known"]})
    row = verified(rows[0])
    if within is not None:
        tree = common.load_tree(db)
        if not (tree.within(within, row["org_code"]) or row["parent_code"] == within):
            raise Forbidden("this filing is outside your organisation's subtree", rule="scope")
    return row


def show(db, filing_id: str, within: str | None = None) -> dict:
    row = get(db, filing_id, within)
    return describe(row, class_sequences(db, [row["class_id"]]).get(row["class_id"]),
                    attached.listed(db, [filing_id])[filing_id],
                    attendance_heads(db, [row["class_id"]]).get(row["class_id"]))


def review(db, outbox, filing_id: str, action: str, reason: str | None,
           acting_org: str | None, reviewed_by: str, now=None) -> dict:
    """The parent organisation acknowledges (已备案) or returns (退回, with a reason)."""
    projections.check_not_replaying(db)
    row = get(db, filing_id)
    d.check_may_review(row["parent_code"], acting_org, row["action"], action, reason)
    reviewed = {"filing_id": filing_id, "action": action,
                "reason": reason.strip() if reason else None,
                "reviewed_at": now or d.now(), "reviewed_by": reviewed_by}
    try:
        with db.begin_nested():
            db.execute(filing_review.insert().values(**reviewed))
    except sa_exc.IntegrityError:
        raise DomainError("this version was reviewed at the same moment",
                          rule="reviewed_once") from None
    outbox.add(EVENT_OF[action], _event(row, action, reviewed["reason"]))
    return describe({**row, **reviewed}, class_sequences(db, [row["class_id"]]).get(
        row["class_id"]), attached.listed(db, [filing_id])[filing_id],
        attendance_heads(db, [row["class_id"]]).get(row["class_id"]))


def inbox(db, org_code: str | None, status: str | None = "filed", page: int = 1,
          per_page: int = 50) -> dict:
    """What a superior organisation has to review (status filed), or has reviewed.
    Without org_code: what is addressed to the district itself (a district_admin's)."""
    if status not in (None, "all", "filed", "acknowledged", "returned"):
        raise InvalidInput("unknown status", errors={
            "status": ["must be one of filed, acknowledged, returned, all"]})
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 500:
        raise InvalidInput("bad page", errors={
            "page": [f"1 ≤ page ≤ {MAX_PAGE}, 1 ≤ per_page ≤ 500"]})
    tree = common.load_tree(db)
    if org_code is None:
        roots = [code for code in tree.orgs if tree.is_root(code)]
        where = [or_(filing.c.parent_code.is_(None), filing.c.parent_code.in_(roots))]
    else:
        where = [filing.c.parent_code == org_code]
    if status == "filed":
        where.append(filing_review.c.action.is_(None))
    elif status in ("acknowledged", "returned"):
        where.append(filing_review.c.action == status)
    base = (select(filing.c.filing_id)
            .outerjoin(filing_review, filing_review.c.filing_id == filing.c.filing_id)
            .where(*where))
    total = db.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    ids = db.execute(base.order_by(filing.c.filed_at, filing.c.filing_id)
                     .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    rows = {r["filing_id"]: r for r in _rows(db, filing.c.filing_id.in_(ids))} if ids else {}
    sequences = class_sequences(db, [r["class_id"] for r in rows.values()])
    heads = attendance_heads(db, [r["class_id"] for r in rows.values()])
    listed = attached.listed(db, ids)
    return {"items": [describe(verified(rows[i]), sequences.get(rows[i]["class_id"]), listed[i],
                               heads.get(rows[i]["class_id"]))
                      for i in ids], "total": total, "page": page, "per_page": per_page}


def of_class(db, class_id: str, within: str | None = None) -> dict:
    rows = [verified(r) for r in _rows(db, filing.c.class_id == class_id)]
    if within is not None:
        tree = common.load_tree(db)
        row = common.load_class(db, class_id)
        organiser = row["organiser_org_code"]
        if not (tree.within(within, organiser) or d.reviewer_of(tree, organiser) == within):
            raise Forbidden("this class's filings are outside your organisation's subtree",
                            rule="scope")
    sequence = class_sequences(db, [class_id]).get(class_id)
    head = attendance_heads(db, [class_id]).get(class_id)
    listed = attached.listed(db, [r["filing_id"] for r in rows])
    items = [describe(r, sequence, listed[r["filing_id"]], head) for r in rows]
    return {"items": items, "total": len(items), "page": 1, "per_page": max(len(items), 1)}


def document(db, filing_id: str, fmt: str = "json", within: str | None = None) -> dict:
    """The filed version itself (JSON as filed), or drawn from it as CSV, XLSX or PDF."""
    if fmt not in ("json", "csv", "xlsx", "pdf"):
        raise InvalidInput("unknown format", errors={"format": ["json, csv, xlsx or pdf"]})
    row = get(db, filing_id, within)
    content = row["content"]
    if fmt != "json":
        content = render(REPORTS[row["report"]].layout(json.loads(content)), fmt)
    return {"report": row["report"], "format": fmt,
            "file_name": row["file_name"].rsplit(".", 1)[0] + f".{fmt}",
            "content_type": d.CONTENT_TYPES[fmt], "sha256": row["sha256"],
            "size": len(content), "position": None, "created_at": d.local_iso(row["filed_at"]),
            "cached": True, "content_b64": base64.b64encode(content).decode()}


def attachment(db, filing_id: str, attachment_id: str, within: str | None = None) -> dict:
    """One of the attachments a version was filed with, to whoever may read the filing."""
    row = get(db, filing_id, within)
    return attached.download(db, filing_id, attachment_id, row["filed_at"])
