"""A world for filing from the unit's side, behind the gateway with every service running.

District FX with committees CA and CB; CA's residential organisation CA01 runs a members' class
of its own (A1 checked in, A2 absent), completed, so that its record is due; CB runs one whose
plan CB has filed with the district. Tokens for each admin: the district, committee A
(CA01's superior, which reviews what CA01 files), committee B, and CA01's own admin.
"""

from datetime import datetime

import requests

from services.gateway.tokens import create
from services.kit.clock import SHANGHAI
from tests.support.classes import core_course, members_class_today
from tests.support.system import known, load_tree
from tests.support.waiting import wait_until

YEAR = datetime.now(SHANGHAI).year
ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇东风居民区党总支", "CA", "grassroots", "residential"),
        ("CB", "乙镇党委", "FX", "committee", ""),
        ("CB01", "乙镇某企业党支部", "CB", "grassroots", "two_new")]
MEMBERS = {"A1": ("CA01", "张三"), "A2": ("CA01", "李四"), "B1": ("CB01", "王五")}
TITLE_UNIT = "东风居民区党员冬训班"
TITLE_B = "乙镇党员示范班"
# The smallest files their first bytes make PDF, PNG and JPEG.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


class UnitFiling:
    def __init__(self, base: str, gateway_db: str):
        self.base, self.gateway_db = base, gateway_db
        self.tokens, self.classes, self.filings = {}, {}, {}

    def api(self, method, path, token="district_admin", **kw):
        return requests.request(method, self.base + path, timeout=30, headers={
            "Authorization": f"Bearer {self.tokens[token]}"}, **kw)

    def browser(self, token: str) -> requests.Session:
        """A client of the pages signed in by its Bearer token (no form token then needed)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.tokens[token]}"
        return session

    def get(self, browser, path, **kw):
        return browser.get(self.base + path, timeout=30, allow_redirects=False, **kw)

    def post(self, browser, path, **kw):
        return browser.post(self.base + path, timeout=60, allow_redirects=False, **kw)

    def filings_of(self, key: str, kind: str) -> list[dict]:
        answer = self.api("GET", f"/api/v1/classes/{self.classes[key]}/filings")
        return [f for f in answer.json()["items"] if f["kind"] == kind]


def build(base: str, gateway_db: str, rpc) -> UnitFiling:
    w = UnitFiling(base, gateway_db)
    load_tree(rpc, ORGS, {no: (name, org) for no, (org, name) in MEMBERS.items()})
    w.tokens = {"district_admin": create("district_admin", database_url=gateway_db),
                "committee_a": create("committee_admin", "CA", database_url=gateway_db),
                "committee_b": create("committee_admin", "CB", database_url=gateway_db),
                "org_a": create("org_admin", "CA01", database_url=gateway_db)}
    course_id = core_course(rpc.scheduling)
    sessions = {}
    for key, org, title in (("unit", "CA01", TITLE_UNIT), ("b", "CB", TITLE_B)):
        program = w.api("POST", "/api/v1/programs", json={
            "year": YEAR, "track": "members", "organiser_org_code": org,
            "name": f"{org}党员培训", "target_person_times": 10})
        assert program.status_code == 201, program.text
        created = w.api("POST", "/api/v1/classes", json=members_class_today(
            program.json()["program_id"], title, course_id))
        assert created.status_code == 201, created.text
        w.classes[key] = created.json()["class_id"]
        sessions[key] = created.json()["sessions"][0]
    session = sessions["unit"]
    wait_until(lambda: known(rpc.enrollment.get_session, session["session_id"]), timeout=20,
               message="enrollment to know the session")
    nominated = w.api("POST", f"/api/v1/classes/{w.classes['unit']}/enrolments",
                      json={"member_nos": ["A1", "A2"]})
    assert nominated.status_code == 201, nominated.text
    checked = w.api("POST", f"/api/v1/sessions/{session['session_id']}/attendance",
                    json={"member_no": "A1", "at": session["starts_at"]})
    assert checked.status_code == 201, checked.text
    # Its only session completed completes the class: its record is due.
    done = w.api("POST", f"/api/v1/sessions/{session['session_id']}/complete")
    assert done.status_code == 200, done.text

    def record_due():
        answer = w.api("GET", "/api/v1/filings/status", params={"year": YEAR})
        return answer.status_code == 200 and any(
            i["class_id"] == w.classes["unit"] and i["kind"] == "record"
            and i["state"] == "due" for i in answer.json()["items"])

    wait_until(record_due, timeout=40, message="reporting to see the unit's class completed")

    def file_plan_b():
        answer = w.api("POST", f"/api/v1/classes/{w.classes['b']}/filings",
                       token="committee_b", json={"kind": "plan"})
        return answer if answer.status_code != 404 else None

    filed = wait_until(file_plan_b, timeout=20, message="reporting to know class b")
    assert filed.status_code == 201, filed.text
    w.filings["b"] = filed.json()["filing_id"]
    return w

