"""Who may do what, through the public door: every role × every endpoint that reads or changes
people, enrolments, attendance, reports or filings × a target inside and outside its scope, on
the two committees' world (tests/support/two_committees.py). Outside the scope answers 403 (or
404) and changes nothing; inside answers 2xx; a committee's reports and lists hold nothing of
the other committee, and do hold its own.
"""

import json
import re
from datetime import datetime
from itertools import count

import pytest

from services.gateway.tokens import list_users
from services.kit.clock import SHANGHAI
from tests.support.two_committees import ROLES

B_PEOPLE = re.compile(r'"B\d+"')


# -- the matrix --------------------------------------------------------------------------------
# Each endpoint: a request inside committee A's grassroots organisation CA01 (so inside the
# committee_admin's and the org_admin's scope, and on the checkin token's class), one outside
# (committee B), and which roles are let in. A request is (method, path, kwargs) made from the
# world; a write also names what to re-read to show a refusal changed nothing.

YEAR = datetime.now(SHANGHAI).year
ADMINS = {"district_admin", "committee_admin", "org_admin"}
ALL = set(ROLES)
FRESH = count()     # user names for accounts opened inside the matrix


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
    "a filing's attachment": dict(
        inside=None,   # downloaded inside the subtree in tests/integration/test_filing_pages.py
        outside=lambda w: ("GET", f"/api/v1/filings/{w.filing['b']}/attachments/"
                                  "00000000-0000-4000-8000-000000000000", {}),
        allowed={"district_admin"}),
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
    # accounts and the audit trail: the district's only (pages, so a refusal is HTML)
    "the accounts page": dict(
        inside=lambda w: ("GET", "/admin/users", {}), outside=None, allowed={"district_admin"}),
    "the audit trail": dict(
        inside=lambda w: ("GET", "/admin/audit", {}), outside=None, allowed={"district_admin"}),
    "open an account": dict(
        inside=lambda w: ("POST", "/admin/users", {"data": {
            "username": f"matrix{next(FRESH)}", "role": "org_admin", "org_code": "CA01",
            "password": "matrix password 2026"}}),
        outside=None, allowed={"district_admin"}, state=lambda w, req: _users(w)),
    # the clerk's class and nomination pages: class_a is organised by CA, so CA01's org_admin
    # nominates into it but does not organise it
    "the new-class page": dict(
        inside=lambda w: ("GET", "/admin/classes/new", {}), outside=None, allowed=ADMINS),
    "a class's editor page": dict(
        inside=lambda w: ("GET", f"/admin/classes/{w.class_a}/edit", {}),
        outside=lambda w: ("GET", f"/admin/classes/{w.class_b}/edit", {}),
        allowed={"district_admin", "committee_admin"}),
    "cancel a class on its page": dict(
        inside=None,
        outside=lambda w: ("POST", f"/admin/classes/{w.class_b}/cancel",
                           {"data": {"reason": "矩阵"}}),
        allowed={"district_admin"}, state=lambda w, req: _class(w, w.class_b)),
    "add a session on a class's page": dict(
        inside=None,
        outside=lambda w: ("POST", f"/admin/classes/{w.class_b}/sessions", {"data": {
            "course_id": w.rpc.scheduling.list_courses(per_page=1)["items"][0]["course_id"],
            "day": w.starts_at[:10], "starts": "20:00", "ends": "21:00"}}),
        allowed={"district_admin"}, state=lambda w, req: _class(w, w.class_b)),
    "a class's nominations page": dict(
        inside=lambda w: ("GET", f"/admin/classes/{w.class_a}/nominations", {}),
        outside=lambda w: ("GET", f"/admin/classes/{w.class_b}/nominations", {}),
        allowed=ADMINS),
    "a class's 报名表 template": dict(
        inside=lambda w: ("GET", f"/admin/classes/{w.class_a}/nominations/template.xlsx", {}),
        outside=lambda w: ("GET", f"/admin/classes/{w.class_b}/nominations/template.xlsx", {}),
        allowed=ADMINS),
    "nominate on a class's page": dict(
        inside=lambda w: ("POST", f"/admin/classes/{w.class_a}/nominations",
                          {"data": {"member_no": [next(w.spare["A"])]}}),
        outside=lambda w: ("POST", f"/admin/classes/{w.class_a}/nominations",
                           {"data": {"member_no": [next(w.spare["B"])]}}),
        allowed=ADMINS, state=lambda w, req: _enrolled(w, req[2]["data"]["member_no"][0])),
    "withdraw on a class's page": dict(
        inside=None,
        outside=lambda w: ("POST", f"/admin/enrolments/{w.enrolment['B2']}/withdraw",
                           {"data": {"reason": "矩阵"}}),
        allowed={"district_admin"}, state=lambda w, req: _enrolment_status(w, req[1])),
    "review on a class's page": dict(
        inside=None,
        outside=lambda w: ("POST", f"/admin/enrolments/{w.enrolment['B2']}/reject",
                           {"data": {"reason": "矩阵"}}),
        allowed={"district_admin"}, state=lambda w, req: _enrolment_status(w, req[1])),
    # check-in and certificates: a checkin token for its class, an admin for a class it may
    # reach (class_a's organiser CA is above CA01), each for its own people
    "the check-in page": dict(
        inside=lambda w: ("GET", f"/admin/sessions/{w.session_a}/check-in", {}),
        outside=lambda w: ("GET", f"/admin/sessions/{w.session_b}/check-in", {}),
        allowed=ADMINS | {"checkin"}),
    "the sign-in sheet": dict(
        inside=lambda w: ("GET", f"/admin/sessions/{w.session_a}/sign-in-sheet.pdf", {}),
        outside=lambda w: ("GET", f"/admin/sessions/{w.session_b}/sign-in-sheet.pdf", {}),
        allowed=ADMINS | {"checkin"}),
    "check in on the page": dict(
        inside=lambda w: ("POST", f"/admin/sessions/{w.session_a}/check-in",
                          {"data": {"member_no": "A1"}}),
        outside=lambda w: ("POST", f"/admin/sessions/{w.session_b}/check-in",
                           {"data": {"member_no": "B2", "action": "leave"}}),
        allowed=ADMINS | {"checkin"}, state=lambda w, req: _history(w, w.session_b, "B2")),
    "an enrolment's certificate": dict(
        inside=None,   # reaches the completion rule: test_certificates_inside_reach_the_rule
        outside=lambda w: ("GET", f"/api/v1/enrolments/{w.enrolment['B1']}/certificate.pdf",
                           {}),
        allowed={"district_admin"}),
    "a class's certificates, printed together": dict(
        inside=None,
        outside=lambda w: ("GET", f"/admin/classes/{w.class_b}/certificates.pdf", {}),
        allowed={"district_admin"}),
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


def _class(w, class_id):
    return w.call("GET", f"/api/v1/classes/{class_id}").json()


def _users(w):
    return [u["username"] for u in list_users(database_url=w.gateway_db)]


CASES = [pytest.param(role, name, side, id=f"{role}-{name}-{side}")
         for name, spec in ENDPOINTS.items() for side in ("inside", "outside")
         if spec[side] is not None for role in ROLES
         # the district has no outside; where only the refusal is tested, it is left out
         if spec["inside"] is not None or role != "district_admin"]


@pytest.mark.parametrize("role,name,side", CASES)
def test_the_matrix(two_committees, role, name, side):
    spec = ENDPOINTS[name]
    request = spec[side](two_committees)
    method, path, kwargs = request
    # Outside committee A only the district reaches; inside, the roles the endpoint allows.
    allowed = role in spec["allowed"] and (side == "inside" or role == "district_admin")
    state = spec.get("state") if not allowed else None
    before = state(two_committees, request) if state else None
    answer = two_committees.call(method, path, role, **kwargs)
    if allowed:
        assert 200 <= answer.status_code < 300, (answer.status_code, answer.text)
        return
    assert answer.status_code in (403, 404), (answer.status_code, answer.text)
    assert answer.headers["Content-Type"] == ("text/html; charset=utf-8"
                                              if path.startswith("/admin/")
                                              else "application/problem+json")
    if state:
        assert state(two_committees, request) == before, "a refused write changed something"


# -- what must never leak ---------------------------------------------------------------------

@pytest.mark.parametrize("report,params", [
    ("annual-summary", {"year": YEAR}),
    ("coverage-gaps", {"year": YEAR}),
    ("filing-status", {"year": YEAR}),
    ("class-record", {"class_id": "class_b"}),
])
@pytest.mark.parametrize("role", ["committee_admin", "org_admin"])
def test_reports_of_committee_a_hold_nothing_of_committee_b(two_committees, role, report,
                                                            params):
    params = {k: getattr(two_committees, v) if v == "class_b" else v for k, v in params.items()}
    mine = two_committees.call("GET", f"/api/v1/reports/{report}", role, params=params)
    assert mine.status_code == 200, mine.text
    assert not B_PEOPLE.findall(mine.text), mine.text[:1000]
    assert '"CB01"' not in mine.text and "乙镇某企业" not in mine.text
    if report != "class-record":   # a class record names its organiser, whoever reads it
        assert '"CB"' not in mine.text
    district = two_committees.call("GET", f"/api/v1/reports/{report}", params=params)
    if report != "filing-status":   # the district's own report does show B (not vacuous)
        assert B_PEOPLE.findall(district.text) or '"CB01"' in district.text or \
            '"CB"' in district.text, district.text[:500]


@pytest.mark.parametrize("role", ["committee_admin", "org_admin"])
@pytest.mark.parametrize("path,own", [
    ("/api/v1/classes/{class_a}/enrolments", "A1"),
    ("/api/v1/sessions/{session_a}/attendance", "A1"),
    ("/api/v1/anomalies", "{flagged[A]}"),
])
def test_lists_of_committee_a_hold_its_own_people_and_nothing_of_committee_b(
        two_committees, role, path, own):
    where = vars(two_committees)
    answer = two_committees.call("GET", path.format(**where), role, params={"per_page": 200})
    assert answer.status_code == 200, answer.text
    members = {item.get("member_no") for item in answer.json()["items"]}
    assert own.format(**where) in members, (path, members)
    assert not {m for m in members if m and m.startswith("B")}, (path, members)


def test_the_district_sees_the_anomalies_of_both_committees(two_committees):
    answer = two_committees.call("GET", "/api/v1/anomalies", params={"per_page": 200})
    assert answer.status_code == 200, answer.text
    kinds = {f["member_no"]: f["kind"] for f in answer.json()["items"]}
    assert {no: kinds.get(no) for no in two_committees.flagged.values()} == {
        no: "checkin_outside_time" for no in two_committees.flagged.values()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", [
    "/api/v1/programs", "/api/v1/classes", "/api/v1/classes/{class_a}",
    "/api/v1/classes/{class_b}", "/api/v1/sessions/{session_b}",
    "/api/v1/calendars/classes/{class_b}.ics", "/api/v1/classes/{class_b}/places",
    "/api/v1/organisations",
])
def test_every_role_reads_programs_classes_sessions_and_calendars(two_committees, role, path):
    answer = two_committees.call("GET", path.format(**vars(two_committees)), role)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("role", ROLES)
def test_certificates_inside_reach_the_rule(two_committees, role):
    """Nobody in this world has completed a class: an admin inside the subtree gets as far as
    the completion rule (409), anyone else is refused first (403)."""
    for path in (f"/api/v1/enrolments/{two_committees.enrolment['A1']}/certificate.pdf",
                 f"/admin/classes/{two_committees.class_a}/certificates.pdf"):
        answer = two_committees.call("GET", path, role)
        assert answer.status_code == (409 if role in ADMINS else 403), (path, answer.text)
