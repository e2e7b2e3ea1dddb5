"""培训方案: a class's sessions, courses, instructors and venues, and its core-theory ratio.
Every role may read it: it is what people need to nominate."""

from services.contracts.document import Column, Document, Table

from .. import domain as d
from . import common

NAME = "class-plan"
TITLE = "培训方案"
SECTIONS = ("sessions",)   # document.tables in order, the main one first


class Params(common.ParamsSchema):
    class_id = common.class_id_field(required=True)
    section = common.section_field(SECTIONS)


def build(db, params: dict, within: str | None = None) -> dict:
    row = common.load_class(db, params["class_id"])
    tree = common.load_tree(db)
    sessions = [s for s in common.load_sessions(db, row["class_id"])
                if s["status"] != "cancelled"]
    hours_ch = sum(s["hours_ch"] for s in sessions)
    facts = common.class_facts(row, tree, hours_ch if sessions else None)
    return common.with_section({
        "report": NAME, "title": TITLE, "class": facts,
        "core_theory": common.core_theory(sessions, row["core_theory_ratio"]),
        "sessions": [common.session_facts(s) for s in sessions],
        "totals": {"sessions": len(sessions), "hours": d.hours(hours_ch),
                   "live_sessions": sum(1 for s in sessions if s["live"]),
                   "onsite_sessions": sum(1 for s in sessions if s["kind"] == "onsite")},
    }, params)


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return data["class"]["class_id"], data["class"]["year"]


def layout(data: dict) -> Document:
    facts, totals = data["class"], data["totals"]
    lines = common.class_fact_lines(facts, data["core_theory"])
    lines.append(("课次", f"{totals['sessions']} 次，共 {totals['hours']:g} 学时（现场教学 "
                        f"{totals['onsite_sessions']} 次，直播 {totals['live_sessions']} 次）"))
    rows = [{**s, "sequence": i, "core_label": d.yes_no(s["core_theory"]),
             "live_label": d.yes_no(s["live"]), "venue_name": s["venue_name"] or "—",
             "instructor_name": s["instructor_name"] or "—"}
            for i, s in enumerate(data["sessions"], 1)]
    table = Table("课程安排", [
        Column("sequence", "序号", "int"), Column("date", "日期"), Column("time", "时间"),
        Column("course_title", "课程"), Column("kind_label", "形式"),
        Column("core_label", "原原本本学"), Column("hours", "学时", "hours"),
        Column("venue_name", "地点"), Column("instructor_name", "授课人"),
        Column("live_label", "直播"),
    ], rows, totals={"sequence": "合计", "course_title": f"{totals['sessions']} 次课",
                     "core_label": f"{data['core_theory']['core_sessions']} 次",
                     "hours": totals["hours"], "live_label": f"{totals['live_sessions']} 次"},
        sheet="课程安排")
    return common.sectioned(Document(TITLE, facts["title"], lines, [table]), data, SECTIONS,
                            facts["organiser_name"])
