"""A small district told as the events reporting consumes, whose figures are computed by hand,
and the ways tests feed it to reporting's read models (in-process on SQLite, or over the broker).

The district (2026 unless said otherwise):

    FX 奉贤区委 (root)
    ├── C1 南桥镇党委: G11 村 (secretary S11), G12 居民区 (secretary S12)
    └── C2 区教育工作党委: G21 机关事业单位 (secretary S21), G22 两新 (no secretary)
    members M1 (G11), M2 (G12), M3 (G21), M4 (G22)

    programs: secretaries target 4, members target 5 (FX); 2025 secretaries target 10
    K1 secretaries class by FX, 2026-04-01..02, sessions A core 3h, B core 3h, C 2h
       S11 present ×3 → 8h completed; S12 present A, absent→corrected leave B, present C → 5h
       incomplete; S21 online A, present B, C → 8h completed
    K2 members class by C1, 2026-05-10, sessions D core 4h, E core 4h
       M1 present ×2 completed; M2 online D, present E completed; M3 absent ×2 incomplete;
       M4 waitlisted then withdrawn
    K3 members class by C2, cancelled (M4 enrolled in it: counts nowhere)
    K4 secretaries class by FX, 2026-11-01, S12 enrolled, not held yet
    K0 secretaries class of 2025: S12 completed 6h (counts in 2025 only)

Everyone is named (NAMES). `unit_district()` adds issue 13's flows on top: unit programs,
reviewed nominations, a live viewer, a class that changes, study hours from elsewhere.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.contracts import new_event
from services.reporting import models, projections
from tests.support.databases import sqlite_engine

BASE = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
NAMES = {"S11": "张建国", "S12": "李秀英", "S21": "王志强", "M1": "赵丽", "M2": "陈明",
         "M3": "刘洋", "M4": "周婷"}


def uid(name: str) -> str:
    """Stable UUIDs, so that reports of two builds compare byte for byte."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"peixun-test/{name}"))


class District:
    """Events as their publishers would send them, a minute apart unless told `at`."""

    def __init__(self):
        self.events = []
        self._tick = 0

    def add(self, source, event_type, data, at=None):
        self._tick += 1
        occurred = at or BASE + timedelta(minutes=self._tick)
        event = new_event(source, event_type, data, occurred_at=occurred)
        self.events.append(event.payload)
        return event

    # -- vocabulary --------------------------------------------------------------------

    def org(self, code, name, parent, kind, sector=None, secretary=None):
        return self.add("enrollment", "organisation_changed", {
            "org_code": code, "name": name, "parent_code": parent, "kind": kind,
            "sector": sector, "secretary_member_no": secretary})

    def person(self, member_no, org, committee, joined="2000-07-01", employment="institution",
               secretary_of=None, name=None):
        return self.add("enrollment", "person_changed", {
            "member_no": member_no, "org_code": org, "committee_code": committee,
            "joined_on": datetime.fromisoformat(joined).date(), "employment": employment,
            "secretary_of": secretary_of, **({"name": name} if name else {})})

    def program(self, name, year, track, target, organiser="FX"):
        return self.add("scheduling", "program_changed", {
            "program_id": uid(name), "year": year, "track": track,
            "organiser_org_code": organiser, "target_person_times": target, "name": name})

    def klass(self, event_type, name, program, year, track, organiser, start, end,
              audience=None, ratio=1.0, at=None, **extra):
        return self.add("scheduling", event_type, {
            "class_id": uid(name), "program_id": uid(program), "year": year, "track": track,
            "organiser_org_code": organiser, "title": f"{name}班", "audience": audience or {},
            "offline_capacity": 60, "delivery": "hybrid",
            "start_date": datetime.fromisoformat(start).date(),
            "end_date": datetime.fromisoformat(end).date(), "core_theory_ratio": ratio,
            **extra}, at=at)

    def session(self, event_type, name, klass, course, core, starts, hours, sequence=0):
        starts_at = datetime.fromisoformat(starts)
        return self.add("scheduling", event_type, {
            "session_id": uid(name), "class_id": uid(klass), "course_title": course,
            "core_theory": core, "kind": "lecture", "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=hours), "hours": hours,
            "venue_name": "区委党校", "instructor_name": "市委党校教授", "live": True,
            "sequence": sequence})

    def enrol(self, event_type, enrollment, klass, member_no, org, committee, sector,
              category=None, status="confirmed", origin=None, mode="offline"):
        return self.add("enrollment", event_type, {
            "enrollment_id": uid(enrollment), "class_id": uid(klass), "member_no": member_no,
            "org_code": org, "committee_code": committee, "sector": sector,
            "category": category, "mode": mode, "status": status,
            **({"origin": origin} if origin else {})})

    def study_hours(self, entry, member_no, year, hours, source, title, on, withdrawn=False,
                    at=None):
        return self.add("enrollment", "study_hours_recorded", {
            "entry_id": uid(entry), "member_no": member_no, "year": year, "hours": hours,
            "source": source, "title": title, "on": datetime.fromisoformat(on).date(),
            "withdrawn": withdrawn}, at=at)

    def attend(self, enrollment, session, klass, member_no, status, hours, recorded,
               correction=False):
        return self.add("enrollment", "attendance_recorded", {
            "enrollment_id": uid(enrollment), "session_id": uid(session),
            "class_id": uid(klass), "member_no": member_no, "status": status,
            "hours_earned": hours if status in ("present", "online") else 0,
            "recorded_at": datetime.fromisoformat(recorded), "correction": correction})

    def complete(self, enrollment, klass, member_no, year, status, attended, class_hours):
        return self.add("enrollment", "completion_recorded", {
            "enrollment_id": uid(enrollment), "class_id": uid(klass), "member_no": member_no,
            "year": year, "status": status, "attended_hours": attended,
            "class_hours": class_hours})
def small_district() -> District:
    w = District()
    w.org("FX", "奉贤区委", None, "district")
    w.org("C1", "南桥镇党委", "FX", "committee")
    w.org("C2", "区教育工作党委", "FX", "committee")
    w.org("G11", "南桥村党总支", "C1", "grassroots", "village", "S11")
    w.org("G12", "江海居民区党支部", "C1", "grassroots", "residential", "S12")
    w.org("G21", "实验中学党支部", "C2", "grassroots", "institution", "S21")
    w.org("G22", "某科技公司党支部", "C2", "grassroots", "two_new", None)
    w.person("S11", "G11", "C1", secretary_of="G11", name=NAMES["S11"])
    w.person("S12", "G12", "C1", secretary_of="G12", name=NAMES["S12"])
    w.person("S21", "G21", "C2", secretary_of="G21", name=NAMES["S21"])
    w.person("M1", "G11", "C1", name=NAMES["M1"])
    w.person("M2", "G12", "C1", employment="enterprise", name=NAMES["M2"])
    w.person("M3", "G21", "C2", name=NAMES["M3"])
    w.person("M4", "G22", "C2", joined="2024-07-01", employment="enterprise",
             name=NAMES["M4"])

    w.program("PS", 2026, "secretaries", 4)
    w.program("PM", 2026, "members", 5)
    w.program("P0", 2025, "secretaries", 10)

    # K1: the secretaries' class, held and completed.
    sec = {"sector": None, "module": "basic_theory"}
    w.klass("class_published", "K1", "PS", 2026, "secretaries", "FX", "2026-04-01",
            "2026-04-02", sec, ratio=0.6667)
    w.session("session_scheduled", "A", "K1", "学习贯彻习近平新时代党建思想", True,
              "2026-04-01T09:00:00+08:00", 3, 0)
    w.session("session_scheduled", "B", "K1", "《中国共产党支部工作条例》解读", True,
              "2026-04-01T14:00:00+08:00", 3, 1)
    w.session("session_scheduled", "C", "K1", "奉贤区经济社会形势报告", False,
              "2026-04-02T09:00:00+08:00", 2, 2)
    for e, m, org, sector in (("E1", "S11", "G11", "village"), ("E2", "S12", "G12",
                                                                 "residential"),
                              ("E3", "S21", "G21", "institution")):
        w.enrol("enrollment_confirmed", e, "K1", m, org, "C1" if org[1] == "1" else "C2", sector)
    marks = {"A": [("E1", "S11", "present"), ("E2", "S12", "present"), ("E3", "S21", "online")],
             "B": [("E1", "S11", "present"), ("E2", "S12", "absent"), ("E3", "S21", "present")],
             "C": [("E1", "S11", "present"), ("E2", "S12", "present"),
                   ("E3", "S21", "present")]}
    hours = {"A": 3, "B": 3, "C": 2}
    day = {"A": "2026-04-01T12:00:00+08:00", "B": "2026-04-01T17:30:00+08:00",
           "C": "2026-04-02T12:00:00+08:00"}
    for s in ("A", "B", "C"):
        w.session("session_completed", s, "K1",
                  {"A": "学习贯彻习近平新时代党建思想", "B": "《中国共产党支部工作条例》解读",
                   "C": "奉贤区经济社会形势报告"}[s], s != "C",
                  {"A": "2026-04-01T09:00:00+08:00", "B": "2026-04-01T14:00:00+08:00",
                   "C": "2026-04-02T09:00:00+08:00"}[s], hours[s], "ABC".index(s))
        for e, m, status in marks[s]:
            w.attend(e, s, "K1", m, status, hours[s], day[s])
    # S12 was excused for B: the correction (recorded later) replaces the absence.
    w.attend("E2", "B", "K1", "S12", "leave", 3, "2026-04-03T10:00:00+08:00", correction=True)
    w.klass("class_completed", "K1", "PS", 2026, "secretaries", "FX", "2026-04-01",
            "2026-04-02", sec, ratio=0.6667, at=datetime.fromisoformat(
                "2026-04-02T18:00:00+08:00"), class_hours=8, sessions_completed=3)
    w.complete("E1", "K1", "S11", 2026, "completed", 8, 8)
    w.complete("E2", "K1", "S12", 2026, "incomplete", 5, 8)
    w.complete("E3", "K1", "S21", 2026, "completed", 8, 8)

    # K2: the members' class of committee C1.
    mem = {"category": "institution"}
    w.klass("class_published", "K2", "PM", 2026, "members", "C1", "2026-05-10", "2026-05-10",
            mem)
    for s, title, starts in (("D", "弘扬宪法精神,提升法治意识", "2026-05-10T09:00:00+08:00"),
                             ("E", "党员发展与党费管理", "2026-05-10T14:00:00+08:00")):
        w.session("session_scheduled", s, "K2", title, True, starts, 4)
    w.enrol("enrollment_confirmed", "E4", "K2", "M1", "G11", "C1", "village", "institution")
    w.enrol("enrollment_confirmed", "E5", "K2", "M2", "G12", "C1", "residential", "enterprise")
    w.enrol("enrollment_confirmed", "E6", "K2", "M3", "G21", "C2", "institution", "institution")
    w.enrol("enrollment_waitlisted", "E7", "K2", "M4", "G22", "C2", "two_new", "new_member",
            status="waitlisted")
    w.enrol("enrollment_withdrawn", "E7", "K2", "M4", "G22", "C2", "two_new", "new_member",
            status="withdrawn")
    for s, title, starts in (("D", "弘扬宪法精神,提升法治意识", "2026-05-10T09:00:00+08:00"),
                             ("E", "党员发展与党费管理", "2026-05-10T14:00:00+08:00")):
        w.session("session_completed", s, "K2", title, True, starts, 4)
    for s, rows in (("D", (("E4", "M1", "present"), ("E5", "M2", "online"),
                           ("E6", "M3", "absent"))),
                    ("E", (("E4", "M1", "present"), ("E5", "M2", "present"),
                           ("E6", "M3", "absent")))):
        for e, m, status in rows:
            w.attend(e, s, "K2", m, status, 4, "2026-05-10T18:00:00+08:00")
    w.klass("class_completed", "K2", "PM", 2026, "members", "C1", "2026-05-10", "2026-05-10",
            mem, at=datetime.fromisoformat("2026-05-11T09:00:00+08:00"))
    w.complete("E4", "K2", "M1", 2026, "completed", 8, 8)
    w.complete("E5", "K2", "M2", 2026, "completed", 8, 8)
    w.complete("E6", "K2", "M3", 2026, "incomplete", 0, 8)

    # K3 cancelled; K4 not held yet; K0 last year's.
    w.klass("class_published", "K3", "PM", 2026, "members", "C2", "2026-06-01", "2026-06-01",
            {"category": "new_member"})
    w.enrol("enrollment_confirmed", "E9", "K3", "M4", "G22", "C2", "two_new", "new_member")
    w.klass("class_cancelled", "K3", "PM", 2026, "members", "C2", "2026-06-01", "2026-06-01",
            {"category": "new_member"})
    w.klass("class_published", "K4", "PS", 2026, "secretaries", "FX", "2026-11-01",
            "2026-11-02", {"sector": "residential", "module": "advanced"})
    w.enrol("enrollment_confirmed", "E8", "K4", "S12", "G12", "C1", "residential")
    w.klass("class_published", "K0", "P0", 2025, "secretaries", "FX", "2025-09-01",
            "2025-09-01", sec)
    w.enrol("enrollment_confirmed", "E0", "K0", "S12", "G12", "C1", "residential")
    w.klass("class_completed", "K0", "P0", 2025, "secretaries", "FX", "2025-09-01",
            "2025-09-01", sec, at=datetime.fromisoformat("2025-09-01T18:00:00+08:00"))
    w.complete("E0", "K0", "S12", 2025, "completed", 6, 6)
    return w


def unit_district(changes: bool = True) -> District:
    """The small district and issue 13's flows on top of it (2026), figures by hand in the tests:

    PU members program of C1 (unit-run, target 3): K5 by C1, 2026-06-10, session F core 4h;
       M1 nominated → confirmed → present → completed 4h; M2 nominated, still waiting for review;
       M3 nominated → rejected.
    PG secretaries program of G12 (a grassroots organisation: unit-run, target 2): K6 by G12,
       2026-07-01, live and open online; session G core 3h; S12 was never nominated, watched it
       (origin live, online) → completed 3h.
    K4 changed twice (`changes`, see k4_changes): the higher sequence told first, stamped later.
    Study hours from elsewhere: S11 10h online (H1); M1 6h party school (H2); M2 5h unit (H3),
       then withdrawn; S12 3h in 2025 (H4).
    """
    w = small_district()
    w.program("PU", 2026, "members", 3, organiser="C1")
    w.program("PG", 2026, "secretaries", 2, organiser="G12")
    mem = {"category": "institution"}
    w.klass("class_published", "K5", "PU", 2026, "members", "C1", "2026-06-10", "2026-06-10",
            mem, review_nominations=True)
    w.session("session_scheduled", "F", "K5", "学习贯彻党的二十大精神", True,
              "2026-06-10T09:00:00+08:00", 4)
    w.enrol("enrollment_nominated", "E51", "K5", "M1", "G11", "C1", "village", "institution",
            status="nominated")
    w.enrol("enrollment_nominated", "E52", "K5", "M2", "G12", "C1", "residential",
            "enterprise", status="nominated")
    w.enrol("enrollment_nominated", "E53", "K5", "M3", "G21", "C2", "institution",
            "institution", status="nominated")
    w.enrol("enrollment_confirmed", "E51", "K5", "M1", "G11", "C1", "village", "institution")
    w.enrol("enrollment_rejected", "E53", "K5", "M3", "G21", "C2", "institution",
            "institution", status="rejected")
    w.session("session_completed", "F", "K5", "学习贯彻党的二十大精神", True,
              "2026-06-10T09:00:00+08:00", 4)
    w.attend("E51", "F", "K5", "M1", "present", 4, "2026-06-10T12:00:00+08:00")
    w.klass("class_completed", "K5", "PU", 2026, "members", "C1", "2026-06-10", "2026-06-10",
            mem, at=datetime.fromisoformat("2026-06-10T18:00:00+08:00"), class_hours=4,
            sessions_completed=1, review_nominations=True)
    w.complete("E51", "K5", "M1", 2026, "completed", 4, 4)

    sec = {"sector": "residential", "module": "advanced"}
    w.klass("class_published", "K6", "PG", 2026, "secretaries", "G12", "2026-07-01",
            "2026-07-01", sec, online_open=True)
    w.session("session_scheduled", "G", "K6", "党建引领社会治理创新", True,
              "2026-07-01T14:00:00+08:00", 3)
    w.enrol("enrollment_confirmed", "E61", "K6", "S12", "G12", "C1", "residential",
            origin="live", mode="online")
    w.session("session_completed", "G", "K6", "党建引领社会治理创新", True,
              "2026-07-01T14:00:00+08:00", 3)
    w.attend("E61", "G", "K6", "S12", "online", 3, "2026-07-01T17:30:00+08:00")
    w.klass("class_completed", "K6", "PG", 2026, "secretaries", "G12", "2026-07-01",
            "2026-07-01", sec, at=datetime.fromisoformat("2026-07-01T18:00:00+08:00"),
            class_hours=3, sessions_completed=1, online_open=True)
    w.complete("E61", "K6", "S12", 2026, "completed", 3, 3)

    w.study_hours("H1", "S11", 2026, 10, "online", "网络学院专题课", "2026-03-01")
    w.study_hours("H2", "M1", 2026, 6, "party_school", "区委党校专题班", "2026-08-01")
    w.study_hours("H3", "M2", 2026, 5, "unit", "支部书记讲党课", "2026-08-02")
    w.study_hours("H3", "M2", 2026, 5, "unit", "支部书记讲党课", "2026-08-02", withdrawn=True)
    w.study_hours("H4", "S12", 2025, 3, "other", "红色教育基地参观", "2025-10-01")
    if changes:
        k4_changes(w)
    return w


def k4_changes(w: District) -> None:
    """K4 changed twice after publishing: the change of sequence 2 (K4班（调整）, 80 seats) is
    told first and stamped earlier than sequence 1's (a scheduling replica's clock behind):
    the highest sequence must win, not the latest stamp."""
    sec = {"sector": "residential", "module": "advanced"}
    w.klass("class_changed", "K4", "PS", 2026, "secretaries", "FX", "2026-11-01", "2026-11-02",
            sec, sequence=2, title="K4班（调整）", offline_capacity=80,
            changed=["title", "offline_capacity"],
            at=datetime.fromisoformat("2026-09-01T10:00:00+08:00"))
    w.klass("class_changed", "K4", "PS", 2026, "secretaries", "FX", "2026-11-01", "2026-11-02",
            sec, sequence=1, title="K4班（改期）", offline_capacity=70,
            changed=["title", "offline_capacity"],
            at=datetime.fromisoformat("2026-09-01T11:00:00+08:00"))


def load(engine, envelopes, batch=None):
    """Apply the envelopes as the live handlers would, in batches of `batch` (all at once)."""
    with Session(engine) as session, session.begin():
        size = batch or len(envelopes) or 1
        for start in range(0, len(envelopes), size):
            projections.apply(session, envelopes[start:start + size])


def district_session(tmp_path_factory, name: str):
    """A session on the small district's read models, in a SQLite file of its own: what a
    test module's `db` fixture yields."""
    engine = sqlite_engine(tmp_path_factory.mktemp(name) / "reporting.db", "reporting")
    load(engine, small_district().events)
    with Session(engine) as session:
        yield session
    engine.dispose()


def snapshot(engine) -> dict:
    """Every read model's rows, as text, in order: two builds compare equal or not."""
    with engine.connect() as connection:
        return {table.name: sorted(tuple(str(v) for v in row)
                                   for row in connection.execute(select(table)))
                for table in models.READ_MODELS}


def send(publish, envelopes):
    """The envelopes over the broker, each to its publisher's exchange."""
    for e in envelopes:
        publish(f"{e['source']}.events", e["type"],
                json.dumps(e, ensure_ascii=False).encode())
