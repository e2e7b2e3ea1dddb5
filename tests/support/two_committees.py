"""The two committees' world, built once per test module behind the public door: the district
FX with committees CA and CB, grassroots organisations under each, members, a published class
of each committee with a session today, enrolments of people from A and B, a check-in on each
side, a filed class plan of each committee, and an anomaly flag for one person of each side.

Who may see what is tested against it (test_access_matrix.py); the OpenAPI run generates its
requests against it (test_openapi_contract.py)."""

from datetime import datetime, timedelta
from itertools import count

import pytest
import requests

from services.gateway.tokens import create
from services.kit.clock import SHANGHAI
from tests.support.classes import core_course, members_class_today
from tests.support.system import known, whole_system
from tests.support.waiting import wait_until

ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential"),
        ("CA02", "甲镇某村党支部", "CA", "grassroots", "village"),
        ("CB", "乙镇党委", "FX", "committee", ""),
        ("CB01", "乙镇某企业党支部", "CB", "grassroots", "two_new")]
MEMBERS = {"A1": "CA01", "A2": "CA01", "A3": "CA02", "B1": "CB01", "B2": "CB01"}
SPARE = 14   # fresh people per side for writes that must succeed inside the scope
ROLES = ("district_admin", "committee_admin", "org_admin", "checkin", "system")


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


class TwoCommittees:
    """The world: its base URL, ids, tokens per role, and fresh people to enrol."""

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
def two_committees(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield _build(TwoCommittees(base, database_urls["gateway"], rpc))


def _build(w: TwoCommittees) -> TwoCommittees:
    w.rpc.enrollment.import_orgs(org_rows())
    w.rpc.enrollment.import_members(member_rows())
    w.headers["district_admin"] = _token(w, "district_admin")
    classes = {}
    course_id = core_course(w.rpc.scheduling)
    for side, org in (("a", "CA"), ("b", "CB")):
        program = w.call("POST", "/api/v1/programs", json={
            "year": datetime.now(SHANGHAI).year, "track": "members", "organiser_org_code": org,
            "name": f"{org}党员培训", "target_person_times": 100})
        assert program.status_code == 201, program.text
        created = w.call("POST", "/api/v1/classes",
                         json=members_class_today(program.json()["program_id"],
                                                  f"{org}党员示范班", course_id))
        assert created.status_code == 201, created.text
        classes[side] = created.json()
    w.class_a, w.class_b = classes["a"]["class_id"], classes["b"]["class_id"]
    w.session_a = classes["a"]["sessions"][0]["session_id"]
    w.session_b = classes["b"]["sessions"][0]["session_id"]
    w.starts_at = classes["a"]["sessions"][0]["starts_at"]
    for session_id in (w.session_a, w.session_b):
        wait_until(lambda s=session_id: known(w.rpc.enrollment.get_session, s), timeout=20,
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
    # One person of each side checked in three hours before the session starts: a flag each,
    # under the person's own organisation.
    w.flagged = {side: next(w.spare[side]) for side in ("A", "B")}
    early = (datetime.fromisoformat(w.starts_at) - timedelta(hours=3)).isoformat()
    for member_no in w.flagged.values():
        w.nominate(w.class_a, member_no)
        answer = w.call("POST", f"/api/v1/sessions/{w.session_a}/attendance",
                        json={"member_no": member_no, "at": early})
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



def _reported(w):
    answer = w.call("GET", "/api/v1/reports/personal-archive",
                    params={"member_no": "B2", "year": datetime.now(SHANGHAI).year})
    return answer.status_code == 200 and "CB01" in answer.text
