"""个人培训档案: one person's classes, sessions and credited hours, by year (all years, or one).
Reporting knows people by member_no only: no names are kept or shown."""

from collections import defaultdict

from sqlalchemy import select

from services.contracts.document import Column, Document, Table
from services.kit.errors import Forbidden, NotFound

from .. import domain as d
from ..models import rp_attendance, rp_class, rp_completion, rp_enrollment, rp_person, rp_session
from . import common

NAME = "personal-archive"
TITLE = "个人培训档案"


class Params(common.ParamsSchema):
    member_no = common.code_field(required=True)
    year = common.year_field(load_default=None, allow_none=True)


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
    if person is None and not enrollments:
        raise NotFound(f"member {member_no} is not known to reporting",
                       errors={"member_no": ["no person_changed or enrolment event named it"]})
    org_code = person["org_code"] if person else enrollments[0]["org_code"]
    if within is not None and not tree.within(within, org_code) and not any(
            tree.within(within, e["org_code"]) for e in enrollments):
        raise Forbidden(f"member {member_no} is outside your organisation's subtree",
                        rule="scope")
    if year is not None:
        enrollments = [e for e in enrollments if e["year"] == year]

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
    for e in sorted(enrollments, key=lambda e: (e["start_date"], e["class_id"])):
        entry = years.setdefault(e["year"], {"year": e["year"], "classes": [], "sessions": [],
                                             "credited_ch": 0})
        credited = e["completion"] == "completed"
        entry["credited_ch"] += (e["attended_ch"] or 0) if credited else 0
        entry["classes"].append({
            "class_id": e["class_id"], "title": e["title"], "track": e["track"],
            "track_label": d.TRACKS[e["track"]], "start_date": e["start_date"].isoformat(),
            "end_date": e["end_date"].isoformat(), "status": e["status"],
            "status_label": d.label(d.ENROLLMENT_STATUSES, e["status"]),
            "completion": e["completion"],
            "completion_label": d.label(d.COMPLETION, e["completion"]),
            "attended_hours": d.hours(e["attended_ch"]) if e["completion"] else d.hours(sum(
                a["hours_ch"] for a in by_enrollment[e["enrollment_id"]]
                if a["status"] in ("present", "online"))),
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
    summary = []
    for y in sorted(years):
        entry = years[y]
        credited = entry.pop("credited_ch")
        entry.update({"credited_hours": d.hours(credited), "quota": quota,
                      "reached": d.reached_quota(credited, quota)})
        summary.append({"year": y, "credited_hours": entry["credited_hours"], "quota": quota,
                        "reached": entry["reached"]})
    committee = (person["committee_code"] if person else None) or tree.committee_of(org_code)
    return {
        "report": NAME, "title": TITLE, "year": year,
        "person": {"member_no": member_no, "org_code": org_code, "org_name": tree.name(org_code),
                   "committee_code": committee,
                   "committee_name": tree.name(committee) if committee else "—",
                   "role": role, "role_label": d.PERSON_ROLES[role]},
        "years": [years[y] for y in sorted(years)], "summary": summary,
    }


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return data["person"]["member_no"], data["year"]


def layout(data: dict) -> Document:
    person = data["person"]
    facts = [("党员编号", person["member_no"]),
             ("所在组织", f"{person['org_name']}（{person['org_code']}）"),
             ("所属党(工)委", person["committee_name"]), ("身份", person["role_label"]),
             ("年度", f"{data['year']}年" if data["year"] else "全部年度")]
    classes = [{**c, "year": y["year"]} for y in data["years"] for c in y["classes"]]
    sessions = [{**s, "year": y["year"]} for y in data["years"] for s in y["sessions"]]
    summary = [{**s, "reached_label": d.yes_no(s["reached"])} for s in data["summary"]]
    return Document(TITLE, f"党员编号 {person['member_no']}", facts, [
        Table("年度学时", [
            Column("year", "年度", "int"), Column("credited_hours", "获得学时", "hours"),
            Column("quota", "年度要求", "hours"), Column("reached_label", "是否达标"),
        ], summary, totals={"year": "合计", "credited_hours": round(
            sum(s["credited_hours"] for s in summary), 2)}, sheet="年度学时"),
        Table("参训班次", [
            Column("year", "年度", "int"), Column("title", "班次"),
            Column("track_label", "培训项目"), Column("start_date", "开始日期"),
            Column("end_date", "结束日期"), Column("status_label", "报名状态"),
            Column("completion_label", "结业情况"), Column("attended_hours", "出勤学时", "hours"),
            Column("class_hours", "班次学时", "hours"),
        ], classes, totals={"year": "合计", "title": f"{len(classes)} 个班次",
                            "attended_hours": round(sum(c["attended_hours"] for c in classes),
                                                    2)}, sheet="参训班次"),
        Table("课次考勤", [
            Column("date", "日期"), Column("time", "时间"), Column("class_title", "班次"),
            Column("course_title", "课程"), Column("status_label", "考勤"),
            Column("hours", "获得学时", "hours"),
        ], sessions, totals={"date": "合计", "course_title": f"{len(sessions)} 次课",
                             "hours": round(sum(s["hours"] for s in sessions), 2)},
            sheet="课次考勤"),
    ])
