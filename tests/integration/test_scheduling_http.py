"""Scheduling through the gateway over HTTP: the catalogue, programs, classes and sessions, the
rules' refusals as problem details, calendars as text/calendar, and who may do what."""

import icalendar
import pytest
import requests

from services.gateway.service import GatewayService
from services.gateway.tokens import create
from services.scheduling.service import SchedulingService
from tests.support.system import free_port

PROGRAM = {"year": 2026, "track": "members", "organiser_org_code": "FX",
           "name": "2026年“万名党员进课堂”", "target_person_times": 20000}


@pytest.fixture
def api(runner_factory, service_config, database_urls):
    port = free_port()
    config = {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    runner_factory(config, SchedulingService, GatewayService).start()
    base = f"http://127.0.0.1:{port}/api/v1"
    gateway_db = database_urls["gateway"]

    class Api:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method):
            def call(path, **kw):
                return requests.request(method.upper(), base + path, headers=self.headers,
                                        timeout=15, **kw)
            return call

    def as_role(role, org=None, class_ids=None):
        return Api(create(role, org, class_ids, database_url=gateway_db))

    return as_role


@pytest.fixture
def admin(api):
    return api("district_admin")


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def names(listing, key="name"):
    return {item[key]: item for item in listing["items"]}


def member_class(program_id, catalogue, **overrides):
    """Institution members: two core lectures, a seminar (core) and a rural-revitalisation visit."""
    courses = catalogue["courses"]
    return {
        "program_id": program_id, "title": "机关事业单位在职党员示范班",
        "audience": {"category": "institution"}, "offline_capacity": 100, "delivery": "hybrid",
        "start_date": "2026-05-12", "end_date": "2026-05-13",
        "sessions": [
            {"course_id": courses["学习贯彻习近平新时代党建思想"]["course_id"],
             "venue_id": catalogue["venues"]["区委党校第二教室"]["venue_id"],
             "starts_at": "2026-05-12T09:00:00+08:00", "ends_at": "2026-05-12T12:00:00+08:00"},
            {"course_id": courses["深入学习贯彻党的十九大精神"]["course_id"],
             "venue_id": catalogue["venues"]["区委党校第二教室"]["venue_id"],
             "starts_at": "2026-05-12T13:30:00+08:00", "ends_at": "2026-05-12T16:30:00+08:00"},
            {"course_id": courses["新思想专题研讨：学思用贯通、知信行统一"]["course_id"],
             "venue_id": catalogue["venues"]["区委党校第三教室"]["venue_id"],
             "starts_at": "2026-05-13T09:00:00+08:00", "ends_at": "2026-05-13T11:00:00+08:00",
             "live": False},
            {"course_id": courses["现场教学：乡村振兴实践点位"]["course_id"],
             "site_id": catalogue["sites"]["乡村振兴示范村现场教学点（一）"]["site_id"],
             "starts_at": "2026-05-13T13:30:00+08:00", "ends_at": "2026-05-13T16:30:00+08:00"},
        ], **overrides}


def seeded(admin):
    seed = ok(admin.post("/catalogue/seed"))
    assert seed["courses"]["total"] >= 20
    return {"courses": names(ok(admin.get("/courses", params={"per_page": 200})), "title"),
            "venues": names(ok(admin.get("/venues"))),
            "sites": names(ok(admin.get("/sites", params={"per_page": 100}))),
            "instructors": names(ok(admin.get("/instructors", params={"per_page": 100})))}


def test_an_admin_schedules_publishes_reschedules_and_runs_a_class_over_http(admin):
    catalogue = seeded(admin)
    program = admin.post("/programs", json=PROGRAM)
    assert program.status_code == 201, program.text
    program_id = program.json()["program_id"]
    assert program.headers["Location"] == f"/api/v1/programs/{program_id}"
    assert ok(admin.get("/programs", params={"year": 2026}))["total"] == 1
    changed = ok(admin.patch(f"/programs/{program_id}", json={"target_person_times": 25000}))
    assert changed["target_person_times"] == 25000
    assert ok(admin.get(f"/programs/{program_id}"))["name"] == PROGRAM["name"]

    created = admin.post("/classes", json=member_class(program_id, catalogue))
    assert created.status_code == 201, created.text
    class_id = created.json()["class_id"]
    # a draft still takes new sessions and drops them
    extra = admin.post(f"/classes/{class_id}/sessions", json={
        "course_id": catalogue["courses"]["“不忘初心、牢记使命”：新思想原著选读"]["course_id"],
        "starts_at": "2026-05-13T17:00:00+08:00", "ends_at": "2026-05-13T18:00:00+08:00",
        "hours": 1})
    assert extra.status_code == 201, extra.text
    ok(admin.delete(f"/sessions/{extra.json()['session_id']}"))
    renamed = ok(admin.patch(f"/classes/{class_id}", json={"title": "机关党员示范班（一）"}))
    assert renamed["title"] == "机关党员示范班（一）" and len(renamed["sessions"]) == 4

    published = ok(admin.post(f"/classes/{class_id}/publish"))
    assert published["status"] == "published" and published["core_theory_ratio"] == 0.75
    listing = ok(admin.get("/classes", params={"year": 2026, "track": "members",
                                                "status": "published", "per_page": 10}))
    assert (listing["total"], listing["page"], listing["per_page"]) == (1, 1, 10)
    assert listing["items"][0]["class_id"] == class_id and "sessions" not in listing["items"][0]

    sessions = ok(admin.get(f"/classes/{class_id}"))["sessions"]
    assert [s["starts_at"] for s in sessions][:1] == ["2026-05-12T09:00:00+08:00"]
    first = sessions[0]["session_id"]
    moved = ok(admin.post(f"/sessions/{first}/reschedule", json={
        "starts_at": "2026-05-12T08:00:00+08:00", "ends_at": "2026-05-12T11:00:00+08:00",
        "reason": "提前开班"}))
    assert moved["sequence"] == 1
    edit = admin.put(f"/sessions/{first}", json={
        "course_title": "x", "hours": 1,
        "starts_at": "2026-05-12T08:00:00+08:00", "ends_at": "2026-05-12T09:00:00+08:00"})
    assert edit.status_code == 409 and edit.json()["rule"] == "no_silent_edits"

    cancelled = ok(admin.post(f"/sessions/{sessions[3]['session_id']}/cancel",
                              json={"reason": "点位检修"}))
    assert cancelled["status"] == "cancelled" and cancelled["sequence"] == 1
    early = admin.post(f"/classes/{class_id}/complete")
    assert early.status_code == 409 and early.json()["rule"] == "class_completion"
    for session in sessions[:3]:
        done = ok(admin.post(f"/sessions/{session['session_id']}/complete"))
        # enrollment does not answer here: the answer says what completing does anyway
        assert [w["code"] for w in done["warnings"]] == ["attendance_unchecked"]
    assert ok(admin.get(f"/classes/{class_id}"))["status"] == "completed"


def test_a_published_class_changes_under_every_rule_over_http(admin):
    catalogue = seeded(admin)
    program_id = ok(admin.post("/programs", json=PROGRAM), 201)["program_id"]
    created = ok(admin.post("/classes", json={**member_class(program_id, catalogue),
                                              "publish": True}), 201)
    class_id, sessions = created["class_id"], created["sessions"]
    assert (created["online_open"], created["review_nominations"], created["sequence"]) == \
        (False, False, 0)

    changed = ok(admin.patch(f"/classes/{class_id}", json={
        "title": "机关党员示范班（调整）", "offline_capacity": 110, "online_open": True,
        "review_nominations": True}))
    assert changed["sequence"] == 1 and changed["offline_capacity"] == 110
    assert (changed["online_open"], changed["review_nominations"]) == (True, True)

    def refused(response, status, rule, field):
        assert response.status_code == status, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json().get("rule") == rule and field in response.json()["errors"], \
            response.text

    refused(admin.patch(f"/classes/{class_id}", json={"end_date": "2026-05-12"}), 409,
            "within_class_dates", "sessions.2.starts_at")
    refused(admin.patch(f"/classes/{class_id}", json={"delivery": "live"}), 409,
            "fixed_after_publishing", "delivery")
    ok(admin.post(f"/sessions/{sessions[0]['session_id']}/cancel"))   # 2 of 3 still core
    refused(admin.post(f"/sessions/{sessions[1]['session_id']}/cancel"), 409,
            "two_thirds_core_theory", "session_id")
    refused(admin.post(f"/classes/{class_id}/sessions", json={
        "course_title": "本单位党务工作交流", "hours": 1,
        "starts_at": "2026-05-13T17:00:00+08:00", "ends_at": "2026-05-13T18:00:00+08:00"}),
        409, "two_thirds_core_theory", "core_theory")
    refused(admin.post(f"/classes/{class_id}/sessions", json={
        "course_title": "自拟课程", "core_theory": True, "hours": 1,
        "starts_at": "2026-05-13T17:00:00+08:00", "ends_at": "2026-05-13T18:00:00+08:00"}),
        422, None, "core_theory")
    refused(admin.post(f"/classes/{class_id}/sessions", json={
        "course_id": catalogue["courses"]["深入学习贯彻党的十九大精神"]["course_id"],
        "starts_at": "2026-05-12T14:00:00+08:00", "ends_at": "2026-05-12T15:00:00+08:00"}),
        409, "class_double_booked", "starts_at")
    # Fewer seats: scheduling asks enrollment how many are seated; here nobody answers.
    refused(admin.patch(f"/classes/{class_id}", json={"offline_capacity": 20}), 503,
            "seats_unknown", "offline_capacity")
    after = ok(admin.get(f"/classes/{class_id}"))
    assert (after["sequence"], after["offline_capacity"], after["end_date"]) == \
        (2, 110, "2026-05-13")

    added = ok(admin.post(f"/classes/{class_id}/sessions", json={
        "course_id": catalogue["courses"]["“不忘初心、牢记使命”：新思想原著选读"]["course_id"],
        "instructor_name": "区委党校教师",
        "starts_at": "2026-05-13T17:00:00+08:00", "ends_at": "2026-05-13T18:00:00+08:00",
        "hours": 1}), 201)
    assert added["sequence"] == 0 and added["core_theory"] is True
    assert ok(admin.get(f"/classes/{class_id}"))["sequence"] == 3
    ok(admin.post(f"/sessions/{sessions[1]['session_id']}/complete"))   # 12 May is over
    future = ok(admin.post("/classes", json={
        **member_class(program_id, catalogue), "start_date": "2099-05-12",
        "end_date": "2099-05-13", "publish": True, "sessions": [
            {**s, "starts_at": s["starts_at"].replace("2026", "2099"),
             "ends_at": s["ends_at"].replace("2026", "2099")}
            for s in member_class(program_id, catalogue)["sessions"]]}), 201)
    refused(admin.post(f"/sessions/{future['sessions'][0]['session_id']}/complete"), 409,
            "session_not_ended", "session_id")


def test_catalogue_items_are_edited_and_scheduled_sessions_keep_their_copy(api, admin):
    catalogue = seeded(admin)
    program_id = ok(admin.post("/programs", json=PROGRAM), 201)["program_id"]
    created = ok(admin.post("/classes", json={**member_class(program_id, catalogue),
                                              "publish": True}), 201)
    course = catalogue["courses"]["学习贯彻习近平新时代党建思想"]
    room = catalogue["venues"]["区委党校第二教室"]
    site = catalogue["sites"]["乡村振兴示范村现场教学点（一）"]
    instructor = catalogue["instructors"]["市委党校党建教研部教授"]
    assert ok(admin.patch(f"/courses/{course['course_id']}", json={
        "title": "学习贯彻习近平新时代党建思想（修订）", "default_hours": 2}))["default_hours"] == 2
    assert ok(admin.patch(f"/venues/{room['venue_id']}", json={"seats": 130}))["seats"] == 130
    assert ok(admin.patch(f"/sites/{site['site_id']}", json={"group_capacity": 90}))[
        "group_capacity"] == 90
    assert ok(admin.patch(f"/instructors/{instructor['instructor_id']}", json={
        "affiliation": "中共上海市委党校（修订）"}))["affiliation"] == "中共上海市委党校（修订）"
    first = ok(admin.get(f"/classes/{created['class_id']}"))["sessions"][0]
    assert (first["course_title"], first["hours"]) == ("学习贯彻习近平新时代党建思想", 3.0)
    clash = admin.patch(f"/courses/{course['course_id']}", json={"title": "奉贤区经济社会形势报告"})
    assert (clash.status_code, clash.json()["rule"]) == (409, "catalogue_unique")
    assert admin.patch(f"/venues/{room['venue_id']}", json={"seats": "many"}).status_code == 422
    assert admin.patch("/venues/nope", json={"seats": 1}).status_code == 404
    committee = api("committee_admin", org="FX01")
    assert committee.patch(f"/venues/{room['venue_id']}", json={"seats": 1}).status_code == 403


def test_calendars_are_text_calendar_files_that_parse(admin):
    catalogue = seeded(admin)
    program_id = ok(admin.post("/programs", json=PROGRAM), 201)["program_id"]
    created = ok(admin.post("/classes", json={**member_class(program_id, catalogue),
                                              "publish": True}), 201)
    session = created["sessions"][0]
    ok(admin.post(f"/sessions/{session['session_id']}/reschedule", json={
        "starts_at": "2026-05-12T08:30:00+08:00", "ends_at": "2026-05-12T11:30:00+08:00"}))

    room = catalogue["venues"]["区委党校第二教室"]["venue_id"]
    instructor = session["instructor_id"]
    site = catalogue["sites"]["乡村振兴示范村现场教学点（一）"]["site_id"]
    for path, filename, count in (
            (f"/calendars/classes/{created['class_id']}.ics",
             f"class-{created['class_id']}.ics", 4),
            (f"/calendars/venues/{room}.ics", f"venue-{room}.ics", 2),
            (f"/calendars/instructors/{instructor}.ics", f"instructor-{instructor}.ics", 2),
            (f"/calendars/sites/{site}.ics", f"site-{site}.ics", 1)):
        response = admin.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
        calendar = icalendar.Calendar.from_ical(response.content.decode("utf-8"))
        events = calendar.walk("VEVENT")
        assert len(events) == count
        assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    moved = next(e for e in icalendar.Calendar.from_ical(admin.get(
        f"/calendars/classes/{created['class_id']}.ics").content).walk("VEVENT")
        if str(e["UID"]) == f"{session['session_id']}@peixun")
    assert moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTART").strftime("%H:%M %z") == "08:30 +0800"
    assert admin.get("/calendars/venues/nope.ics").status_code == 404


def test_refusals_are_problem_details_naming_rule_and_fields(admin):
    catalogue = seeded(admin)
    program_id = ok(admin.post("/programs", json=PROGRAM), 201)["program_id"]
    ok(admin.post("/classes", json=member_class(program_id, catalogue)), 201)

    clash = admin.post("/classes", json=member_class(program_id, catalogue))
    assert clash.status_code == 409
    assert clash.headers["Content-Type"] == "application/problem+json"
    problem = clash.json()
    assert "venue_double_booked" in problem["rule"]
    assert "sessions.0.venue_id" in problem["errors"]

    crowded = member_class(program_id, catalogue, offline_capacity=130,
                           start_date="2026-06-01", end_date="2026-06-02")
    for session in crowded["sessions"]:
        session["starts_at"] = session["starts_at"].replace("05-12", "06-01").replace(
            "05-13", "06-02")
        session["ends_at"] = session["ends_at"].replace("05-12", "06-01").replace(
            "05-13", "06-02")
    problem = admin.post("/classes", json=crowded).json()
    assert problem["status"] == 409
    assert problem["rule"] == "venue_capacity,site_capacity"
    assert set(problem["errors"]) == {"sessions.0.venue_id", "sessions.1.venue_id",
                                      "sessions.2.venue_id", "sessions.3.site_id"}

    courses, sites = catalogue["courses"], catalogue["sites"]
    problem = admin.post("/classes", json={
        "program_id": program_id, "title": "企业党员示范班", "audience": {"category": "enterprise"},
        "offline_capacity": 60, "delivery": "offline", "start_date": "2026-07-01",
        "end_date": "2026-07-01", "sessions": [
            {"course_id": courses["现场教学：乡村振兴实践点位"]["course_id"],
             "site_id": sites["乡村振兴示范村现场教学点（一）"]["site_id"],
             "starts_at": "2026-07-01T13:30:00+08:00", "ends_at": "2026-07-01T16:30:00+08:00"}]
    }).json()
    assert (problem["status"], problem["rule"]) == (409, "site_audience")
    assert "机关事业单位在职党员" in problem["detail"]

    bad = admin.post("/classes", json={"program_id": program_id, "title": "",
                                       "offline_capacity": -1, "delivery": "tv",
                                       "start_date": "2026-05-02", "end_date": "2026-05-01",
                                       "sessions": [{"course_title": "x"}]})
    assert bad.status_code == 422
    assert {"title", "offline_capacity", "delivery", "sessions.0.starts_at"} <= \
        set(bad.json()["errors"])
    assert admin.get("/classes", params={"colour": "red"}).status_code == 422
    assert admin.get("/classes", params={"per_page": 1000}).status_code == 422


def test_every_role_reads_and_drafts_stay_private(api, admin):
    catalogue = seeded(admin)
    district = ok(admin.post("/programs", json=PROGRAM), 201)
    draft = ok(admin.post("/classes", json=member_class(district["program_id"], catalogue)),
               201)
    checkin = api("checkin", class_ids=[draft["class_id"]])
    assert ok(checkin.get("/classes"))["total"] == 0          # drafts are not shown
    assert checkin.get(f"/classes/{draft['class_id']}").status_code == 404
    assert checkin.get(f"/calendars/classes/{draft['class_id']}.ics").status_code == 404
    assert checkin.post(f"/classes/{draft['class_id']}/publish").status_code == 403
    assert checkin.post("/venues", json={"name": "x", "seats": 1}).status_code == 403
    ok(admin.post(f"/classes/{draft['class_id']}/publish"))
    assert ok(checkin.get("/classes"))["total"] == 1
    assert checkin.get(f"/calendars/classes/{draft['class_id']}.ics").status_code == 200
    assert ok(checkin.get("/courses"))["total"] >= 20
    # Who writes programs, classes and sessions: tests/integration/test_scheduling_access.py.


def test_without_a_token_reads_and_calendars_answer_401(api):
    anonymous = api("district_admin")
    anonymous.headers = {}
    for path in ("/classes", "/courses", "/calendars/venues/x.ics"):
        response = anonymous.get(path)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/problem+json"
