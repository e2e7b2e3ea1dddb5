"""Who may do what, through the public door: every role × every endpoint that reads or changes
people, enrolments, attendance, reports or filings × a target inside and outside its scope.

One small world for the module: the district FX with committees CA and CB, grassroots
organisations under each, members, a published class of each committee with a session today,
enrolments of people from A and B. Outside the scope answers 403 (or 404) and changes nothing;
inside answers 2xx; a committee's reports hold nothing of the other committee.
"""

import json
import re
from datetime import datetime, time, timedelta
from itertools import count

import pytest
import requests

import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation
from services.enrollment.domain import SHANGHAI
from services.gateway.tokens import create
from tests.conftest import wait_until, whole_system

ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential"),
        ("CA02", "甲镇某村党支部", "CA", "grassroots", "village"),
        ("CB", "乙镇党委", "FX", "committee", ""),
        ("CB01", "乙镇某企业党支部", "CB", "grassroots", "two_new")]
MEMBERS = {"A1": "CA01", "A2": "CA01", "A3": "CA02", "B1": "CB01", "B2": "CB01"}
SPARE = 12   # fresh people per side for writes that must succeed inside the scope
ROLES = ("district_admin", "committee_admin", "org_admin", "checkin", "system")
B_PEOPLE = re.compile(r'"B\d+"')


def org_rows():
    return [{"row": i + 2, "org_code": code, "name": name, "parent_code": parent, "kind": kind,
             "sector": sector} for i, (code, name, parent, kind, sector) in enumerate(ORGS)]


def member_rows():
    people = dict(MEMBERS)
    for n in range(SPARE):
        people[f"A{100 + n}"], people[f"B{100 + n}"] = "CA01", "CB01"
    return [{"row": i + 2, "member_no": no, "name": f"党员{i}", "org_code": org,
             "joined_on": "2010-07-01", "employment": "enterprise"}
            for i, (no, org) in enumerate(people.items())]


def a_class(program_id, title):
    today = datetime.now(SHANGHAI).date()
    starts = datetime.combine(today, time(0, 30), SHANGHAI)
    return {"program_id": program_id, "title": title, "audience": {"category": "enterprise"},
            "offline_capacity": 100, "delivery": "offline", "start_date": today.isoformat(),
            "end_date": today.isoformat(), "publish": True,
            "sessions": [{"course_title": "党章学习", "core_theory": True, "kind": "lecture",
                          "starts_at": starts.isoformat(),
                          "ends_at": (starts + timedelta(hours=23)).isoformat(),
                          "hours": 3}]}


class World:
    """The module's world: its base URL, ids, tokens per role, and fresh people to enrol."""

    def __init__(self, base, gateway_db, rpc):
        self.base, self.gateway_db, self.rpc = base, gateway_db, rpc
        self.spare = {"A": (f"A{100 + n}" for n in count()),
                      "B": (f"B{100 + n}" for n in count())}
        self.headers = {}

    def auth(self, role):
        return self.headers[role]

    def call(self, method, path, role="district_admin", **kw):
        return requests.request(method, self.base + path, headers=self.auth(role), timeout=30,
                                **kw)

    def nominate(self, class_id, member_no):
        answer = self.call("POST", f"/api/v1/classes/{class_id}/enrolments",
                           json={"member_nos": [member_no]})
        assert answer.status_code == 201, answer.text
        return answer.json()["enrolled"][0]["enrollment_id"]

    def fresh_enrolment(self, side):
        return self.nominate(self.class_a, next(self.spare[side]))


@pytest.fixture(scope="module")
def world(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield _build(World(base, database_urls["gateway"], rpc))


def _build(w: World) -> World:
    w.rpc.enrollment.import_orgs(org_rows())
    w.rpc.enrollment.import_members(member_rows())
    w.headers["district_admin"] = _token(w, "district_admin")
    classes = {}
    for side, org in (("a", "CA"), ("b", "CB")):
        program = w.call("POST", "/api/v1/programs", json={
            "year": datetime.now(SHANGHAI).year, "track": "members", "organiser_org_code": org,
            "name": f"{org}党员培训", "target_person_times": 100})
        assert program.status_code == 201, program.text
        created = w.call("POST", "/api/v1/classes",
                         json=a_class(program.json()["program_id"], f"{org}党员示范班"))
        assert created.status_code == 201, created.text
        classes[side] = created.json()
    w.class_a, w.class_b = classes["a"]["class_id"], classes["b"]["class_id"]
    w.session_a = classes["a"]["sessions"][0]["session_id"]
    w.session_b = classes["b"]["sessions"][0]["session_id"]
    w.starts_at = classes["a"]["sessions"][0]["starts_at"]
    for session_id in (w.session_a, w.session_b):
        wait_until(lambda s=session_id: _known(w.rpc.enrollment.get_session, s), timeout=20,
                   message="enrollment to know the sessions")
    w.headers.update({
        "committee_admin": _token(w, "committee_admin", "CA"),
        "org_admin": _token(w, "org_admin", "CA01"),
        "checkin": _token(w, "checkin", classes=[w.class_a]),
        "system": _token(w, "system")})
    w.enrolment = {no: w.nominate(w.class_a, no) for no in ("A1", "A2", "A3", "B1")}
    w.enrolment["B2"] = w.nominate(w.class_b, "B2")
    for no, session_id in (("A1", w.session_a), ("B2", w.session_b)):
        answer = w.call("POST", f"/api/v1/sessions/{session_id}/attendance",
                        json={"member_no": no, "at": w.starts_at})
        assert answer.status_code == 201, answer.text
    # A filing of each committee's class plan, filed as the organiser.
    w.filing = {}
    for side, class_id, org in (("a", w.class_a, "CA"), ("b", w.class_b, "CB")):
        organiser = _token(w, "committee_admin", org)

        def file_plan(class_id=class_id, organiser=organiser):
            answer = requests.post(f"{w.base}/api/v1/classes/{class_id}/filings",
                                   headers=organiser, json={"kind": "plan"}, timeout=30)
            return answer if answer.status_code != 404 else None

        filed = wait_until(file_plan, timeout=20, message="reporting to know the class")
        assert filed.status_code == 201, filed.text
        w.filing[side] = filed.json()["filing_id"]
    wait_until(lambda: _reported(w), timeout=30, message="reporting to see both committees")
    return w


def _token(w, role, org=None, classes=None):
    return {"Authorization": f"Bearer {create(role, org, classes, database_url=w.gateway_db)}"}


def _known(call, key):
    try:
        return call(key)
    except Exception:  # noqa: BLE001 - not there yet
        return None


def _reported(w):
    answer = w.call("GET", "/api/v1/reports/personal-archive",
                    params={"member_no": "B2", "year": datetime.now(SHANGHAI).year})
    return answer.status_code == 200 and "CB01" in answer.text


# -- the matrix --------------------------------------------------------------------------------
# Each endpoint: a request inside committee A's grassroots organisation CA01 (so inside the
# committee_admin's and the org_admin's scope, and on the checkin token's class), one outside
# (committee B), and which roles are let in. A request is (method, path, kwargs) made from the
# world; a write also names what to re-read to show a refusal changed nothing.

YEAR = datetime.now(SHANGHAI).year
ADMINS = {"district_admin", "committee_admin", "org_admin"}
ALL = set(ROLES)


def at(w):
    return w.starts_at


ENDPOINTS = {
    # people
    "members of an organisation": dict(
        inside=lambda w: ("GET", "/api/v1/organisations/CA01/members", {}),
        outside=lambda w: ("GET", "/api/v1/organisations/CB01/members", {}),
        allowed=ADMINS),
    "a member": dict(
        inside=lambda w: ("GET", "/api/v1/members/A1", {}),
        outside=lambda w: ("GET", "/api/v1/members/B1", {}),
        allowed=ADMINS),
    "a member's study hours": dict(
        inside=lambda w: ("GET", "/api/v1/members/A1/study-hours", {}),
        outside=lambda w: ("GET", "/api/v1/members/B1/study-hours", {}),
        allowed=ADMINS),
    # enrolments
    "a class's enrolments": dict(
        inside=lambda w: ("GET", f"/api/v1/classes/{w.class_a}/enrolments",
                          {"params": {"within": "CA01"}}),
        outside=lambda w: ("GET", f"/api/v1/classes/{w.class_b}/enrolments",
                           {"params": {"within": "CB01"}}),
        allowed=ADMINS | {"checkin"}),
    "an enrolment": dict(
        inside=lambda w: ("GET", f"/api/v1/enrolments/{w.enrolment['A1']}", {}),
        outside=lambda w: ("GET", f"/api/v1/enrolments/{w.enrolment['B1']}", {}),
        allowed=ADMINS),
    "nominate": dict(
        inside=lambda w: ("POST", f"/api/v1/classes/{w.class_a}/enrolments",
                          {"json": {"member_nos": [next(w.spare["A"])]}}),
        outside=lambda w: ("POST", f"/api/v1/classes/{w.class_a}/enrolments",
                           {"json": {"member_nos": [next(w.spare["B"])]}}),
        allowed=ADMINS, state=lambda w, req: _enrolled(w, req[2]["json"]["member_nos"][0])),
    "withdraw": dict(
        inside=lambda w: ("POST", f"/api/v1/enrolments/{w.fresh_enrolment('A')}/withdraw", {}),
        outside=lambda w: ("POST", f"/api/v1/enrolments/{w.fresh_enrolment('B')}/withdraw",
                           {}),
        allowed=ADMINS, state=lambda w, req: _enrolment_status(w, req[1])),
    # attendance
    "check in": dict(
        inside=lambda w: ("POST", f"/api/v1/sessions/{w.session_a}/attendance",
                          {"json": {"member_no": "A1", "at": at(w)}}),
        outside=lambda w: ("POST", f"/api/v1/sessions/{w.session_b}/attendance",
                           {"json": {"member_no": "B2", "status": "leave", "at": at(w)}}),
        allowed=ADMINS | {"checkin"}, state=lambda w, req: _history(w, w.session_b, "B2")),
    "check in a batch": dict(
        inside=lambda w: ("POST", f"/api/v1/sessions/{w.session_a}/attendance/batch",
                          {"json": {"entries": [{"member_no": "A1", "at": at(w)}]}}),
        outside=lambda w: ("POST", f"/api/v1/sessions/{w.session_b}/attendance/batch",
                           {"json": {"entries": [{"member_no": "B2", "status": "leave",
                                                  "at": at(w)}]}}),
        allowed=ADMINS | {"checkin"}, state=lambda w, req: _history(w, w.session_b, "B2")),
    "correct attendance": dict(
        inside=lambda w: ("POST", f"/api/v1/sessions/{w.session_a}/attendance/corrections",
                          {"json": {"member_no": "A2", "status": "leave", "reason": "事假"}}),
        outside=lambda w: ("POST", f"/api/v1/sessions/{w.session_b}/attendance/corrections",
                           {"json": {"member_no": "B2", "status": "absent",
                                     "reason": "未到"}}),
        allowed=ADMINS, state=lambda w, req: _history(w, w.session_b, "B2")),
    "a session's attendance": dict(
        inside=lambda w: ("GET", f"/api/v1/sessions/{w.session_a}/attendance",
                          {"params": {"within": "CA01"}}),
        outside=lambda w: ("GET", f"/api/v1/sessions/{w.session_b}/attendance",
                           {"params": {"within": "CB01"}}),
        allowed=ADMINS | {"checkin"}),
    "one person's attendance log": dict(
        inside=lambda w: ("GET", f"/api/v1/sessions/{w.session_a}/attendance/A1", {}),
        outside=lambda w: ("GET", f"/api/v1/sessions/{w.session_b}/attendance/B2", {}),
        allowed=ADMINS | {"checkin"}),
    "anomalies": dict(
        inside=lambda w: ("GET", "/api/v1/anomalies", {"params": {"within": "CA01"}}),
        outside=lambda w: ("GET", "/api/v1/anomalies", {"params": {"within": "CB01"}}),
        allowed=ADMINS),
    # reports
    "annual summary": dict(
        inside=lambda w: ("GET", "/api/v1/reports/annual-summary",
                          {"params": {"year": YEAR, "org_code": "CA01"}}),
        outside=lambda w: ("GET", "/api/v1/reports/annual-summary",
                           {"params": {"year": YEAR, "org_code": "CB01"}}),
        allowed=ADMINS),
    "coverage gaps": dict(
        inside=lambda w: ("GET", "/api/v1/reports/coverage-gaps",
                          {"params": {"year": YEAR, "org_code": "CA01", "format": "csv"}}),
        outside=lambda w: ("GET", "/api/v1/reports/coverage-gaps",
                           {"params": {"year": YEAR, "org_code": "CB01", "format": "csv"}}),
        allowed=ADMINS),
    "filing status report": dict(
        inside=lambda w: ("GET", "/api/v1/reports/filing-status",
                          {"params": {"year": YEAR, "org_code": "CA01"}}),
        outside=lambda w: ("GET", "/api/v1/reports/filing-status",
                           {"params": {"year": YEAR, "org_code": "CB01"}}),
        allowed=ADMINS),
    "personal archive": dict(
        inside=lambda w: ("GET", "/api/v1/reports/personal-archive",
                          {"params": {"member_no": "A1", "year": YEAR}}),
        outside=lambda w: ("GET", "/api/v1/reports/personal-archive",
                           {"params": {"member_no": "B2", "year": YEAR}}),
        allowed=ADMINS),
    # filings: what the committee organises and what its organisations file
    "a class's filings": dict(
        inside=lambda w: ("GET", f"/api/v1/classes/{w.class_a}/filings", {}),
        outside=lambda w: ("GET", f"/api/v1/classes/{w.class_b}/filings", {}),
        allowed={"district_admin", "committee_admin"}),
    "a filing": dict(
        inside=lambda w: ("GET", f"/api/v1/filings/{w.filing['a']}", {}),
        outside=lambda w: ("GET", f"/api/v1/filings/{w.filing['b']}", {}),
        allowed={"district_admin", "committee_admin"}),
    "a filing's document": dict(
        inside=lambda w: ("GET", f"/api/v1/filings/{w.filing['a']}/document", {}),
        outside=lambda w: ("GET", f"/api/v1/filings/{w.filing['b']}/document", {}),
        allowed={"district_admin", "committee_admin"}),
    "the filing-status page": dict(
        inside=lambda w: ("GET", "/api/v1/filings/status",
                          {"params": {"year": YEAR, "org_code": "CA01"}}),
        outside=lambda w: ("GET", "/api/v1/filings/status",
                           {"params": {"year": YEAR, "org_code": "CB01"}}),
        allowed=ADMINS),
    "file a class record": dict(
        inside=None,   # filing changes the world; the successful path is tested elsewhere
        outside=lambda w: ("POST", f"/api/v1/classes/{w.class_b}/filings",
                           {"json": {"kind": "record"}}),
        allowed={"district_admin"}, state=lambda w, req: _filings(w, w.class_b)),
    "acknowledge a filing": dict(
        inside=None,
        outside=lambda w: ("POST", f"/api/v1/filings/{w.filing['b']}/acknowledge", {}),
        allowed={"district_admin"}, state=lambda w, req: _filings(w, w.class_b)),
    "return a filing": dict(
        inside=None,
        outside=lambda w: ("POST", f"/api/v1/filings/{w.filing['b']}/return",
                           {"json": {"reason": "请补充"}}),
        allowed={"district_admin"}, state=lambda w, req: _filings(w, w.class_b)),
}


def _enrolled(w, member_no):
    items = w.call("GET", f"/api/v1/classes/{w.class_a}/enrolments",
                   params={"per_page": 200}).json()["items"]
    return sorted(json.dumps(e, sort_keys=True) for e in items if e["member_no"] == member_no)


def _enrolment_status(w, path):
    enrollment_id = path.split("/")[-2]
    return w.call("GET", f"/api/v1/enrolments/{enrollment_id}").json()


def _history(w, session_id, member_no):
    return w.call("GET", f"/api/v1/sessions/{session_id}/attendance/{member_no}").json()


def _filings(w, class_id):
    return w.call("GET", f"/api/v1/classes/{class_id}/filings").json()


CASES = [pytest.param(role, name, side, id=f"{role}-{name}-{side}")
         for name, spec in ENDPOINTS.items() for side in ("inside", "outside")
         if spec[side] is not None for role in ROLES
         # the district has no outside; where only the refusal is tested, it is left out
         if spec["inside"] is not None or role != "district_admin"]


@pytest.mark.parametrize("role,name,side", CASES)
def test_the_matrix(world, role, name, side):
    spec = ENDPOINTS[name]
    request = spec[side](world)
    method, path, kwargs = request
    # Outside committee A only the district reaches; inside, the roles the endpoint allows.
    allowed = role in spec["allowed"] and (side == "inside" or role == "district_admin")
    before = spec["state"](world, request) if "state" in spec and not allowed else None
    answer = world.call(method, path, role, **kwargs)
    if allowed:
        assert 200 <= answer.status_code < 300, (answer.status_code, answer.text)
        return
    assert answer.status_code in (403, 404), (answer.status_code, answer.text)
    assert answer.headers["Content-Type"] == "application/problem+json"
    if before is not None:
        assert spec["state"](world, request) == before, "a refused write changed something"


# -- what must never leak ---------------------------------------------------------------------

@pytest.mark.parametrize("report,params", [
    ("annual-summary", {"year": YEAR}),
    ("coverage-gaps", {"year": YEAR}),
    ("filing-status", {"year": YEAR}),
    ("class-record", {"class_id": "class_b"}),
])
@pytest.mark.parametrize("role", ["committee_admin", "org_admin"])
def test_reports_of_committee_a_hold_nothing_of_committee_b(world, role, report, params):
    params = {k: getattr(world, v) if v == "class_b" else v for k, v in params.items()}
    mine = world.call("GET", f"/api/v1/reports/{report}", role, params=params)
    assert mine.status_code == 200, mine.text
    assert not B_PEOPLE.findall(mine.text), mine.text[:1000]
    assert '"CB01"' not in mine.text and "乙镇某企业" not in mine.text
    if report != "class-record":   # a class record names its organiser, whoever reads it
        assert '"CB"' not in mine.text
    district = world.call("GET", f"/api/v1/reports/{report}", params=params)
    if report != "filing-status":   # the district's own report does show B (not vacuous)
        assert B_PEOPLE.findall(district.text) or '"CB01"' in district.text or \
            '"CB"' in district.text, district.text[:500]


@pytest.mark.parametrize("role", ["committee_admin", "org_admin"])
def test_lists_of_committee_a_hold_nothing_of_committee_b(world, role):
    for path in (f"/api/v1/classes/{world.class_a}/enrolments",
                 f"/api/v1/sessions/{world.session_a}/attendance", "/api/v1/anomalies"):
        answer = world.call("GET", path, role, params={"per_page": 200})
        assert answer.status_code == 200, answer.text
        members = {item.get("member_no") for item in answer.json()["items"]}
        assert not {m for m in members if m and m.startswith("B")}, (path, members)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", [
    "/api/v1/programs", "/api/v1/classes", "/api/v1/classes/{class_a}",
    "/api/v1/classes/{class_b}", "/api/v1/sessions/{session_b}",
    "/api/v1/calendars/classes/{class_b}.ics", "/api/v1/classes/{class_b}/places",
    "/api/v1/organisations",
])
def test_every_role_reads_programs_classes_sessions_and_calendars(world, role, path):
    answer = world.call("GET", path.format(**vars(world)), role)
    assert answer.status_code == 200, answer.text
