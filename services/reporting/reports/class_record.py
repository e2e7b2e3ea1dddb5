"""班次培训情况: a class's facts, each session's attendance, completions, the participants (姓名
beside 党员编号, and whether they were nominated or came by the open live broadcast). A nomination
waiting for review, or rejected, is no participant.

Seen from outside the organiser's subtree (a committee looking at a district class), the counts
and the list are limited to the participants whose enrolment organisation is in that subtree."""

from collections import Counter, defaultdict

from sqlalchemy import select

from services.contracts.document import Column, Document, Table

from .. import domain as d
from ..models import rp_attendance, rp_completion, rp_enrollment
from . import common

NAME = "class-record"
TITLE = "班次培训情况"
PARTICIPATING = ("confirmed", "completed", "incomplete")
ATTENDED = ("present", "online")
SECTIONS = ("participants", "sessions")   # document.tables in order, the main one first


class Params(common.ParamsSchema):
    class_id = common.class_id_field(required=True)
    section = common.section_field(SECTIONS)


def build(db, params: dict, within: str | None = None) -> dict:
    row = common.load_class(db, params["class_id"])
    tree = common.load_tree(db)
    limited = within is not None and not tree.within(within, row["organiser_org_code"])
    scope = d.Scope(tree, within if limited else None, within if limited else None)
    class_id = row["class_id"]

    enrollments = {e["enrollment_id"]: e for e in db.execute(
        select(rp_enrollment).where(rp_enrollment.c.class_id == class_id)).mappings()
        if scope.contains(e["org_code"])}
    attendance = [a for a in db.execute(
        select(rp_attendance.c.enrollment_id, rp_attendance.c.session_id,
               rp_attendance.c.member_no, rp_attendance.c.status, rp_attendance.c.hours_ch)
        .where(rp_attendance.c.class_id == class_id)).mappings()
        if not limited or a["enrollment_id"] in enrollments]
    completions = {c["enrollment_id"]: c for c in db.execute(
        select(rp_completion).where(rp_completion.c.class_id == class_id)).mappings()
        if not limited or c["enrollment_id"] in enrollments}
    sessions = common.load_sessions(db, class_id)

    per_session: dict[str, Counter] = defaultdict(Counter)
    attended_ch: Counter = Counter()
    attendance_members = {}
    for a in attendance:
        per_session[a["session_id"]][a["status"]] += 1
        if a["status"] in ATTENDED:
            attended_ch[a["enrollment_id"]] += a["hours_ch"]
        attendance_members[a["enrollment_id"]] = a["member_no"]

    session_rows = []
    for s in sessions:
        counts = per_session.get(s["session_id"], Counter())
        recorded = sum(counts[k] for k in d.ATTENDANCE_STATUSES)
        session_rows.append({**common.session_facts(s),
                             **{k: counts[k] for k in d.ATTENDANCE_STATUSES}, "recorded": recorded,
                             "attendance_rate": d.rate(counts["present"] + counts["online"],
                                                       recorded)})

    live_hours = sum(s["hours_ch"] for s in sessions if s["status"] != "cancelled")
    facts = common.class_facts(row, tree, live_hours if sessions else None)
    core = common.core_theory(sessions, row["core_theory_ratio"])

    seated = {i: e for i, e in enrollments.items() if e["status"] in PARTICIPATING}
    # Attendance whose enrolment event has not arrived yet still names a participant.
    unseen = {} if limited else {i: m for i, m in attendance_members.items()
                                 if i not in enrollments}
    names = common.names_of(db, [e["member_no"] for e in seated.values()] + list(unseen.values()))
    participants = [_participant(i, e["member_no"], e, tree, completions.get(i), attended_ch,
                                 names) for i, e in seated.items()]
    participants += [_participant(i, member_no, None, tree, completions.get(i), attended_ch,
                                  names) for i, member_no in unseen.items()]
    participants.sort(key=lambda p: (p["committee_code"] or "", p["org_code"] or "",
                                     p["member_no"], p["enrollment_id"]))

    totals = {k: sum(r[k] for r in session_rows if r["status"] != "cancelled")
              for k in (*d.ATTENDANCE_STATUSES, "recorded")}
    statuses = Counter(e["status"] for e in enrollments.values())
    completed = sum(1 for c in completions.values() if c["status"] == "completed")
    incomplete = sum(1 for c in completions.values() if c["status"] == "incomplete")
    summary = {
        "enrolled": len(participants), "waitlisted": statuses["waitlisted"],
        "nominated": statuses["nominated"], "rejected": statuses["rejected"],
        "live": sum(1 for e in seated.values() if e["origin"] == "live"),
        "withdrawn": statuses["withdrawn"] + statuses["released"],
        "sessions": core["sessions"],
        "sessions_completed": sum(1 for s in sessions if s["status"] == "completed"),
        **totals,
        "attendance_rate": d.rate(totals["present"] + totals["online"], totals["recorded"]),
        "completed": completed, "incomplete": incomplete,
        "completion_rate": d.rate(completed, completed + incomplete),
        "attended_hours": d.hours(sum(attended_ch.values())),
    }
    return common.with_section({
        "report": NAME, "title": TITLE, "class": facts, "core_theory": core,
        "scope": scope.describe(), "summary": summary, "sessions": session_rows,
        "participants": participants}, params)


def _participant(enrollment_id, member_no, e, tree, completion, attended_ch, names) -> dict:
    org_code = e["org_code"] if e else None
    committee = (e["committee_code"] if e else None) or tree.committee_of(org_code)
    hours_ch = completion["attended_ch"] if completion else attended_ch.get(enrollment_id, 0)
    status = completion["status"] if completion else None
    return {
        "enrollment_id": enrollment_id, "member_no": member_no,
        "name": names.get(member_no, "—"), "org_code": org_code,
        "org_name": tree.name(org_code) if org_code else "—",
        "committee_code": committee, "committee_name": tree.name(committee) if committee else "—",
        "mode": e["mode"] if e else None,
        "mode_label": d.label(d.ENROLLMENT_MODES, e["mode"]) if e else "—",
        "origin": e["origin"] if e else None,
        "origin_label": d.label(d.ENROLLMENT_ORIGINS, e["origin"]) if e else "—",
        "status": e["status"] if e else None,
        "status_label": d.label(d.ENROLLMENT_STATUSES, e["status"]) if e else "—",
        "attended_hours": d.hours(hours_ch),
        "completion": status, "completion_label": d.label(d.COMPLETION, status),
    }


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return data["class"]["class_id"], data["class"]["year"]


def layout(data: dict) -> Document:
    facts, summary = data["class"], data["summary"]
    lines = common.class_fact_lines(facts, data["core_theory"])
    if data["scope"]:
        scope = data["scope"]
        lines.append(("统计范围", f"{scope['name']}（{scope['org_code']}）所属人员"))
    lines += [
        # .get: a record filed before these counts existed is drawn from what it holds.
        ("参训人数", f"{summary['enrolled']}（其中{d.ENROLLMENT_ORIGINS['live']} "
                 f"{summary.get('live', 0)}；候补 {summary['waitlisted']}，待审核 "
                 f"{summary.get('nominated', 0)}，未通过 {summary.get('rejected', 0)}，退出 "
                 f"{summary['withdrawn']}）"),
        ("已完成课次", f"{summary['sessions_completed']}/{summary['sessions']}"),
        ("出勤率", _pct(summary["attendance_rate"])),
        ("结业情况", f"结业 {summary['completed']} 人，未达结业要求 {summary['incomplete']} 人，"
                 f"结业率 {_pct(summary['completion_rate'])}"),
    ]
    sessions = Table("课次出勤", [
        Column("sequence", "序号", "int"), Column("date", "日期"), Column("time", "时间"),
        Column("course_title", "课程"), Column("kind_label", "形式"),
        Column("hours", "学时", "hours"), Column("status_label", "状态"),
        Column("present", "出席", "int"), Column("online", "线上", "int"),
        Column("leave", "请假", "int"), Column("absent", "缺勤", "int"),
        Column("attendance_rate", "出勤率", "pct"),
    ], [{**s, "sequence": i} for i, s in enumerate(data["sessions"], 1)],
        totals={"sequence": "合计", "hours": sum(s["hours"] for s in data["sessions"]
                                                 if s["status"] != "cancelled"),
                **{k: summary[k] for k in d.ATTENDANCE_STATUSES},
                "attendance_rate": summary["attendance_rate"]}, sheet="课次出勤")
    people = Table("参训人员", [
        Column("member_no", "党员编号"), Column("name", "姓名"), Column("org_name", "所在组织"),
        Column("committee_name", "所属党(工)委"), Column("origin_label", "参训来源"),
        Column("mode_label", "参训方式"),
        Column("status_label", "报名状态"), Column("attended_hours", "出勤学时", "hours"),
        Column("completion_label", "结业情况"),
    ], data["participants"],
        totals={"member_no": "合计", "org_name": f"{len(data['participants'])} 人",
                "attended_hours": summary["attended_hours"],
                "completion_label": f"结业 {summary['completed']} 人"}, sheet="参训人员")
    return common.sectioned(Document(TITLE, facts["title"], lines, [people, sessions]), data,
                            SECTIONS, facts["organiser_name"])


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
