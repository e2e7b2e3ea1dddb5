"""Coverage gaps, for follow-up per party committee: grassroots organisations whose current
secretary has not completed a secretaries-track class this year (and why), and members
nominated to a members-track class of the year that has completed who have no completion. Each
person is named (姓名 beside 党员编号)."""

from collections import Counter, defaultdict

from sqlalchemy import select

from services.contracts.document import Column, Document, Table

from .. import domain as d
from ..models import rp_class, rp_completion, rp_enrollment
from . import common

NAME = "coverage-gaps"
TITLE = "培训覆盖缺口"
NOMINATED = ("nominated", "confirmed", "waitlisted", "completed", "incomplete")

# Why a secretary is not covered, from the furthest they got this year.
SECRETARY_GAPS = {"no_secretary": "未配备书记", "not_enrolled": "未报名参训",
                  "nominated": "报名待审核", "waitlisted": "候补未参训", "enrolled": "已报名待培训",
                  "incomplete": "未达结业要求"}
MEMBER_GAPS = {"incomplete": "未达结业要求", "no_completion": "班次已结业无结业记录"}
SECTIONS = ("committees", "secretaries", "members")   # document.tables in order


class Params(common.ParamsSchema):
    year = common.year_field(load_default=None, allow_none=True)   # default: this year
    org_code = common.code_field(load_default=None, allow_none=True)
    section = common.section_field(SECTIONS)


def build(db, params: dict, within: str | None = None) -> dict:
    year = params["year"]
    tree = common.load_tree(db)
    scope = d.Scope(tree, params.get("org_code"), within)

    rows = db.execute(
        select(rp_enrollment.c.enrollment_id, rp_enrollment.c.member_no,
               rp_enrollment.c.org_code, rp_enrollment.c.committee_code,
               rp_enrollment.c.status, rp_class.c.class_id, rp_class.c.title,
               rp_class.c.track, rp_class.c.status.label("class_status"),
               rp_class.c.end_date, rp_completion.c.status.label("completion"))
        .select_from(rp_enrollment)
        .join(rp_class, rp_class.c.class_id == rp_enrollment.c.class_id)
        .outerjoin(rp_completion,
                   rp_completion.c.enrollment_id == rp_enrollment.c.enrollment_id)
        .where(rp_class.c.year == year, rp_class.c.status != "cancelled",
               rp_enrollment.c.status.in_(NOMINATED))).mappings().all()

    # The furthest each secretary got on the secretaries track (a completion covers them).
    progress = {"nominated": 0, "waitlisted": 1, "enrolled": 2, "incomplete": 3, "completed": 4}
    secretary_best: dict[str, str] = {}
    member_rows: dict[str, list] = defaultdict(list)
    completed_members: set[str] = set()
    for r in rows:
        if r["track"] == "secretaries":
            step = (r["completion"] or (r["status"] if r["status"] in ("nominated", "waitlisted")
                                        else "enrolled"))
            held = secretary_best.get(r["member_no"])
            if held is None or progress[step] > progress[held]:
                secretary_best[r["member_no"]] = step
        elif r["status"] != "nominated":   # a nomination still waiting is no enrolment yet
            if r["completion"] == "completed":
                completed_members.add(r["member_no"])
            member_rows[r["member_no"]].append(r)

    secretaries = []
    for org in tree.grassroots():
        if not scope.contains(org.org_code):
            continue
        secretary = org.secretary_member_no
        step = secretary_best.get(secretary) if secretary else None
        if step == "completed":
            continue
        gap = ("no_secretary" if not secretary else "not_enrolled" if step is None else step)
        committee = tree.committee_of(org.org_code)
        secretaries.append({
            "org_code": org.org_code, "org_name": org.name, "sector": org.sector,
            "sector_label": d.sector_label(org.sector),
            "committee_code": committee, "committee_name": tree.name(committee),
            "secretary_member_no": secretary, "gap": gap, "gap_label": SECRETARY_GAPS[gap],
        })

    members = []
    for member_no, nominated in member_rows.items():
        if member_no in completed_members:
            continue
        finished = [r for r in nominated if r["class_status"] == "completed"
                    and r["status"] != "waitlisted"]
        if not finished:
            continue   # their class has not completed yet: not a gap so far
        last = max(finished, key=lambda r: (r["end_date"], r["class_id"]))
        if not scope.contains(last["org_code"]):
            continue
        committee = last["committee_code"] or tree.committee_of(last["org_code"])
        gap = "incomplete" if last["completion"] == "incomplete" else "no_completion"
        members.append({
            "member_no": member_no, "org_code": last["org_code"],
            "org_name": tree.name(last["org_code"]), "committee_code": committee,
            "committee_name": tree.name(committee) if committee else "未归属党(工)委",
            "classes": len(nominated), "last_class_id": last["class_id"],
            "last_class_title": last["title"], "gap": gap, "gap_label": MEMBER_GAPS[gap],
        })
    names = common.names_of(db, [r["secretary_member_no"] for r in secretaries]
                            + [r["member_no"] for r in members])
    for r in secretaries:
        r["secretary_name"] = names.get(r["secretary_member_no"], "—")
    for r in members:
        r["name"] = names.get(r["member_no"], "—")
    secretaries.sort(key=lambda r: (r["committee_code"] or "", r["org_code"]))
    members.sort(key=lambda r: (r["committee_code"] or "", r["org_code"], r["member_no"]))

    per_committee: dict = defaultdict(Counter)
    for org in tree.grassroots():
        if scope.contains(org.org_code):
            per_committee[tree.committee_of(org.org_code)]["orgs"] += 1
    for r in secretaries:
        per_committee[r["committee_code"]]["secretary_gaps"] += 1
    for r in members:
        per_committee[r["committee_code"]]["member_gaps"] += 1
    committees = [{"committee_code": c, "name": tree.name(c) if c else "未归属党(工)委",
                   "orgs": n["orgs"], "secretary_gaps": n["secretary_gaps"],
                   "member_gaps": n["member_gaps"],
                   "coverage": d.rate(n["orgs"] - n["secretary_gaps"], n["orgs"])}
                  for c, n in sorted(per_committee.items(), key=lambda i: (i[0] is None,
                                                                           i[0] or ""))]
    return common.with_section({
        "report": NAME, "title": TITLE, "year": year, "scope": scope.describe(),
        "made_by": common.made_by(tree, scope.org_code),
        "by_committee": committees, "secretaries": secretaries, "members": members,
        "totals": {"orgs": sum(c["orgs"] for c in committees),
                   "secretary_gaps": len(secretaries), "member_gaps": len(members)}}, params)


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return (data["scope"] or {}).get("org_code"), data["year"]


def layout(data: dict) -> Document:
    scope = data["scope"]
    scope_text = f"{scope['name']}（{scope['org_code']}）" if scope else "全区"
    totals = data["totals"]
    facts = [("年度", f"{data['year']}年"), ("统计范围", scope_text),
             ("书记未参训的基层党组织", f"{totals['secretary_gaps']} 个（共 {totals['orgs']} 个）"),
             ("报名未结业党员", f"{totals['member_gaps']} 人")]
    committees = Table("按党(工)委汇总", [
        Column("name", "党(工)委"), Column("orgs", "基层党组织", "int"),
        Column("secretary_gaps", "书记未参训", "int"), Column("coverage", "书记覆盖率", "pct"),
        Column("member_gaps", "报名未结业党员", "int"),
    ], data["by_committee"], totals={
        "name": "合计", "orgs": totals["orgs"], "secretary_gaps": totals["secretary_gaps"],
        "member_gaps": totals["member_gaps"],
        "coverage": d.rate(totals["orgs"] - totals["secretary_gaps"], totals["orgs"])},
        sheet="按党委汇总")
    secretaries = Table("书记未参训的基层党组织", [
        Column("committee_name", "党(工)委"), Column("org_code", "组织编码"),
        Column("org_name", "组织名称"), Column("sector_label", "领域"),
        Column("secretary_member_no", "书记党员编号"), Column("secretary_name", "书记姓名"),
        Column("gap_label", "情况"),
    ], data["secretaries"], totals={"committee_name": "合计",
                                    "org_code": f"{totals['secretary_gaps']} 个"},
        sheet="书记未参训")
    members = Table("报名未结业党员", [
        Column("committee_name", "党(工)委"), Column("org_name", "所在组织"),
        Column("member_no", "党员编号"), Column("name", "姓名"),
        Column("classes", "报名班次", "int"),
        Column("last_class_title", "最近班次"), Column("gap_label", "情况"),
    ], data["members"], totals={"committee_name": "合计", "org_name": f"{totals['member_gaps']} 人",
                                "classes": sum(m["classes"] for m in data["members"])},
        sheet="报名未结业")
    return common.sectioned(Document(f"{data['year']}年度{TITLE}", scope_text, facts,
                                     [committees, secretaries, members]), data, SECTIONS,
                            data.get("made_by") or scope_text)
