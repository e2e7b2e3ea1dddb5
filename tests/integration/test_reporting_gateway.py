"""Reports and filings through the public door: files with their content types and names, the
caller's subtree enforced, filing as the organiser and review as the parent."""

import io

import pytest
import requests
from openpyxl import load_workbook

from services.gateway.tokens import create
from tests.support.districts import small_district, uid
from tests.support.system import reporting_behind_the_gateway


@pytest.fixture
def gateway(runner_factory, service_config, database_urls, publish, rpc):
    base = reporting_behind_the_gateway(runner_factory, service_config, publish, rpc,
                                        small_district().events)
    url = database_urls["gateway"]

    def token(role, org=None):
        return {"Authorization": f"Bearer {create(role, org, database_url=url)}"}

    return base, token


def get(base, path, headers, **params):
    return requests.get(f"{base}{path}", headers=headers, params=params, timeout=30)


def test_every_format_comes_with_its_content_type_and_file_name(gateway):
    base, token = gateway
    admin = token("district_admin")
    expected = {
        "json": "application/json", "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf", "png": "image/png"}
    for fmt, content_type in expected.items():
        response = get(base, "/api/v1/reports/annual-summary", admin, year=2026, format=fmt)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Content-Disposition"] == \
            f'attachment; filename="annual-summary-2026.{fmt}"'
    workbook = load_workbook(io.BytesIO(get(base, "/api/v1/reports/annual-summary", admin,
                                            year=2026, format="xlsx").content))
    assert "按党委" in workbook.sheetnames
    record = get(base, "/api/v1/reports/class-record", admin, class_id=uid("K1"), format="pdf")
    assert record.headers["Content-Disposition"] == \
        f'attachment; filename="class-record-{uid("K1")}-2026.pdf"'
    archive = get(base, "/api/v1/reports/personal-archive", admin, member_no="S12", year=2026)
    assert archive.json()["summary"][0]["year"] == 2026


def test_a_committee_admin_sees_only_its_subtree(gateway):
    base, token = gateway
    c1 = token("committee_admin", "C1")
    mine = get(base, "/api/v1/reports/annual-summary", c1, year=2026)
    assert mine.status_code == 200
    assert mine.json()["scope"] == {"org_code": "C1", "name": "南桥镇党委"}
    assert mine.headers["Content-Disposition"] == \
        'attachment; filename="annual-summary-C1-2026.json"'
    other = get(base, "/api/v1/reports/coverage-gaps", c1, year=2026, org_code="C2")
    assert other.status_code == 403
    assert other.headers["Content-Type"] == "application/problem+json"
    assert get(base, "/api/v1/reports/personal-archive", c1, member_no="M3").status_code == 403
    # The plan of any class is open to every role, as classes are.
    system = token("system")
    assert get(base, "/api/v1/reports/class-plan", system, class_id=uid("K1")).status_code == 200
    assert get(base, "/api/v1/reports/annual-summary", system, year=2026).status_code == 403


def test_bad_report_requests_are_problems_naming_the_field(gateway):
    base, token = gateway
    admin = token("district_admin")
    bad = get(base, "/api/v1/reports/annual-summary", admin, year="soon", colour="red")
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"colour"}
    bad = get(base, "/api/v1/reports/annual-summary", admin, year="soon")
    assert bad.status_code == 422 and "year" in bad.json()["errors"]
    assert get(base, "/api/v1/reports/class-record", admin,
               class_id=uid("nobody")).status_code == 404
    assert get(base, "/api/v1/reports/class-record", admin, class_id=uid("K1"),
               format="png").status_code == 422
    assert requests.get(f"{base}/api/v1/reports/annual-summary", timeout=10).status_code == 401


def test_the_organiser_files_and_the_parent_reviews_over_http(gateway):
    base, token = gateway
    c1, fx, g11 = token("org_admin", "C1"), token("org_admin", "FX"), token("org_admin", "G11")
    path = f"/api/v1/classes/{uid('K2')}/filings"
    assert requests.post(f"{base}{path}", json={"kind": "plan"}, headers=g11,
                         timeout=10).status_code == 403
    filed = requests.post(f"{base}{path}", json={"kind": "plan"}, headers=c1, timeout=10)
    assert filed.status_code == 201, filed.text
    filing_id = filed.json()["filing_id"]
    assert filed.headers["Location"] == f"/api/v1/filings/{filing_id}"

    inbox = get(base, "/api/v1/filings/inbox", fx)
    assert [i["filing_id"] for i in inbox.json()["items"]] == [filing_id]
    assert get(base, "/api/v1/filings/inbox", c1, org_code="FX").status_code == 403
    assert requests.post(f"{base}/api/v1/filings/{filing_id}/acknowledge", headers=c1,
                         timeout=10).status_code == 403
    empty = requests.post(f"{base}/api/v1/filings/{filing_id}/return", json={"reason": " "},
                          headers=fx, timeout=10)
    assert empty.status_code == 422 and "reason" in empty.json()["errors"]
    returned = requests.post(f"{base}/api/v1/filings/{filing_id}/return",
                             json={"reason": "缺少课程安排"}, headers=fx, timeout=10)
    assert returned.json()["status"] == "returned"
    again = requests.post(f"{base}{path}", json={"kind": "plan"}, headers=c1, timeout=10)
    assert again.json()["version"] == 2
    ack = requests.post(f"{base}/api/v1/filings/{again.json()['filing_id']}/acknowledge",
                        headers=fx, timeout=10)
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"

    versions = get(base, path, c1).json()["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "returned"),
                                                               (2, "acknowledged")]
    document = get(base, f"/api/v1/filings/{filing_id}/document", c1, format="pdf")
    assert document.headers["Content-Type"] == "application/pdf"
    assert document.headers["Content-Disposition"] == \
        f'attachment; filename="class-plan-{uid("K2")}-2026-v1.pdf"'
    status = get(base, "/api/v1/filings/status", c1, year=2026, as_of="2026-06-01").json()
    assert [o["org_code"] for o in status["organisations"]] == ["C1"]
    assert status["organisations"][0]["acknowledged"] == 1
