"""结业证书 through the gateway's door (tests/support/door.py, class A completed: 张小三 and 孙八
attended, 李四 and 王五 did not): a certificate only for a completed enrolment (409 otherwise,
as a problem), its QR code leading to /verify/{code}, which needs no sign-in and names the
person only masked; a wrong code is not genuine; the class's certificates print in bulk, each
admin only its own people's."""

import pytest
import requests

import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation
from tests.support.door import Door, build, decoded, pdf_pages_as_png, pdf_text
from tests.support.system import whole_system
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def door(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        door = build(Door(base, database_urls["gateway"], rpc))
        for member_no in ("A1", "B1"):
            answer = door.call("POST", f"/api/v1/sessions/{door.sessions['a']}/attendance",
                               json={"member_no": member_no, "at": door.starts_at})
            assert answer.status_code == 201, answer.text
        # Its only session completed, the class completes with it.
        answer = door.call("POST", f"/api/v1/sessions/{door.sessions['a']}/complete")
        assert answer.status_code == 200, answer.text
        wait_until(lambda: door.call("GET", f"/api/v1/enrolments/{door.enrolments['A1']}")
                   .json()["status"] == "completed", timeout=30,
                   message="enrollment to complete the class")
        yield door


def certificate(door, member_no, token="district_admin"):
    return door.call("GET", f"/api/v1/enrolments/{door.enrolments[member_no]}/certificate.pdf",
                     token)


def test_an_enrolment_not_completed_has_no_certificate(door):
    answer = certificate(door, "A2")
    assert answer.status_code == 409
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["rule"] == "not_completed"
    assert answer.json()["errors"] == {"enrollment_id": ["enrolment is incomplete"]}


def test_a_certificate_verifies_at_its_qr_code_with_the_name_masked(door, tmp_path):
    answer = certificate(door, "A1")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/pdf"
    text = pdf_text(answer.content, tmp_path, "certificate")
    for words in ("结", "张小三同志", "CA党员示范班", "累计取得3学时", "甲镇党委", "验证码："):
        assert words in text.replace(" ", ""), text
    [page] = pdf_pages_as_png(answer.content, tmp_path, "certificate")
    [(kind, link)] = decoded(page)
    assert kind == "QR-Code" and link.startswith("http://localhost:8000/verify/")
    code = link.rsplit("/", 1)[1]
    again = certificate(door, "A1")
    assert code in pdf_text(again.content, tmp_path, "again").replace("-", "")  # stable

    page = requests.get(f"{door.base}/verify/{code}", timeout=30)     # no sign-in
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "该结业证书真实有效" in page.text and "张*三" in page.text
    assert "张小三" not in page.text and "A1" not in page.text
    data = requests.get(f"{door.base}/verify/{code}", timeout=30,
                        headers={"Accept": "application/json"}).json()
    assert data == {"genuine": True, "name": "张*三", "class_title": "CA党员示范班",
                    "start_date": data["start_date"], "end_date": data["end_date"],
                    "hours": 3.0, "organiser_name": "甲镇党委",
                    "issued_at": data["issued_at"]}


@pytest.mark.parametrize("code", ["ABCDEFGHJKLMNPQR", "x" * 41, "<script>"])
def test_a_wrong_code_is_not_genuine(door, code):
    page = requests.get(f"{door.base}/verify/{code}", timeout=30)
    assert page.status_code == 404
    assert "未查到这个验证码" in page.text
    data = requests.get(f"{door.base}/verify/{code}", timeout=30,
                        headers={"Accept": "application/json"})
    assert data.status_code == 404 and data.json() == {"genuine": False, "reason": "unknown"}


def test_a_committee_gets_only_its_own_peoples_certificates(door, tmp_path):
    assert certificate(door, "B1", "committee_a").status_code == 403
    assert certificate(door, "B1", "committee_b").status_code == 200
    for token in ("checkin_a", "system"):
        assert certificate(door, "A1", token).status_code == 403
    bulk = door.call("GET", f"/admin/classes/{door.classes['a']}/certificates.pdf")
    assert bulk.status_code == 200 and bulk.headers["Content-Type"] == "application/pdf"
    pages = pdf_pages_as_png(bulk.content, tmp_path, "all", dpi=100)
    assert len(pages) == 2    # 张小三 and 孙八
    own = door.call("GET", f"/admin/classes/{door.classes['a']}/certificates.pdf",
                    "committee_a")
    assert "孙八" not in pdf_text(own.content, tmp_path, "own")
    assert len(pdf_pages_as_png(own.content, tmp_path, "own", dpi=50)) == 1
    neighbour = door.call("GET", f"/admin/classes/{door.classes['b']}/certificates.pdf",
                          "committee_a")
    assert neighbour.status_code == 403 and "无权访问" in neighbour.text
    nobody = door.call("GET", f"/admin/classes/{door.classes['b']}/certificates.pdf")
    assert nobody.status_code == 409 and "暂无已结业人员" in nobody.text
