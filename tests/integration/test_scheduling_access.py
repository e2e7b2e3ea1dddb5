"""Who may organise training, through the public door: every role × every write to programs,
classes, sessions and the catalogue × a target organised inside committee A's grassroots
organisation CA01 (inside the committee_admin's and the org_admin's subtree) and one organised
by committee B. Units run their own training: inside answers 2xx to the admins; outside only the
district reaches, and a refusal is a 403 naming its reason that changes nothing. The catalogue,
shared by every unit, is the district's."""

import json
from datetime import datetime, time, timedelta
from itertools import count

import pytest

from services.kit.clock import SHANGHAI
from tests.support.classes import core_course
from tests.support.two_committees import ROLES

YEAR = datetime.now(SHANGHAI).year
ADMINS = {"district_admin", "committee_admin", "org_admin"}
_days = count(1)
_years = count(2031)
_titles = count(1)


@pytest.fixture(scope="module")
def world(two_committees):
    w = two_committees
    w.course_id = core_course(w.rpc.scheduling)
    w.programs = {"inside": _created(w, "/api/v1/programs", {
        "year": YEAR, "track": "members", "organiser_org_code": "CA01",
        "name": "甲镇某居民区党员培训", "target_person_times": 30})["program_id"],
        "outside": w.call("GET", f"/api/v1/classes/{w.class_b}").json()["program_id"]}
    return w


def _created(w, path, body):
    answer = w.call("POST", path, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def a_class(w, side, publish=True):
    """A fresh members' class of the side's program: two one-hour core sessions on a day of
    its own before today (so they can be held), without rooms or instructors to clash."""
    day = datetime.now(SHANGHAI).date() - timedelta(days=next(_days))
    sessions = [{"course_id": w.course_id, "hours": 1,
                 "starts_at": datetime.combine(day, time(9 + i), SHANGHAI).isoformat(),
                 "ends_at": datetime.combine(day, time(10 + i), SHANGHAI).isoformat()}
                for i in range(2)]
    return _created(w, "/api/v1/classes", {
        "program_id": w.programs[side], "title": f"党员示范班{next(_titles)}",
        "audience": {"category": "enterprise"}, "offline_capacity": 50, "delivery": "offline",
        "start_date": day.isoformat(), "end_date": day.isoformat(), "publish": publish,
        "sessions": sessions})


def session_of(w, side, index=0):
    return a_class(w, side)["sessions"][index]


def later_session(w, starts_at):
    """A session of the core course three hours after `starts_at`, on the same day."""
    starts = datetime.fromisoformat(starts_at) + timedelta(hours=3)
    return {"course_id": w.course_id, "hours": 1, "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat()}


def program_of(side):
    return {"year": next(_years), "track": "members",
            "organiser_org_code": {"inside": "CA01", "outside": "CB01"}[side],
            "name": "党员培训", "target_person_times": 10}


# Each write: a request (method, path, kwargs) per side, which roles it lets in, and what to
# re-read to show that a refused write changed nothing.
WRITES = {
    "create a program": dict(
        request=lambda w, side: ("POST", "/api/v1/programs", {"json": program_of(side)}),
        state=lambda w, req: _programs(w, req[2]["json"]["organiser_org_code"])),
    "change a program": dict(
        request=lambda w, side: ("PATCH", f"/api/v1/programs/{w.programs[side]}",
                                 {"json": {"target_person_times": next(_titles)}}),
        state=lambda w, req: w.call("GET", req[1]).json()),
    "create a class": dict(
        request=lambda w, side: ("POST", "/api/v1/classes", {"json": {
            "program_id": w.programs[side], "title": "草稿班", "audience": {
                "category": "enterprise"}, "offline_capacity": 10, "delivery": "offline",
            "start_date": "2026-12-31", "end_date": "2026-12-31"}}),
        state=lambda w, req: _classes(w, req[2]["json"]["program_id"])),
    "change a class": dict(
        request=lambda w, side: ("PATCH", f"/api/v1/classes/{a_class(w, side)['class_id']}",
                                 {"json": {"title": "调整后的班次", "offline_capacity": 60}}),
        state=lambda w, req: _class(w, req[1])),
    "publish a class": dict(
        request=lambda w, side: (
            "POST", f"/api/v1/classes/{a_class(w, side, publish=False)['class_id']}/publish",
            {}),
        state=lambda w, req: _class(w, req[1])),
    "cancel a class": dict(
        request=lambda w, side: (
            "POST", f"/api/v1/classes/{a_class(w, side)['class_id']}/cancel",
            {"json": {"reason": "调整"}}),
        state=lambda w, req: _class(w, req[1])),
    "add a session": dict(
        request=lambda w, side: _add_session(w, side),
        state=lambda w, req: _class(w, req[1])),
    "reschedule a session": dict(
        request=lambda w, side: _reschedule(w, side),
        state=lambda w, req: _session(w, req[1])),
    "cancel a session": dict(
        request=lambda w, side: (
            "POST", f"/api/v1/sessions/{session_of(w, side)['session_id']}/cancel", {}),
        state=lambda w, req: _session(w, req[1])),
    "complete a session": dict(
        request=lambda w, side: (
            "POST", f"/api/v1/sessions/{session_of(w, side)['session_id']}/complete", {}),
        state=lambda w, req: _session(w, req[1])),
}


def _add_session(w, side):
    created = a_class(w, side)
    return ("POST", f"/api/v1/classes/{created['class_id']}/sessions",
            {"json": later_session(w, created["sessions"][0]["starts_at"])})


def _reschedule(w, side):
    session = session_of(w, side)
    moved = later_session(w, session["starts_at"])
    return ("POST", f"/api/v1/sessions/{session['session_id']}/reschedule",
            {"json": {"starts_at": moved["starts_at"], "ends_at": moved["ends_at"]}})


def _programs(w, org_code):
    return w.call("GET", "/api/v1/programs",
                  params={"organiser_org_code": org_code, "per_page": 200}).json()["total"]


def _classes(w, program_id):
    return w.call("GET", "/api/v1/classes",
                  params={"program_id": program_id, "per_page": 200}).json()["total"]


def _class(w, path):
    """The class a path names (/api/v1/classes/{id}/…), as it reads now."""
    return json.dumps(w.call("GET", f"/api/v1/classes/{path.split('/')[4]}").json(),
                      sort_keys=True)


def _session(w, path):
    return w.call("GET", f"/api/v1/sessions/{path.split('/')[4]}").json()


CASES = [pytest.param(role, name, side, id=f"{role}-{name}-{side}")
         for name in WRITES for side in ("inside", "outside") for role in ROLES]


@pytest.mark.parametrize("role,name,side", CASES)
def test_units_organise_their_own_training_and_nobody_elses(world, role, name, side):
    spec = WRITES[name]
    request = spec["request"](world, side)
    method, path, kwargs = request
    allowed = role == "district_admin" or (role in ADMINS and side == "inside")
    before = None if allowed else spec["state"](world, request)
    answer = world.call(method, path, role, **kwargs)
    if allowed:
        assert 200 <= answer.status_code < 300, (answer.status_code, answer.text)
        return
    assert answer.status_code == 403, (answer.status_code, answer.text)
    problem = answer.json()
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert problem["rule"] == ("subtree" if role in ADMINS else "role"), problem
    assert spec["state"](world, request) == before, "a refused write changed something"


@pytest.mark.parametrize("role", ROLES)
def test_the_catalogue_is_the_districts(world, role):
    path = f"/api/v1/courses/{world.course_id}"
    answer = world.call("PATCH", path, role, json={"themes": ["新思想", role]})
    if role == "district_admin":
        assert answer.status_code == 200, answer.text
        return
    assert (answer.status_code, answer.json()["rule"]) == (403, "role"), answer.text


def test_an_org_admin_reads_its_own_drafts(world):
    draft = a_class(world, "inside", publish=False)
    answer = world.call("GET", f"/api/v1/classes/{draft['class_id']}", "org_admin")
    assert answer.status_code == 200 and answer.json()["status"] == "draft", answer.text


def test_capacity_never_falls_below_the_people_enrollment_has_seated(world):
    seated = world.call("GET", f"/api/v1/classes/{world.class_a}/places").json()[
        "places"]["offline_confirmed"]
    assert seated > 0
    path = f"/api/v1/classes/{world.class_a}"
    below = world.call("PATCH", path, "committee_admin", json={"offline_capacity": seated - 1})
    assert below.status_code == 409, below.text
    assert below.json()["rule"] == "capacity_below_seated"
    assert f"below the {seated} people seated" in below.json()["errors"]["offline_capacity"][0]
    answer = world.call("PATCH", path, "committee_admin", json={"offline_capacity": seated})
    assert answer.status_code == 200 and answer.json()["offline_capacity"] == seated, answer.text
    world.call("PATCH", path, json={"offline_capacity": 100})
