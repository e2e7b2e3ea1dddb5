"""Accounts and the audit trail through the gateway, every service running: the district admin
opens, disables and re-enables accounts and resets passwords on /admin/users (CSRF-protected;
an organisation that does not exist is refused), tokens that expire or are revoked open nothing,
and every write, API or page, is in the audit trail under the person or token that made it,
which the district admin reads, filtered, at /admin/audit.

The module's world: district FX with committee CA and its organisation CA01; a district admin
who signs in ("admin"), and tokens of the district and of CA."""

import re
from datetime import datetime

import pytest
import requests
from sqlalchemy import text

from services.gateway.tokens import create_user, issue
from services.kit.clock import SHANGHAI
from services.kit.database import make_engine
from tests.support.system import whole_system

PASSWORD = "区级管理员 2026 密码"
ORGS = [("FX", "区委", "", "committee", ""), ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential")]
YEAR = datetime.now(SHANGHAI).year


class World:
    def __init__(self, base, gateway_db):
        self.base, self.gateway_db = base, gateway_db
        self.tokens: dict[str, tuple[str, str]] = {}

    def api(self, method, path, token="district", **kw):
        headers = {"Authorization": f"Bearer {self.tokens[token][1]}"} if token else {}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def sign_in(self, username, password=PASSWORD):
        browser = requests.Session()
        answer = browser.post(f"{self.base}/admin/login", allow_redirects=False, timeout=30,
                              data={"username": username, "password": password})
        assert answer.status_code == 303, answer.text
        return browser

    def get(self, browser, path, **kw):
        return browser.get(self.base + path, allow_redirects=False, timeout=30, **kw)

    def post(self, browser, path, **data):
        return browser.post(self.base + path, data=data, allow_redirects=False, timeout=30)

    def sql(self, statement, **params):
        engine = make_engine(self.gateway_db)
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            rows = result.all() if result.returns_rows else None
        engine.dispose()
        return rows


@pytest.fixture(scope="module")
def world(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        rpc.enrollment.import_orgs([
            {"row": i + 2, "org_code": code, "name": name, "parent_code": parent, "kind": kind,
             "sector": sector} for i, (code, name, parent, kind, sector) in enumerate(ORGS)])
        w = World(base, database_urls["gateway"])
        w.tokens = {"district": issue("district_admin", database_url=w.gateway_db),
                    "committee": issue("committee_admin", "CA", database_url=w.gateway_db)}
        create_user("admin", "district_admin", None, PASSWORD, database_url=w.gateway_db)
        yield w


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def audit_rows(world, path):
    return world.sql("SELECT actor, actor_kind, role, org_code, method, route, status "
                     "FROM audit_log WHERE path = :path ORDER BY id", path=path)


# -- accounts ------------------------------------------------------------------------------------

def test_the_district_admin_opens_an_account_and_its_person_signs_in(world):
    admin = world.sign_in("admin")
    page = world.get(admin, "/admin/users")
    assert page.status_code == 200 and "开设账号" in page.text and "admin" in page.text
    csrf = csrf_of(page.text)
    fields = {"username": "Clerk.CA01", "role": "org_admin", "org_code": "CA01",
              "password": PASSWORD}
    assert world.post(admin, "/admin/users", **fields).status_code == 403     # no CSRF token
    made = world.post(admin, "/admin/users", csrf=csrf, **fields)
    assert made.status_code == 303 and made.headers["Location"] == "/admin/users?done=created"
    listed = world.get(admin, made.headers["Location"])
    assert "账号已开设" in listed.text and "clerk.ca01" in listed.text
    assert "甲镇某居民区党总支（CA01）" in listed.text

    clerk = world.sign_in("clerk.ca01")
    glance = world.get(clerk, "/admin")
    assert glance.status_code == 200 and "clerk.ca01 · 基层党组织管理员 · CA01" in glance.text
    assert 'href="/admin/users"' not in glance.text        # not a district admin's menu
    assert world.get(clerk, "/admin/users").status_code == 403
    assert world.get(clerk, "/admin/audit").status_code == 403


@pytest.mark.parametrize("fields,status,says", [
    ({"username": "x1", "role": "org_admin", "org_code": "ZZ99"}, 422, "没有编码为 ZZ99 的党组织"),
    ({"username": "x2", "role": "org_admin", "org_code": ""}, 422, "组织"),
    ({"username": "x3", "role": "checkin", "org_code": ""}, 422, "角色"),
    ({"username": "admin", "role": "district_admin", "org_code": ""}, 409, "该用户名已被使用"),
    ({"username": "x4", "role": "district_admin", "org_code": "", "password": "short"}, 422,
     "密码至少 10 个字符"),
])
def test_an_account_that_breaks_a_rule_is_refused_in_chinese(world, fields, status, says):
    admin = world.sign_in("admin")
    csrf = csrf_of(world.get(admin, "/admin/users").text)
    answer = world.post(admin, "/admin/users", csrf=csrf, **{"password": PASSWORD, **fields})
    assert answer.status_code == status and says in answer.text, answer.text[-800:]
    assert world.sql("SELECT count(*) FROM users WHERE username = :u",
                     u=fields["username"]) == [(1 if fields["username"] == "admin" else 0,)]


def test_disabling_ends_the_persons_sessions_and_a_new_password_replaces_the_old(world):
    create_user("clerk.ca", "committee_admin", "CA", PASSWORD, database_url=world.gateway_db)
    admin, clerk = world.sign_in("admin"), world.sign_in("clerk.ca")
    csrf = csrf_of(world.get(admin, "/admin/users").text)
    assert world.post(admin, "/admin/users/clerk.ca/disable", csrf=csrf).status_code == 303
    assert world.get(clerk, "/admin").status_code == 303              # sent to sign in
    refused = requests.post(f"{world.base}/admin/login", allow_redirects=False, timeout=30,
                            data={"username": "clerk.ca", "password": PASSWORD})
    assert refused.status_code == 401 and "该账号已停用" in refused.text
    assert world.post(admin, "/admin/users/clerk.ca/enable", csrf=csrf).status_code == 303
    clerk = world.sign_in("clerk.ca")

    new_password = "重置后的 password 2026"
    short = world.post(admin, "/admin/users/clerk.ca/password", csrf=csrf, password="short")
    assert short.status_code == 422
    reset = world.post(admin, "/admin/users/clerk.ca/password", csrf=csrf,
                       password=new_password)
    assert reset.headers["Location"] == "/admin/users?done=password"
    assert world.get(clerk, "/admin").status_code == 303
    old = requests.post(f"{world.base}/admin/login", allow_redirects=False, timeout=30,
                        data={"username": "clerk.ca", "password": PASSWORD})
    assert old.status_code == 401
    assert world.sign_in("clerk.ca", new_password)
    assert world.post(admin, "/admin/users/nobody/disable", csrf=csrf).status_code == 404


def test_a_sign_in_posted_from_another_sites_page_is_refused(world):
    """Login CSRF: another site's page must not sign the person in (as its own account)."""
    sent = {"username": "admin", "password": PASSWORD}
    for headers in ({"Sec-Fetch-Site": "cross-site", "Origin": world.base},
                    {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://elsewhere.example"}, {"Origin": "null"}):
        refused = requests.post(f"{world.base}/admin/login", data=sent, headers=headers,
                                allow_redirects=False, timeout=30)
        assert refused.status_code == 403, headers
        assert "不是从本系统的登录页提交的" in refused.text
        assert "Set-Cookie" not in refused.headers
    for headers in ({"Sec-Fetch-Site": "same-origin", "Origin": world.base},
                    {"Origin": world.base}, {}):
        signed = requests.post(f"{world.base}/admin/login", data=sent, headers=headers,
                               allow_redirects=False, timeout=30)
        assert signed.status_code == 303 and "Set-Cookie" in signed.headers, headers


# -- tokens --------------------------------------------------------------------------------------

def test_a_revoked_or_expired_token_opens_nothing(world):
    world.tokens["soon"] = issue("district_admin", expires_in_days=1,
                                 database_url=world.gateway_db)
    world.tokens["revoked"] = issue("district_admin", database_url=world.gateway_db)
    for name in ("soon", "revoked"):
        assert world.api("GET", "/api/v1/organisations", name).status_code == 200
    world.sql("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = :id",
              id=world.tokens["soon"][0])
    world.sql("UPDATE api_tokens SET revoked_at = now() WHERE id = :id",
              id=world.tokens["revoked"][0])
    for name, why in (("soon", "expired"), ("revoked", "revoked")):
        answer = world.api("GET", "/api/v1/organisations", name)
        assert answer.status_code == 401 and why in answer.json()["detail"]
        page = requests.get(f"{world.base}/admin", allow_redirects=False, timeout=30,
                            headers={"Authorization": f"Bearer {world.tokens[name][1]}"})
        assert page.status_code == 303


# -- the audit trail -----------------------------------------------------------------------------

def test_api_writes_are_recorded_under_their_token_with_the_route_and_the_answer(world):
    district_id, committee_id = world.tokens["district"][0], world.tokens["committee"][0]
    program = {"year": YEAR, "track": "members", "organiser_org_code": "FX", "name": "区级培训",
               "target_person_times": 10}
    made = world.api("POST", "/api/v1/programs", json=program)
    assert made.status_code == 201, made.text
    refused = world.api("POST", "/api/v1/programs", "committee", json=program)
    assert refused.status_code == 403
    world.api("GET", "/api/v1/programs")                          # a read: not recorded
    assert requests.post(f"{world.base}/api/v1/programs", json=program,
                         timeout=30).status_code == 401            # nobody known: not recorded
    assert audit_rows(world, "/api/v1/programs") == [
        (f"token:{district_id}", "token", "district_admin", None, "POST", "/api/v1/programs",
         201),
        (f"token:{committee_id}", "token", "committee_admin", "CA", "POST",
         "/api/v1/programs", 403)]
    program_id = made.json()["program_id"]
    patched = world.api("PATCH", f"/api/v1/programs/{program_id}", json={"name": "改名"})
    assert audit_rows(world, f"/api/v1/programs/{program_id}") == [
        (f"token:{district_id}", "token", "district_admin", None, "PATCH",
         "/api/v1/programs/{program_id}", patched.status_code)]


def test_signing_in_and_out_and_page_forms_are_recorded_under_the_person(world):
    failed = requests.post(f"{world.base}/admin/login", allow_redirects=False, timeout=30,
                           data={"username": "Admin", "password": "wrong password"})
    assert failed.status_code == 401
    admin = world.sign_in("admin")
    world.post(admin, "/admin/logout")
    rows = world.sql("SELECT actor, actor_kind, route, status FROM audit_log "
                     "WHERE route IN ('/admin/login', '/admin/logout') AND actor = 'admin' "
                     "ORDER BY id")
    assert rows[-3:] == [("admin", "user", "/admin/login", 401),
                         ("admin", "user", "/admin/login", 303),
                         ("admin", "user", "/admin/logout", 303)]


def test_the_district_admin_reads_the_trail_by_person_and_day(world):
    admin = world.sign_in("admin")
    district_id = world.tokens["district"][0]
    world.api("POST", "/api/v1/programs", json={})               # a refused write, 422
    page = world.get(admin, "/admin/audit", params={"actor": f"token:{district_id}"})
    assert page.status_code == 200 and "操作记录" in page.text
    assert "POST /api/v1/programs" in page.text and "422 未成功" in page.text
    assert "admin</td>" not in page.text                          # only the token's rows
    today = datetime.now(SHANGHAI).date().isoformat()
    same_day = world.get(admin, "/admin/audit", params={"since": today, "until": today})
    assert "/admin/login" in same_day.text
    earlier = world.get(admin, "/admin/audit", params={"until": "2000-01-01"})
    assert "没有符合条件的记录" in earlier.text
    bad = world.get(admin, "/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "日期格式应为" in bad.text
    # Reading is not writing: the trail has no row for these pages.
    assert not world.sql("SELECT 1 FROM audit_log WHERE route = '/admin/audit'")
