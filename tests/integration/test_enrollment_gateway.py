"""Enrollment through the gateway: tokens limited to a subtree or to classes, nominations,
check-in and corrections over HTTP, 403 (and nothing changed) outside one's reach."""

import uuid
from datetime import datetime, time, timedelta

import pytest
import requests

from services.enrollment.domain import SHANGHAI
from services.enrollment.service import EnrollmentService
from services.gateway.service import GatewayService
from services.gateway.tokens import create
from tests.support.classes import (
    class_published_data,
    scheduling_event,
    session_scheduled_data,
)
from tests.support.scheduling_stand_in import SchedulingStandIn
from tests.support.system import free_port
from tests.support.waiting import wait_until

ORGS = [
    {"row": 2, "org_code": "FX", "name": "区委", "parent_code": "", "kind": "committee",
     "sector": ""},
    {"row": 3, "org_code": "FX01", "name": "南桥镇党委", "parent_code": "FX",
     "kind": "committee", "sector": ""},
    {"row": 4, "org_code": "FX0102", "name": "某居民区党总支", "parent_code": "FX01",
     "kind": "grassroots", "sector": "residential"},
    {"row": 5, "org_code": "FX02", "name": "区国资委党委", "parent_code": "FX",
     "kind": "committee", "sector": ""},
    {"row": 6, "org_code": "FX0201", "name": "某国企党委", "parent_code": "FX02",
     "kind": "grassroots", "sector": "soe"},
]
MEMBERS = [
    {"row": 2, "member_no": "A1", "name": "甲", "org_code": "FX0102", "joined_on": "2010-07-01",
     "employment": "enterprise"},
    {"row": 3, "member_no": "A2", "name": "乙", "org_code": "FX0102", "joined_on": "2010-07-01",
     "employment": "enterprise"},
    {"row": 4, "member_no": "B1", "name": "丙", "org_code": "FX0201", "joined_on": "2010-07-01",
     "employment": "enterprise"},
]


@pytest.fixture
def gateway(runner_factory, service_config, database_urls, rpc, publish):
    port = free_port()
    config = {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    runner_factory(config, EnrollmentService, GatewayService).start()
    rpc.enrollment.import_orgs(ORGS)
    rpc.enrollment.import_members(MEMBERS)
    today = datetime.now(SHANGHAI).date()
    class_id = str(uuid.uuid4())
    data = class_published_data(class_id)
    session = session_scheduled_data(class_id)
    starts = datetime.combine(today, time(9), SHANGHAI)
    session.update(starts_at=starts, ends_at=starts + timedelta(minutes=90))
    scheduling_event(publish, "class_published", data)
    scheduling_event(publish, "session_scheduled", session)
    wait_until(lambda: _has_session(rpc, session["session_id"]), message="the session")

    def token(role, org=None, classes=None):
        value = create(role, org, classes, database_url=database_urls["gateway"])
        return {"Authorization": f"Bearer {value}"}

    return f"http://127.0.0.1:{port}", token, class_id, session


def _has_session(rpc, session_id):
    try:
        return rpc.enrollment.get_session(session_id)
    except Exception:  # noqa: BLE001
        return None


def test_a_committee_nominates_its_own_people_and_no_one_else(gateway):
    base, token, class_id, _ = gateway
    committee = token("committee_admin", "FX01")
    answer = requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=committee,
                           json={"member_nos": ["A1", "B1"]}, timeout=10)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert [e["member_no"] for e in body["enrolled"]] == ["A1"]
    assert body["refused"][0]["member_no"] == "B1" and body["refused"][0]["rule"] == "scope"

    listed = requests.get(f"{base}/api/v1/classes/{class_id}/enrolments", headers=committee,
                          timeout=10).json()
    assert [e["member_no"] for e in listed["items"]] == ["A1"]
    assert set(listed) == {"items", "total", "page", "per_page"}


def test_people_outside_the_subtree_are_forbidden_and_nothing_changes(gateway):
    base, token, class_id, _ = gateway
    district = token("district_admin")
    enrolled = requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=district,
                             json={"member_nos": ["B1"]}, timeout=10).json()["enrolled"][0]
    other = token("committee_admin", "FX01")
    assert requests.get(f"{base}/api/v1/members/B1", headers=other, timeout=10
                        ).status_code == 403
    assert requests.get(f"{base}/api/v1/members/A1", headers=other, timeout=10
                        ).json()["org_code"] == "FX0102"
    refused = requests.post(f"{base}/api/v1/enrolments/{enrolled['enrollment_id']}/withdraw",
                            headers=other, timeout=10)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    still = requests.get(f"{base}/api/v1/enrolments/{enrolled['enrollment_id']}",
                         headers=district, timeout=10).json()
    assert still["status"] == "confirmed"
    org_admin = token("org_admin", "FX0201")
    withdrawn = requests.post(f"{base}/api/v1/enrolments/{enrolled['enrollment_id']}/withdraw",
                              headers=org_admin, timeout=10)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_a_checkin_token_records_attendance_for_its_classes_only(gateway):
    base, token, class_id, session = gateway
    district = token("district_admin")
    requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=district,
                  json={"member_nos": ["A1", "A2"]}, timeout=10)
    desk = token("checkin", classes=[class_id])
    url = f"{base}/api/v1/sessions/{session['session_id']}/attendance"
    answer = requests.post(url, headers=desk, timeout=10, json={
        "member_no": "A1", "at": session["starts_at"].isoformat()})
    assert answer.status_code == 201, answer.text
    assert answer.json()["entry"]["status"] == "present"
    # The attendance log keeps who made the entry (the token, by its id) and from where.
    assert answer.json()["entry"]["recorded_by"].startswith("token:")
    assert answer.json()["entry"]["device"] == "api"

    elsewhere = token("checkin", classes=[str(uuid.uuid4())])
    assert requests.post(url, headers=elsewhere, json={"member_no": "A2"}, timeout=10
                         ).status_code == 403
    assert requests.post(f"{url}/corrections", headers=desk, timeout=10, json={
        "member_no": "A2", "status": "leave", "reason": "事假"}).status_code == 403

    corrected = requests.post(f"{url}/corrections", headers=district, timeout=10, json={
        "member_no": "A2", "status": "leave", "reason": "事假"})
    assert corrected.status_code == 201 and corrected.json()["entry"]["correction"] is False
    assert corrected.json()["entry"]["recorded_by"] != answer.json()["entry"]["recorded_by"]
    sheet = requests.get(url, headers=desk, timeout=10).json()
    assert {i["member_no"]: i["attendance"] for i in sheet["items"]} == {
        "A1": "present", "A2": "leave"}
    assert sheet["counts"] == {"present": 1, "leave": 1}


def test_a_checkin_far_from_the_session_shows_among_the_anomalies(gateway):
    base, token, class_id, session = gateway
    district = token("district_admin")
    requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=district,
                  json={"member_nos": ["A1"]}, timeout=10)
    late = session["ends_at"] + timedelta(hours=3)
    requests.post(f"{base}/api/v1/sessions/{session['session_id']}/attendance",
                  headers=district, json={"member_no": "A1", "at": late.isoformat()},
                  timeout=10)
    flags = requests.get(f"{base}/api/v1/anomalies", headers=token("committee_admin", "FX01"),
                         params={"class_id": class_id}, timeout=10).json()
    assert [f["kind"] for f in flags["items"]] == ["checkin_outside_time"]
    hidden = requests.get(f"{base}/api/v1/anomalies", headers=token("org_admin", "FX0201"),
                          params={"class_id": class_id}, timeout=10).json()
    assert hidden["total"] == 0


def test_organisations_and_places_are_open_to_every_role(gateway):
    base, token, class_id, _ = gateway
    desk = token("checkin", classes=[class_id])
    orgs = requests.get(f"{base}/api/v1/organisations", headers=desk,
                        params={"within": "FX01"}, timeout=10).json()
    assert [o["org_code"] for o in orgs["items"]] == ["FX01", "FX0102"]
    org = requests.get(f"{base}/api/v1/organisations/FX0102", headers=desk, timeout=10).json()
    assert org["ancestors"] == ["FX0102", "FX01", "FX"]
    places = requests.get(f"{base}/api/v1/classes/{class_id}/places", headers=desk,
                          timeout=10).json()
    assert places["places"]["offline_capacity"] == 50
    assert requests.get(f"{base}/api/v1/organisations/FX0102/members", headers=desk,
                        timeout=10).status_code == 403


def test_a_quota_is_set_by_the_district_and_holds(gateway):
    base, token, class_id, _ = gateway
    committee = token("committee_admin", "FX01")
    url = f"{base}/api/v1/classes/{class_id}/quotas/FX01"
    assert requests.put(url, headers=committee, json={"seats": 1}, timeout=10
                        ).status_code == 403
    assert requests.put(url, headers=token("district_admin"), json={"seats": 1}, timeout=10
                        ).status_code == 200
    answer = requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=committee,
                           json={"member_nos": ["A1", "A2"]}, timeout=10).json()
    assert answer["refused"] == [{"member_no": "A2", "rule": "quota", "reason":
                                  "the quota of FX01 for this class (1) is used up"}]
    full = requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=committee,
                         json={"member_nos": ["A2"]}, timeout=10)
    assert full.status_code == 409
    assert full.headers["Content-Type"] == "application/problem+json"
    assert full.json()["errors"] == {"A2": ["the quota of FX01 for this class (1) is used up"]}
    bad = requests.put(url, headers=token("district_admin"), json={"seats": -1}, timeout=10)
    assert bad.status_code == 422 and "seats" in bad.json()["errors"]


def test_a_batch_of_check_ins_follows_the_rules_of_one(gateway):
    base, token, class_id, session = gateway
    district = token("district_admin")
    requests.post(f"{base}/api/v1/classes/{class_id}/enrolments", headers=district,
                  json={"member_nos": ["A1", "A2", "B1"]}, timeout=10)
    url = f"{base}/api/v1/sessions/{session['session_id']}/attendance/batch"
    at = session["starts_at"].isoformat()
    committee = token("committee_admin", "FX01")
    outside = requests.post(url, headers=committee, timeout=10, json={"entries": [
        {"member_no": "A1", "at": at}, {"member_no": "B1", "at": at}]})
    assert outside.status_code == 403 and "B1" in str(outside.json()["errors"])
    desk = token("checkin", classes=[class_id])
    answer = requests.post(url, headers=desk, timeout=10, json={"entries": [
        {"member_no": "A1", "at": at}, {"member_no": "A2", "status": "leave"},
        {"member_no": "ZZ9", "at": at}]})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["recorded"], body["unchanged"]) == (2, 0)
    assert [(r["member_no"], r["rule"]) for r in body["refused"]] == [("ZZ9", "enrolled")]
    mine = requests.post(url, headers=committee, timeout=10, json={"entries": [
        {"member_no": "A1", "at": at}]})
    assert mine.status_code == 200 and mine.json()["unchanged"] == 1
    elsewhere = token("checkin", classes=[str(uuid.uuid4())])
    assert requests.post(url, headers=elsewhere, timeout=10, json={"entries": [
        {"member_no": "B1", "at": at}]}).status_code == 403
    sheet = requests.get(f"{base}/api/v1/sessions/{session['session_id']}/attendance",
                         headers=district, timeout=10).json()
    assert {i["member_no"]: i["attendance"] for i in sheet["items"]} == {
        "A1": "present", "A2": "leave", "B1": None}


# -- reviewed nominations ------------------------------------------------------------------------

@pytest.fixture
def reviewed(gateway, rpc, publish):
    """A reviewed class organised by FX01's residential organisation FX0102, A1 and A2
    nominated into its one seat and waiting for review."""
    base, token, _, _ = gateway
    class_id = str(uuid.uuid4())
    scheduling_event(publish, "class_published", class_published_data(
        class_id, organiser_org_code="FX0102", offline_capacity=1, delivery="offline",
        review_nominations=True))
    wait_until(lambda: _has_class(rpc, class_id), message="the reviewed class")
    answer = requests.post(f"{base}/api/v1/classes/{class_id}/enrolments",
                           headers=token("committee_admin", "FX01"),
                           json={"member_nos": ["A1", "A2"]}, timeout=10)
    assert answer.status_code == 201, answer.text
    return {e["member_no"]: e for e in answer.json()["enrolled"]}


def _has_class(rpc, class_id):
    try:
        return rpc.enrollment.get_class(class_id)
    except Exception:  # noqa: BLE001 - not there yet
        return None


def test_the_organiser_accepts_or_rejects_a_waiting_nomination(gateway, reviewed):
    base, token, _, _ = gateway
    assert {no: e["status"] for no, e in reviewed.items()} == {"A1": "nominated",
                                                                "A2": "nominated"}
    organiser = token("org_admin", "FX0102")
    accept = f"{base}/api/v1/enrolments/{reviewed['A2']['enrollment_id']}/accept"
    accepted = requests.post(accept, headers=organiser, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["reviewed_by"]) == (
        "confirmed", "org_admin:FX0102")
    again = requests.post(accept, headers=organiser, timeout=10)
    assert again.status_code == 409 and again.json()["rule"] == "review"

    reject = f"{base}/api/v1/enrolments/{reviewed['A1']['enrollment_id']}/reject"
    blank = requests.post(reject, headers=organiser, json={"reason": " "}, timeout=10)
    assert blank.status_code == 422 and "reason" in blank.json()["errors"]
    missing = requests.post(reject, headers=organiser, json={}, timeout=10)
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    rejected = requests.post(reject, headers=token("district_admin"),
                             json={"reason": "名额已满"}, timeout=10)
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["reason"]) == ("rejected", "名额已满")


def test_only_an_admin_over_the_organiser_reviews_nominations(gateway, reviewed):
    base, token, _, _ = gateway
    accept = f"{base}/api/v1/enrolments/{reviewed['A1']['enrollment_id']}/accept"
    for outsider in (token("committee_admin", "FX02"), token("org_admin", "FX0201"),
                     token("checkin", classes=[reviewed["A1"]["class_id"]])):
        refused = requests.post(accept, headers=outsider, timeout=10)
        assert refused.status_code == 403, refused.text
    still = requests.get(f"{base}/api/v1/enrolments/{reviewed['A1']['enrollment_id']}",
                         headers=token("district_admin"), timeout=10).json()
    assert still["status"] == "nominated"
    above = requests.post(accept, headers=token("committee_admin", "FX01"), timeout=10)
    assert above.status_code == 200 and above.json()["status"] == "confirmed"


# -- a class enrollment has not heard of yet -----------------------------------------------------

@pytest.fixture
def scheduling_ahead(runner_factory, service_config, database_urls, rpc, publish):
    """Enrollment and the gateway, and a scheduling that knows classes enrollment has not heard
    of yet."""
    port = free_port()
    config = {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    SchedulingStandIn.classes = {}
    runner_factory(config, EnrollmentService, GatewayService, SchedulingStandIn).start()
    rpc.enrollment.import_orgs(ORGS)
    rpc.enrollment.import_members(MEMBERS)
    headers = {"Authorization": "Bearer " + create(
        "district_admin", database_url=database_urls["gateway"])}
    return f"http://127.0.0.1:{port}", headers, SchedulingStandIn.classes


def test_a_class_published_but_not_yet_known_to_enrollment_answers_409_retry(
        scheduling_ahead, rpc, publish):
    base, district, scheduled = scheduling_ahead
    class_id = str(uuid.uuid4())
    scheduled[class_id] = "published"
    url = f"{base}/api/v1/classes/{class_id}/enrolments"
    early = requests.post(url, headers=district, json={"member_nos": ["A1"]}, timeout=10)
    assert early.status_code == 409, early.text
    assert early.headers["Content-Type"] == "application/problem+json"
    assert early.headers["Retry-After"] == "2"
    assert (early.json()["detail"], early.json()["rule"]) == (
        "class not yet known to enrollment, retry", "not_yet_known")
    assert requests.get(f"{base}/api/v1/classes/{class_id}/places", headers=district,
                        timeout=10).status_code == 409

    nowhere = requests.post(f"{base}/api/v1/classes/{uuid.uuid4()}/enrolments",
                            headers=district, json={"member_nos": ["A1"]}, timeout=10)
    assert nowhere.status_code == 404 and "Retry-After" not in nowhere.headers
    draft = str(uuid.uuid4())
    scheduled[draft] = "draft"
    assert requests.post(f"{base}/api/v1/classes/{draft}/enrolments", headers=district,
                         json={"member_nos": ["A1"]}, timeout=10).status_code == 404

    scheduling_event(publish, "class_published", class_published_data(class_id))
    wait_until(lambda: _has_class(rpc, class_id), message="the class reaching enrollment")
    later = requests.post(url, headers=district, json={"member_nos": ["A1"]}, timeout=10)
    assert later.status_code == 201, later.text
