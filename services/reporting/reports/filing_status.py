"""Filing status: for every class of the year organised in scope, its plan and its record —
due, filed, acknowledged, returned, overdue, or changed since filed (the class changed after the
latest version was built: it waits to be filed again) — and the counts per organisation.

Overdue depends on the day: it is computed as of `as_of` (default today, Asia/Shanghai), which
the report carries, so the same day and the same events give the same bytes."""

from collections import Counter, defaultdict

from marshmallow import fields
from sqlalchemy import select

from services.contracts.document import Column, Document, Table

from .. import domain as d
from ..models import filing, filing_review, rp_class
from . import common

NAME = "filing-status"
TITLE = "备案情况"
SECTIONS = ("organisations", "items", "overdue")   # document.tables in order


class Params(common.ParamsSchema):
    year = common.year_field(load_default=None, allow_none=True)   # default: this year
    org_code = common.code_field(load_default=None, allow_none=True)
    as_of = fields.Date(load_default=None, allow_none=True)
    section = common.section_field(SECTIONS)


def load_versions(db, class_ids=None, year=None) -> dict:
    """(class_id, kind) -> [(filing row, review row or None)] in version order."""
    query = (select(filing.c.filing_id, filing.c.class_id, filing.c.kind, filing.c.version,
                    filing.c.filed_at, filing.c.sha256, filing.c.class_sequence,
                    filing_review.c.action,
                    filing_review.c.reason, filing_review.c.reviewed_at)
             .outerjoin(filing_review, filing_review.c.filing_id == filing.c.filing_id))
    if year is not None:
        query = query.where(filing.c.year == year)
    if class_ids is not None:
        query = query.where(filing.c.class_id.in_(list(class_ids)))
    versions = defaultdict(list)
    for row in db.execute(query.order_by(filing.c.class_id, filing.c.kind, filing.c.version)
                          ).mappings():
        versions[(row["class_id"], row["kind"])].append(row)
    return versions


def build(db, params: dict, within: str | None = None) -> dict:
    year = params["year"]
    as_of = params.get("as_of") or d.today()
    tree = common.load_tree(db)
    scope = d.Scope(tree, params.get("org_code"), within)
    classes = [c for c in db.execute(
        select(rp_class).where(rp_class.c.year == year, rp_class.c.status != "cancelled")
        .order_by(rp_class.c.start_date, rp_class.c.class_id)).mappings()
        if scope.contains(c["organiser_org_code"])]
    versions = load_versions(db, year=year)

    items, per_org = [], defaultdict(Counter)
    for c in classes:
        for kind in d.FILING_KINDS:
            deadline = d.deadline_for(kind, c["start_date"], c["completed_on"])
            filed = versions.get((c["class_id"], kind), [])
            latest = filed[-1] if filed else None
            changed = latest is not None and d.changed_since_filed(latest["class_sequence"],
                                                                   c["sequence"])
            state = d.filing_state(deadline, [(v["filed_at"], v["action"]) for v in filed],
                                   as_of, changed)
            organiser = c["organiser_org_code"]
            items.append({
                "class_id": c["class_id"], "title": c["title"], "org_code": organiser,
                "org_name": tree.name(organiser), "parent_code": d.reviewer_of(tree, organiser),
                "kind": kind, "kind_label": d.FILING_KINDS[kind],
                "deadline": deadline.isoformat() if deadline else None,
                "state": state.state, "state_label": d.FILING_STATES[state.state],
                "late": state.late, "overdue": state.overdue, "overdue_reason": state.reason,
                "versions": len(filed), "filing_id": latest["filing_id"] if latest else None,
                "changed_since_filed": changed,
                "filed_on": d.today(d.as_utc(filed[0]["filed_at"])).isoformat() if filed else None,
                "return_reason": latest["reason"] if latest and latest["action"] == "returned"
                else None,
            })
            counts = per_org[organiser]
            counts["items_due"] += state.state != "not_due"
            counts["not_filed"] += state.state in ("due", "overdue")
            counts["changed_items"] += state.state == "changed"
            counts[state.state] += 1
            counts["overdue_items"] += state.overdue
    organisations = [{
        "org_code": code, "name": tree.name(code), "parent_code": d.reviewer_of(tree, code),
        "due": n["items_due"], "acknowledged": n["acknowledged"], "filed": n["filed"],
        "returned": n["returned"], "not_filed": n["not_filed"], "changed": n["changed_items"],
        "overdue": n["overdue_items"],
    } for code, n in sorted(per_org.items())]
    keys = ("due", "acknowledged", "filed", "returned", "not_filed", "changed", "overdue")
    return common.with_section({
        "report": NAME, "title": TITLE, "year": year, "as_of": as_of.isoformat(),
        "scope": scope.describe(), "made_by": common.made_by(tree, scope.org_code),
        "organisations": organisations, "items": items,
        "overdue": [i for i in items if i["overdue"]],
        "totals": {k: sum(o[k] for o in organisations) for k in keys},
    }, params)


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return (data["scope"] or {}).get("org_code"), data["year"]


def layout(data: dict) -> Document:
    scope = data["scope"]
    scope_text = f"{scope['name']}（{scope['org_code']}）" if scope else "全区"
    totals = data["totals"]
    facts = [("年度", f"{data['year']}年"), ("统计范围", scope_text), ("截至", data["as_of"]),
             ("应备案", f"{totals['due']} 项：已备案 {totals['acknowledged']}，待审核 "
                     f"{totals['filed']}，已退回 {totals['returned']}，未报送 "
                     f"{totals['not_filed']}，{d.FILING_STATES['changed']} {totals['changed']}"),
             ("逾期", f"{totals['overdue']} 项")]
    organisations = Table("按组织统计", [
        Column("org_code", "组织编码"), Column("name", "组织名称"),
        Column("due", "应备案", "int"), Column("acknowledged", "已备案", "int"),
        Column("filed", "待审核", "int"), Column("returned", "已退回", "int"),
        Column("not_filed", "未报送", "int"),
        Column("changed", d.FILING_STATES["changed"], "int"), Column("overdue", "逾期", "int"),
    ], data["organisations"], totals={"org_code": "合计", **totals}, sheet="按组织")
    rows = [{**i, "deadline": i["deadline"] or "结业后7日内", "filed_on": i["filed_on"] or "—",
             "overdue_label": i["overdue_reason"] or ""} for i in data["items"]]
    items = Table("备案明细", [
        Column("org_name", "主办单位"), Column("title", "班次"), Column("kind_label", "类别"),
        Column("deadline", "截止日期"), Column("state_label", "状态"),
        Column("versions", "版本数", "int"), Column("filed_on", "首次报送"),
        Column("overdue_label", "逾期情况"),
    ], rows, totals={"org_name": "合计", "title": f"{len(rows)} 项"}, sheet="备案明细")
    overdue = Table("逾期清单", [
        Column("org_name", "主办单位"), Column("title", "班次"), Column("kind_label", "类别"),
        Column("deadline", "截止日期"), Column("overdue_label", "情况"),
        Column("return_reason", "退回原因"),
    ], [r for r in rows if r["overdue"]],
        totals={"org_name": "合计", "title": f"{len(data['overdue'])} 项"}, sheet="逾期清单")
    return common.sectioned(Document(f"{data['year']}年度{TITLE}", scope_text, facts,
                                     [organisations, items, overdue]), data, SECTIONS,
                            data.get("made_by") or scope_text)
