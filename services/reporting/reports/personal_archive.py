"""个人培训档案: one person's classes, sessions and study hours, by year (all years, or one), named
(姓名 beside 党员编号) as person_changed told reporting.

A class's hours count towards the year once the person completed it: each class shows the hours
attended (出勤学时) and those counted (计入学时), and why (结业后计入 while the class runs). The
year's figure is 集中培训学时 (completed classes), 其他学时 (recorded from elsewhere, withdrawn
entries left out) and 合计学时 against the quota."""

from collections import defaultdict

from sqlalchemy import select

from services.contracts.document import Column, Document, Table
from services.kit.errors import Forbidden, NotFound

from .. import domain as d
from ..models import (
    rp_attendance,
    rp_class,
    rp_completion,
    rp_enrollment,
    rp_person,
    rp_session,
    rp_study_hours,
)
from . import common

NAME = "personal-archive"
TITLE = "个人培训档案"
# Why a class's hours count towards the year, or not yet, or not at all.
COUNTED = {"completed": "已结业，计入", "incomplete": "未达结业要求，不计入",
           None: "结业后计入"}
# Enrolments that are on a person's record: a nomination waiting or rejected is not.
ON_RECORD = ("confirmed", "waitlisted", "withdrawn", "released", "completed", "incomplete")


SECTIONS = ("years", "classes", "sessions", "other")   # document.tables in order


class Params(common.ParamsSchema):
    member_no = common.code_field(required=True)
    year = common.year_field(load_default=None, allow_none=True)
    section = common.section_field(SECTIONS)


def build(db, params: dict, within: str | None = None) -> dict:
    member_no, year = params["member_no"], params.get("year")
    tree = common.load_tree(db)
    person = db.execute(select(rp_person).where(rp_person.c.member_no == member_no)
                        ).mappings().first()
    enrollments = db.execute(
        select(rp_enrollment, rp_class.c.title, rp_class.c.year, rp_class.c.track,
               rp_class.c.start_date, rp_class.c.end_date,
               rp_class.c.status.label("class_status"),
               rp_completion.c.status.label("completion"), rp_completion.c.attended_ch,
               rp_completion.c.class_ch)
        .select_from(rp_enrollment)
        .join(rp_class, rp_class.c.class_id == rp_enrollment.c.class_id)
        .outerjoin(rp_completion,
                   rp_completion.c.enrollment_id == rp_enrollment.c.enrollment_id)
        .where(rp_enrollment.c.member_no == member_no)).mappings().all()
    enrollments = [e for e in enrollments if e["status"] in ON_RECORD]
    elsewhere = db.execute(
        select(rp_study_hours).where(rp_study_hours.c.member_no == member_no,
                                     rp_study_hours.c.withdrawn.is_(False))
        .order_by(rp_study_hours.c.on_date, rp_study_hours.c.entry_id)).mappings().all()
    if person is None and not enrollments and not elsewhere:
        raise NotFound(f"member {member_no} is not known to reporting",
                       errors={"member_no": ["no person_changed or enrolment event named it"]})
    org_code = (person["org_code"] if person
                else enrollments[0]["org_code"] if enrollments else None)
    if within is not None and not tree.within(within, org_code) and not any(
            tree.within(within, e["org_code"]) for e in enrollments):
        raise Forbidden(f"member {member_no} is outside your organisation's subtree",
                        rule="scope")
    if year is not None:
        enrollments = [e for e in enrollments if e["year"] == year]
        elsewhere = [h for h in elsewhere if h["year"] == year]

    attendance = db.execute(
        select(rp_attendance.c.enrollment_id, rp_attendance.c.status,
               rp_attendance.c.hours_ch, rp_session.c.course_title, rp_session.c.starts_at,
               rp_session.c.ends_at, rp_session.c.hours_ch.label("session_ch"))
        .join(rp_session, rp_session.c.session_id == rp_attendance.c.session_id)
        .where(rp_attendance.c.member_no == member_no)).mappings().all()
    by_enrollment = defaultdict(list)
    for a in attendance:
        by_enrollment[a["enrollment_id"]].append(a)

    secretary = bool(person and person["secretary_of"]) or member_no in tree.secretaries()
    role = "secretary" if secretary else "member"
    quota = d.quotas().for_role(role)
    years: dict[int, dict] = {}

    def year_entry(y):
        return years.setdefault(y, {"year": y, "classes": [], "sessions": [], "other": [],
                                    "class_ch": 0, "other_ch": 0})

    for e in sorted(enrollments, key=lambda e: (e["start_date"], e["class_id"])):
        entry = year_entry(e["year"])
        credited = e["completion"] == "completed"
        attended_ch = e["attended_ch"] if e["completion"] else sum(
            a["hours_ch"] for a in by_enrollment[e["enrollment_id"]]
            if a["status"] in ("present", "online"))
        counted_ch = (e["attended_ch"] or 0) if credited else 0
        entry["class_ch"] += counted_ch
        entry["classes"].append({
            "class_id": e["class_id"], "title": e["title"], "track": e["track"],
            "track_label": d.TRACKS[e["track"]], "start_date": e["start_date"].isoformat(),
            "end_date": e["end_date"].isoformat(), "status": e["status"],
            "status_label": d.label(d.ENROLLMENT_STATUSES, e["status"]),
            "completion": e["completion"],
            "completion_label": d.label(d.COMPLETION, e["completion"]),
            "origin": e["origin"], "origin_label": d.label(d.ENROLLMENT_ORIGINS, e["origin"]),
            "attended_hours": d.hours(attended_ch), "counted_hours": d.hours(counted_ch),
            "counted_label": COUNTED.get(e["completion"], COUNTED[None]),
            "class_hours": d.hours(e["class_ch"]) if e["class_ch"] is not None else None,
        })
        for a in sorted(by_enrollment[e["enrollment_id"]],
                        key=lambda a: (d.as_utc(a["starts_at"]), a["course_title"])):
            starts = d.local(a["starts_at"])
            entry["sessions"].append({
                "date": starts.date().isoformat(), "time": d.time_span(a["starts_at"],
                                                                       a["ends_at"]),
                "class_title": e["title"], "course_title": a["course_title"],
                "status": a["status"], "status_label": d.label(d.ATTENDANCE_STATUSES, a["status"]),
                "hours": d.hours(a["hours_ch"])})
    for h in elsewhere:
        entry = year_entry(h["year"])
        entry["other_ch"] += h["hours_ch"]
        entry["other"].append({
            "entry_id": h["entry_id"], "date": h["on_date"].isoformat(),
            "source": h["source"], "source_label": d.label(d.STUDY_HOUR_SOURCES, h["source"]),
            "title": h["title"], "hours": d.hours(h["hours_ch"])})
    summary = []
    for y in sorted(years):
        entry = years[y]
        class_ch, other_ch = entry.pop("class_ch"), entry.pop("other_ch")
        figures = {"class_hours": d.hours(class_ch), "other_hours": d.hours(other_ch),
                   "total_hours": d.hours(class_ch + other_ch), "quota": quota,
                   "reached": d.reached_quota(class_ch + other_ch, quota)}
        entry.update(figures)
        summary.append({"year": y, **figures})
    committee = (person["committee_code"] if person else None) or tree.committee_of(org_code)
    return common.with_section({
        "report": NAME, "title": TITLE, "year": year, "made_by": common.made_by(tree, within),
        "person": {"member_no": member_no, "name": (person["name"] if person else None) or "—",
                   "org_code": org_code, "org_name": tree.name(org_code),
                   "committee_code": committee,
                   "committee_name": tree.name(committee) if committee else "—",
                   "role": role, "role_label": d.PERSON_ROLES[role]},
        "years": [years[y] for y in sorted(years)], "summary": summary,
    }, params)


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return data["person"]["member_no"], data["year"]


def layout(data: dict) -> Document:
    person = data["person"]
    facts = [("党员编号", person["member_no"]), ("姓名", person["name"]),
             ("所在组织", f"{person['org_name']}（{person['org_code']}）"),
             ("所属党(工)委", person["committee_name"]), ("身份", person["role_label"]),
             ("年度", f"{data['year']}年" if data["year"] else "全部年度"),
             ("学时计算", "班次结业后计入集中培训学时；其他学时为在其他途径取得并登记的学时")]
    classes = [{**c, "year": y["year"]} for y in data["years"] for c in y["classes"]]
    sessions = [{**s, "year": y["year"]} for y in data["years"] for s in y["sessions"]]
    other = [{**h, "year": y["year"]} for y in data["years"] for h in y["other"]]
    summary = [{**s, "reached_label": d.yes_no(s["reached"])} for s in data["summary"]]
    parts = d.STUDY_HOUR_PARTS
    subtitle = f"{person['name']}（党员编号 {person['member_no']}）"
    return common.sectioned(Document(TITLE, subtitle, facts, [
        Table("年度学时", [
            Column("year", "年度", "int"),
            *[Column(f"{part}_hours", label, "hours") for part, label in parts.items()],
            Column("quota", "年度要求", "hours"), Column("reached_label", "是否达标"),
        ], summary, totals={"year": "合计", **{f"{part}_hours": round(
            sum(s[f"{part}_hours"] for s in summary), 2) for part in parts}},
            sheet="年度学时"),
        Table("参训班次", [
            Column("year", "年度", "int"), Column("title", "班次"),
            Column("track_label", "培训项目"), Column("origin_label", "参训来源"),
            Column("start_date", "开始日期"), Column("end_date", "结束日期"),
            Column("status_label", "报名状态"), Column("completion_label", "结业情况"),
            Column("attended_hours", "出勤学时", "hours"),
            Column("counted_hours", "计入学时", "hours"), Column("counted_label", "计入说明"),
            Column("class_hours", "班次学时", "hours"),
        ], classes, totals={"year": "合计", "title": f"{len(classes)} 个班次",
                            "attended_hours": round(sum(c["attended_hours"] for c in classes),
                                                    2),
                            "counted_hours": round(sum(c["counted_hours"] for c in classes), 2)},
            sheet="参训班次"),
        Table("课次考勤", [
            Column("date", "日期"), Column("time", "时间"), Column("class_title", "班次"),
            Column("course_title", "课程"), Column("status_label", "考勤"),
            Column("hours", "出勤学时", "hours"),
        ], sessions, totals={"date": "合计", "course_title": f"{len(sessions)} 次课",
                             "hours": round(sum(s["hours"] for s in sessions), 2)},
            sheet="课次考勤"),
        Table(parts["other"], [
            Column("year", "年度", "int"), Column("date", "日期"),
            Column("source_label", "来源"), Column("title", "名称"),
            Column("hours", "学时", "hours"),
        ], other, totals={"year": "合计", "title": f"{len(other)} 项",
                          "hours": round(sum(h["hours"] for h in other), 2)}, sheet="其他学时"),
    ]), data, SECTIONS, data.get("made_by") or person["org_name"])
