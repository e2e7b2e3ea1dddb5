"""At the door of a class: the world the check-in page, the 签到表 and the 结业证书 are tested on,
built behind the gateway with every service running.

The district FX with committees CA (its residential organisation CA01) and CB (an enterprise's
branch CB01). CA runs class A, CB class B, each one three-hour session of core theory that ended
a minute ago (so check-ins are still open, and the class can be completed). In class A: 张小三
(A1), 李四 (A2), 王五 (A3) of CA01 and 孙八 (B1) of CB01, offline; 吴十 (A5) online (class A
is broadcast too); 赵六 (A4) enrolled and then withdrawn. 钱七 (A9) is a member nobody
enrolled. 周九 (B2) is in class B. Tokens: the district, each committee, CA01, a checkin token
for each class, a system."""

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import requests

from services.gateway.tokens import create
from services.kit.clock import SHANGHAI
from tests.support.classes import core_course, members_class_today
from tests.support.system import known, load_tree
from tests.support.waiting import wait_until

YEAR = datetime.now(SHANGHAI).year
ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential"),
        ("CB", "乙镇党委", "FX", "committee", ""),
        ("CB01", "乙镇某企业党支部", "CB", "grassroots", "two_new")]
PEOPLE = {"A1": ("张小三", "CA01"), "A2": ("李四", "CA01"), "A3": ("王五", "CA01"),
          "A4": ("赵六", "CA01"), "A5": ("吴十", "CA01"), "A9": ("钱七", "CA01"),
          "B1": ("孙八", "CB01"), "B2": ("周九", "CB01")}
IN_CLASS_A = ("A1", "A2", "A3", "B1")
# The sheet's order: by organisation (乙镇… before 甲镇… by code point), then name.
SHEET_ORDER = ["B1", "A1", "A2", "A3"]


class Door:
    def __init__(self, base, gateway_db, rpc):
        self.base, self.gateway_db, self.rpc = base, gateway_db, rpc
        self.tokens, self.classes, self.sessions, self.enrolments = {}, {}, {}, {}

    def call(self, method, path, token="district_admin", **kw):
        headers = {"Authorization": f"Bearer {self.tokens[token]}", **kw.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def check_in_page(self, session="a", token="district_admin"):
        return self.call("GET", f"/admin/sessions/{self.sessions[session]}/check-in", token)

    def scan(self, member_no, session="a", token="district_admin", **fields):
        return self.call("POST", f"/admin/sessions/{self.sessions[session]}/check-in", token,
                         data={"member_no": member_no, **fields}, allow_redirects=False)

    def history(self, member_no, session="a"):
        return [(e["status"], e["source"]) for e in self.entries(member_no, session)]

    def entries(self, member_no, session="a"):
        return self.call("GET", f"/api/v1/sessions/{self.sessions[session]}/attendance/"
                                f"{member_no}").json()["items"]


def build(door: Door) -> Door:
    rpc = door.rpc
    load_tree(rpc, ORGS, PEOPLE)
    door.tokens["district_admin"] = create("district_admin", database_url=door.gateway_db)
    course_id = core_course(rpc.scheduling)
    for key, org in (("a", "CA"), ("b", "CB")):
        title = f"{org}党员示范班"
        program = door.call("POST", "/api/v1/programs", json={
            "year": YEAR, "track": "members", "organiser_org_code": org,
            "name": f"{org}党员培训", "target_person_times": 100})
        assert program.status_code == 201, program.text
        # Class A is also broadcast: one person takes it online, and is on no sheet.
        created = door.call("POST", "/api/v1/classes", json={**members_class_today(
            program.json()["program_id"], title, course_id),
            **({"delivery": "hybrid"} if key == "a" else {})})
        assert created.status_code == 201, created.text
        door.classes[key] = created.json()["class_id"]
        door.sessions[key] = created.json()["sessions"][0]["session_id"]
        door.starts_at = created.json()["sessions"][0]["starts_at"]
    for session_id in door.sessions.values():
        wait_until(lambda s=session_id: known(rpc.enrollment.get_session, s), timeout=20,
                   message="enrollment to know the sessions")
    for key, people in (("a", (*IN_CLASS_A, "A4")), ("b", ("B2",))):
        answer = door.call("POST", f"/api/v1/classes/{door.classes[key]}/enrolments",
                           json={"member_nos": list(people), "mode": "offline"})
        assert answer.status_code == 201, answer.text
        door.enrolments.update({e["member_no"]: e["enrollment_id"]
                                for e in answer.json()["enrolled"]})
    online = door.call("POST", f"/api/v1/classes/{door.classes['a']}/enrolments",
                       json={"member_nos": ["A5"], "mode": "online"})
    assert online.status_code == 201, online.text
    door.enrolments["A5"] = online.json()["enrolled"][0]["enrollment_id"]
    withdrawn = door.call("POST", f"/api/v1/enrolments/{door.enrolments['A4']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    door.tokens.update({
        "committee_a": create("committee_admin", "CA", database_url=door.gateway_db),
        "committee_b": create("committee_admin", "CB", database_url=door.gateway_db),
        "org_a": create("org_admin", "CA01", database_url=door.gateway_db),
        "checkin_a": create("checkin", class_ids=[door.classes["a"]],
                            database_url=door.gateway_db),
        "checkin_b": create("checkin", class_ids=[door.classes["b"]],
                            database_url=door.gateway_db),
        "system": create("system", database_url=door.gateway_db)})
    return door



# -- reading what was printed ------------------------------------------------------------------

def pdf_pages_as_png(pdf: bytes, folder: Path, name: str, dpi: int = 200) -> list[Path]:
    """Each page of the PDF as a PNG (poppler's pdftoppm), as a printer would see it."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(folder / name)],
                   check=True, capture_output=True)
    return sorted(folder.glob(f"{name}-*.png"))


def decoded(png: Path) -> list[tuple[str, str]]:
    """Every barcode and QR code zbar finds on the image: (its symbology, its text)."""
    zbarimg = shutil.which("zbarimg") or "/usr/bin/zbarimg"
    answer = subprocess.run([zbarimg, "--quiet", "--xml", str(png)], capture_output=True,
                            text=True)
    assert answer.returncode in (0, 4), answer.stderr     # 4: nothing found
    return re.findall(r"<symbol type='([^']+)'.*?<data><!\[CDATA\[(.*?)\]\]></data>",
                      answer.stdout, flags=re.S)


def pdf_text(pdf: bytes, folder: Path, name: str) -> str:
    source = folder / f"{name}.pdf"
    folder.mkdir(parents=True, exist_ok=True)
    source.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True,
                          capture_output=True, text=True).stdout
