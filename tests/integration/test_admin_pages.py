"""The admin pages through a browser's door, every service running: signing in with a user name
and password into a server-side session (the lock-out, expiry and sign-out), the year at a
glance with its charts, class records, the filing inbox with its CSRF token, each admin limited
to its own subtree, and names escaped wherever they are shown.

The module's world: district FX with committees CA and CB; CA runs a class for its members (A1
completes, A2 is absent), CB one for its members (B1–B3 complete), CA's residential
organisation CA01 runs a class of its own. CA and CB file their plans with the district, CA01
files with CA. CB's program targets 4321 person-times, a number that no page of CA may show.
"""

import re
from datetime import datetime
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import text

import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation
from services.enrollment.domain import SHANGHAI
from services.gateway import users
from services.gateway.tokens import create, create_user
from services.kit.database import make_engine
from tests.support.classes import core_course, members_class_today
from tests.support.system import known, whole_system
from tests.support.waiting import wait_until

YEAR = datetime.now(SHANGHAI).year
HOSTILE = "<script>alert('x')</script>"
ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", f"甲镇{HOSTILE}居民区党总支", "CA", "grassroots", "residential"),
        ("CB", "乙镇党委", "FX", "committee", ""),
        ("CB01", "乙镇某企业党支部", "CB", "grassroots", "two_new")]
MEMBERS = {"A1": "CA01", "A2": "CA01", "B1": "CB01", "B2": "CB01", "B3": "CB01"}
TITLE_A = f"甲镇{HOSTILE}党员示范班"
TITLE_B = "乙镇党员示范班"
TITLE_C = "居民区党员学习班"
TARGETS = {"CA": 100, "CB": 4321, "CA01": 10}
PASSWORD = "示范班 password 2026"
# The people who sign in: each admin of the world, by the name the tests use for its token.
PEOPLE = {"district_admin": ("district_admin", None), "committee_a": ("committee_admin", "CA"),
          "committee_b": ("committee_admin", "CB"), "org_a": ("org_admin", "CA01")}


class Site:
    def __init__(self, base, gateway_db):
        self.base, self.gateway_db = base, gateway_db
        self.tokens, self.classes, self.filings = {}, {}, {}

    def token(self, role, org=None, classes=None):
        return create(role, org, classes, database_url=self.gateway_db)

    def api(self, method, path, token=None, **kw):
        token = token or self.tokens["district_admin"]
        return requests.request(method, self.base + path, timeout=30,
                                headers={"Authorization": f"Bearer {token}"}, **kw)

    def browser(self, username):
        """A browser signed in as one of the site's people."""
        session = requests.Session()
        answer = session.post(f"{self.base}/admin/login", allow_redirects=False, timeout=30,
                              data={"username": username, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        return session

    def sql(self, statement, **params):
        """A statement on the gateway's database (to age a session or a token)."""
        engine = make_engine(self.gateway_db)
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            rows = result.all() if result.returns_rows else None
        engine.dispose()
        return rows

    def get(self, browser, path, **kw):
        return browser.get(self.base + path, timeout=30, allow_redirects=False, **kw)


@pytest.fixture(scope="module")
def site(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield _build(Site(base, database_urls["gateway"]), rpc)


def _build(site: Site, rpc) -> Site:
    rpc.enrollment.import_orgs([
        {"row": i + 2, "org_code": code, "name": name, "parent_code": parent, "kind": kind,
         "sector": sector} for i, (code, name, parent, kind, sector) in enumerate(ORGS)])
    rpc.enrollment.import_members([
        {"row": i + 2, "member_no": no, "name": f"党员{i}", "org_code": org,
         "joined_on": "2010-07-01", "employment": "enterprise"}
        for i, (no, org) in enumerate(MEMBERS.items())])
    site.tokens = {"district_admin": site.token("district_admin"),
                   "committee_a": site.token("committee_admin", "CA"),
                   "committee_b": site.token("committee_admin", "CB"),
                   "org_a": site.token("org_admin", "CA01"),
                   "system": site.token("system")}
    for username, (role, org) in PEOPLE.items():
        create_user(username, role, org, PASSWORD, database_url=site.gateway_db)
    sessions = {}
    course_id = core_course(rpc.scheduling)
    for key, org, title in (("a", "CA", TITLE_A), ("b", "CB", TITLE_B), ("c", "CA01", TITLE_C)):
        program = site.api("POST", "/api/v1/programs", json={
            "year": YEAR, "track": "members", "organiser_org_code": org,
            "name": f"{org}党员培训", "target_person_times": TARGETS[org]})
        assert program.status_code == 201, program.text
        created = site.api("POST", "/api/v1/classes",
                           json=members_class_today(program.json()["program_id"], title,
                                                    course_id))
        assert created.status_code == 201, created.text
        site.classes[key] = created.json()["class_id"]
        sessions[key] = created.json()["sessions"][0]
    site.tokens["checkin"] = site.token("checkin", classes=[site.classes["a"]])
    for key in ("a", "b"):
        wait_until(lambda s=sessions[key]["session_id"]: known(rpc.enrollment.get_session, s),
                   timeout=20, message="enrollment to know the sessions")
    for key, people in (("a", ("A1", "A2")), ("b", ("B1", "B2", "B3"))):
        nominated = site.api("POST", f"/api/v1/classes/{site.classes[key]}/enrolments",
                             json={"member_nos": list(people)})
        assert nominated.status_code == 201, nominated.text
    for key, member_no in (("a", "A1"), ("b", "B1"), ("b", "B2"), ("b", "B3")):
        session = sessions[key]
        checked = site.api("POST", f"/api/v1/sessions/{session['session_id']}/attendance",
                           json={"member_no": member_no, "at": session["starts_at"]})
        assert checked.status_code == 201, checked.text
    for key in ("a", "b"):
        done = site.api("POST", f"/api/v1/sessions/{sessions[key]['session_id']}/complete")
        assert done.status_code == 200, done.text

    def completed():
        answer = site.api("GET", "/api/v1/reports/annual-summary", params={"year": YEAR})
        return answer.status_code == 200 and answer.json()["totals"]["person_times"] == 4

    wait_until(completed, timeout=40, message="reporting to count the completions")
    for key, filer in (("a", "committee_a"), ("b", "committee_b"), ("c", "org_a")):
        def file_plan(class_id=site.classes[key], filer=filer):
            answer = site.api("POST", f"/api/v1/classes/{class_id}/filings",
                              token=site.tokens[filer], json={"kind": "plan"})
            return answer if answer.status_code != 404 else None

        filed = wait_until(file_plan, timeout=20, message="reporting to know the class")
        assert filed.status_code == 201, filed.text
        site.filings[key] = filed.json()["filing_id"]
    return site



def text_of(page: str) -> str:
    """What a person reads: the page without its tags and attributes (ids, links)."""
    return re.sub(r"<[^>]+>", " ", page)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def filing_status(site, key):
    return site.api("GET", f"/api/v1/filings/{site.filings[key]}").json()["status"]


# -- signing in ----------------------------------------------------------------------------------

def sign_in(site, username, password=PASSWORD, **data):
    return requests.post(f"{site.base}/admin/login", allow_redirects=False, timeout=30,
                         data={"username": username, "password": password, **data})


def test_signing_in_opens_a_session_in_a_strict_cookie_and_returns_to_the_page_asked_for(site):
    browser = requests.Session()
    wanted = f"/admin/classes?year={YEAR}"
    away = site.get(browser, wanted)
    assert away.status_code == 303
    assert away.headers["Location"] == \
        f"/admin/login?next=%2Fadmin%2Fclasses%3Fyear%3D{YEAR}"
    form = site.get(browser, away.headers["Location"])
    assert form.status_code == 200
    assert form.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'name="username"' in form.text and 'type="password" name="password"' in form.text
    assert 'name="token"' not in form.text and f'name="next" value="{wanted}"' in form.text

    signed = browser.post(f"{site.base}/admin/login", allow_redirects=False, timeout=30,
                          data={"username": "District_Admin ", "password": PASSWORD,
                                "next": wanted})
    assert signed.status_code == 303 and signed.headers["Location"] == wanted
    cookie = signed.headers["Set-Cookie"]
    session_id = browser.cookies["peixun_admin"]
    assert len(session_id) >= 40 and PASSWORD not in cookie
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/admin",
                      f"Max-Age={int(users.SESSION_LIMIT.total_seconds())}"):
        assert attribute in cookie
    # Only the session's hash is stored.
    assert site.sql("SELECT count(*) FROM admin_sessions WHERE session_hash = :h",
                    h=users.hash_session(session_id)) == [(1,)]
    assert not site.sql("SELECT 1 FROM admin_sessions WHERE session_hash = :id", id=session_id)
    listed = site.get(browser, wanted)
    assert listed.status_code == 200 and TITLE_B in listed.text
    assert "district_admin · 区级管理员" in text_of(listed.text)

    out = browser.post(f"{site.base}/admin/logout", allow_redirects=False, timeout=30)
    assert out.status_code == 303 and out.headers["Location"] == "/admin/login"
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert site.get(browser, "/admin").status_code == 303
    # Signing out ended the session on the server: the old cookie opens nothing any more.
    replayed = requests.get(f"{site.base}/admin", cookies={"peixun_admin": session_id},
                            allow_redirects=False, timeout=30)
    assert replayed.status_code == 303 and replayed.headers["Location"].startswith(
        "/admin/login")


def test_a_wrong_password_and_an_unknown_user_name_are_refused_alike_and_no_cookie(site):
    answers = [sign_in(site, "org_a", "not the password"), sign_in(site, "nobody-here")]
    for answer in answers:
        assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
        assert "用户名或密码不正确" in answer.text
    assert text_of(answers[0].text).replace("org_a", "NAME") == \
        text_of(answers[1].text).replace("nobody-here", "NAME")
    # An API token pasted into the sign-in page opens nothing: tokens are for systems.
    pasted = requests.post(f"{site.base}/admin/login", data={"token": site.tokens["system"]},
                           allow_redirects=False, timeout=30)
    assert pasted.status_code == 401 and "Set-Cookie" not in pasted.headers


@pytest.mark.parametrize("username", ["lockable", "never-existed"])
def test_five_failures_lock_the_user_name_whether_or_not_it_exists(site, username):
    if username == "lockable":
        create_user(username, "org_admin", "CA01", PASSWORD, database_url=site.gateway_db)
    for _ in range(users.LOCK_AFTER):
        assert sign_in(site, username, "wrong password").status_code == 401
    locked = sign_in(site, username)          # the right password, for the one that exists
    assert locked.status_code == 429 and "Set-Cookie" not in locked.headers
    assert "已锁定 15 分钟" in locked.text and "用户名或密码不正确" not in locked.text
    # The lock holds one name only.
    assert sign_in(site, "org_a").status_code == 303


def test_an_idle_session_ends(site):
    browser = site.browser("committee_b")
    assert site.get(browser, "/admin").status_code == 200
    session_hash = users.hash_session(browser.cookies["peixun_admin"])
    site.sql("UPDATE admin_sessions SET last_seen_at = last_seen_at - :idle "
             "WHERE session_hash = :h", idle=users.IDLE_LIMIT, h=session_hash)
    expired = site.get(browser, "/admin")
    assert expired.status_code == 303 and expired.headers["Location"].startswith(
        "/admin/login")
    assert "Max-Age=0" in expired.headers["Set-Cookie"]


def test_pages_refuse_what_is_not_an_admins_session(site):
    # A checkin or system token reaches no page, by header; a token in the cookie is no session.
    for role in ("checkin", "system"):
        header = requests.get(f"{site.base}/admin", timeout=30, allow_redirects=False,
                              headers={"Authorization": f"Bearer {site.tokens[role]}"})
        assert header.status_code == 403 and "无权访问" in header.text
    for cookie in (site.tokens["district_admin"], "made-up"):
        stale = requests.get(f"{site.base}/admin", cookies={"peixun_admin": cookie},
                             allow_redirects=False, timeout=30)
        assert stale.status_code == 303 and stale.headers["Location"].startswith("/admin/login")
        assert stale.headers["Set-Cookie"].startswith("peixun_admin=; ")
        assert "Max-Age=0" in stale.headers["Set-Cookie"]


def test_a_bearer_header_opens_the_pages_too(site):
    page = requests.get(f"{site.base}/admin", timeout=30, allow_redirects=False,
                        headers={"Authorization": f"Bearer {site.tokens['district_admin']}"})
    assert page.status_code == 200 and "<svg" in page.text


def test_pages_are_not_part_of_the_api_document(site):
    paths = requests.get(f"{site.base}/api/v1/openapi.json", timeout=30).json()["paths"]
    assert paths and not [p for p in paths if p.startswith("/admin")]


# -- the year at a glance ------------------------------------------------------------------------

def test_the_year_at_a_glance_shows_the_figures_and_their_charts(site):
    browser = site.browser("district_admin")
    page = site.get(browser, "/admin")   # this year, by the services' clock
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert f"{YEAR}年度大培训" in page.text
    assert '<div class="value">4</div>' in page.text          # person-times: A1, B1, B2, B3
    # Every program is a unit's own: none adds to the district's target.
    assert "区级调训 0（目标 0 人次" in page.text
    assert "单位自主培训 4（目标 4431 人次）" in page.text       # 100 + 4321 + 10
    assert page.text.count("<svg") == 5
    assert "各培训项目完成人次与目标" in page.text and "各领域参训人次" in page.text
    assert "甲镇党委" in page.text and "乙镇党委" in page.text
    assert "万名党员进课堂 · 单位自主培训完成人次：4" in page.text     # a bar's tooltip

    earlier = site.get(browser, f"/admin?year={YEAR - 1}")
    assert earlier.status_code == 200 and '<div class="value">0</div>' in earlier.text
    assert "暂无数据" in earlier.text
    bad = site.get(browser, "/admin?year=soon")
    assert bad.status_code == 422 and "年度应为数字" in bad.text

    workbook = site.get(browser, f"/admin/annual-summary?year={YEAR}&format=xlsx")
    assert workbook.status_code == 200
    assert workbook.headers["Content-Type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert workbook.headers["Content-Disposition"] == \
        f'attachment; filename="annual-summary-{YEAR}.xlsx"'
    committees = f"/admin/annual-summary?format=csv&section=committees&year={YEAR}"
    assert f'href="{committees.replace("&", "&amp;")}"' in page.text
    table = site.get(browser, committees)
    assert table.status_code == 200
    assert table.content.decode("utf-8-sig").splitlines()[0].startswith("党(工)委,")
    assert "甲镇党委" in table.content.decode("utf-8-sig")


def test_a_committee_admin_sees_only_its_own_subtree(site):
    browser = site.browser("committee_a")
    glance = site.get(browser, "/admin")
    assert glance.status_code == 200
    seen = text_of(glance.text)
    assert "甲镇党委（CA）" in seen and "目标 110 人次" in seen
    assert "4321" not in seen and "4431" not in seen and "乙镇" not in seen
    assert site.get(browser, "/admin?org_code=CB").status_code == 403

    listed = site.get(browser, f"/admin/classes?year={YEAR}")
    assert listed.status_code == 200
    assert TITLE_C in listed.text and "&lt;script&gt;" in listed.text
    assert TITLE_B not in listed.text

    class_b = site.classes["b"]
    for path in (f"/admin/classes/{class_b}", f"/admin/classes/{class_b}/class-record",
                 "/admin/filings?org_code=FX",
                 f"/admin/filings/{site.filings['b']}/document?format=pdf"):
        refused = site.get(browser, path)
        assert refused.status_code == 403, path
        assert refused.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "乙镇" not in refused.text

    # Its own valid form token does not let it review what the district reviews.
    csrf = csrf_of(site.get(browser, f"/admin/filings/{site.filings['c']}").text)
    before = filing_status(site, "b")
    review = browser.post(f"{site.base}/admin/filings/{site.filings['b']}/acknowledge",
                          data={"csrf": csrf, "confirm": "yes"}, allow_redirects=False,
                          timeout=30)
    assert review.status_code == 403
    assert filing_status(site, "b") == before


# -- class records -------------------------------------------------------------------------------

def test_the_class_record_page_and_its_downloads(site):
    browser = site.browser("district_admin")
    class_b = site.classes["b"]
    listed = site.get(browser, f"/admin/classes?year={YEAR}")
    assert f'href="/admin/classes/{class_b}"' in listed.text
    assert "乙镇党委" in listed.text            # the organiser by name
    assert "CB党员培训" in listed.text and "CA01党员培训" in listed.text   # its own program
    page = site.get(browser, f"/admin/classes/{class_b}")
    assert page.status_code == 200
    assert f"<h1>{TITLE_B}</h1>" in page.text
    assert "课次出勤" in page.text and "参训人员" in page.text
    # Each member number opens the person's archive.
    assert all(f'<td><a href="/admin/members/{no}?year={YEAR}">{no}</a></td>' in page.text
               for no in ("B1", "B2", "B3"))
    assert all(f"<td>{name}</td>" in page.text for name in ("党员2", "党员3", "党员4"))
    assert "CB党员培训（" in page.text and "单位自主培训" in page.text
    assert "结业 3 人" in page.text
    link = f"/admin/classes/{class_b}/class-record?format=pdf"
    assert f'href="{link}"' in page.text
    pdf = site.get(browser, link)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    # Named by the class's title (RFC 5987), with an ASCII name without its id beside it.
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="class-record-{YEAR}.pdf"; '
        f"filename*=UTF-8''{quote(f'{TITLE_B}-培训情况.pdf', safe='')}")
    assert pdf.content.startswith(b"%PDF")
    # Each table downloads on its own as CSV (the API's `section=`), from its caption.
    for section, first_heading in (("participants", "党员编号"), ("sessions", "序号")):
        link = f"/admin/classes/{class_b}/class-record?format=csv&section={section}"
        shown = link.replace("&", "&amp;")
        assert f'href="{shown}" class="caption-link">下载本表 CSV</a>' in page.text
        table = site.get(browser, link)
        assert table.status_code == 200 and table.headers["Content-Type"].startswith("text/csv")
        assert table.content.decode("utf-8-sig").splitlines()[0].split(",")[0] == first_heading
    wrong = site.get(browser, f"/admin/classes/{class_b}/class-record?format=csv&section=x")
    assert wrong.status_code == 422 and "<html" in wrong.text

    committee = site.browser("committee_a")
    own = site.get(committee, f"/admin/classes/{site.classes['a']}")
    assert own.status_code == 200
    assert ">A1</a></td>" in own.text and ">A2</a></td>" in own.text
    assert site.get(browser, "/admin/classes/00000000-0000-4000-8000-000000000000"
                    ).status_code == 404


# -- the filing inbox ----------------------------------------------------------------------------

def test_the_committee_reviews_its_inbox_with_the_forms_csrf_token_only(site):
    browser = site.browser("committee_a")
    inbox = site.get(browser, "/admin/filings")
    assert inbox.status_code == 200
    assert TITLE_C in inbox.text and "培训方案" in inbox.text
    assert f'href="/admin/filings/{site.filings["c"]}/document?format=pdf"' in inbox.text
    # Reviewing happens on the filing's own page, each action confirmed by a ticked box.
    review = f"/admin/filings/{site.filings['c']}"
    assert f'href="{review}"' in inbox.text
    page = site.get(browser, review)
    assert page.text.count('name="confirm" value="yes" required') == 2
    csrf = csrf_of(page.text)
    acknowledge = f"{site.base}/admin/filings/{site.filings['c']}/acknowledge"
    for data in ({"confirm": "yes"}, {"csrf": "0" * 64, "confirm": "yes"}):
        refused = browser.post(acknowledge, data=data, allow_redirects=False, timeout=30)
        assert refused.status_code == 403 and "表单已过期" in refused.text
    unconfirmed = browser.post(acknowledge, data={"csrf": csrf}, allow_redirects=False,
                               timeout=30)
    assert unconfirmed.status_code == 422 and "请勾选确认框" in unconfirmed.text
    assert filing_status(site, "c") == "filed"

    done = browser.post(acknowledge, data={"csrf": csrf, "status": "filed", "confirm": "yes"},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/filings?status=filed&done=acknowledged"
    assert filing_status(site, "c") == "acknowledged"
    after = site.get(browser, done.headers["Location"])
    assert "已确认备案" in after.text and TITLE_C not in after.text
    assert TITLE_C in site.get(browser, "/admin/filings?status=acknowledged").text
    document = site.get(browser, f"/admin/filings/{site.filings['c']}/document?format=json")
    assert document.status_code == 200 and document.headers["Content-Type"] == \
        "application/json"


def test_the_district_returns_a_filing_with_a_reason(site):
    browser = site.browser("district_admin")
    inbox = site.get(browser, "/admin/filings")
    assert TITLE_B in inbox.text and "甲镇党委（CA）" in text_of(inbox.text)
    csrf = csrf_of(site.get(browser, f"/admin/filings/{site.filings['a']}").text)
    back = f"{site.base}/admin/filings/{site.filings['a']}/return"
    refused = browser.post(back, data={"reason": "请补充课程安排", "confirm": "yes"},
                           allow_redirects=False, timeout=30)
    assert refused.status_code == 403
    empty = browser.post(back, data={"csrf": csrf, "reason": " ", "confirm": "yes"},
                         allow_redirects=False, timeout=30)
    assert empty.status_code == 422 and "退回原因" in empty.text
    assert filing_status(site, "a") == "filed"
    done = browser.post(back, data={"csrf": csrf, "reason": "请补充<b>课程</b>安排",
                                    "confirm": "yes"}, allow_redirects=False, timeout=30)
    assert done.status_code == 303 and filing_status(site, "a") == "returned"
    # The filing names the person who returned it, and the audit trail each try.
    filing = site.api("GET", f"/api/v1/filings/{site.filings['a']}").json()
    assert filing["reviewed_by"] == "district_admin"
    tries = site.sql("SELECT actor, actor_kind, role, method, route, status FROM audit_log "
                     "WHERE path = :path ORDER BY id", path=back[len(site.base):])
    assert {row[:5] for row in tries} == {("district_admin", "user", "district_admin", "POST",
                                           "/admin/filings/{filing_id}/return")}
    assert [row[5] for row in tries][0] == 403 and tries[-1][5] == 303   # refused, then done
    returned = site.get(browser, "/admin/filings?status=returned")
    assert "原因：请补充&lt;b&gt;课程&lt;/b&gt;安排" in returned.text
    # Another organisation's inbox, as the district chooses it.
    chosen = site.get(browser, "/admin/filings?org_code=CA&status=all")
    assert chosen.status_code == 200 and TITLE_C in chosen.text


def test_a_bearer_client_posts_without_a_form_token(site):
    answer = requests.post(f"{site.base}/admin/filings/{site.filings['b']}/acknowledge",
                           headers={"Authorization": f"Bearer {site.tokens['district_admin']}"},
                           data={"confirm": "yes"}, allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and filing_status(site, "b") == "acknowledged"


# -- escaping ------------------------------------------------------------------------------------

def test_names_from_people_are_escaped_on_every_page(site):
    district, committee = site.browser("district_admin"), site.browser("committee_a")
    pages = [(district, "/admin"), (district, f"/admin/classes?year={YEAR}"),
             (district, f"/admin/classes/{site.classes['a']}"),
             (district, "/admin/filings?status=all"),
             (committee, "/admin/filings?status=all")]
    for browser, path in pages:
        page = site.get(browser, path)
        assert page.status_code == 200, path
        assert "<script" not in page.text, path
    record = site.get(district, f"/admin/classes/{site.classes['a']}").text
    assert "甲镇&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;党员示范班" in record
    assert "甲镇&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;居民区党总支" in record


# -- every role × every page × inside and outside its subtree -------------------------------------

PAGE_ROLES = ("district_admin", "committee_a", "committee_b", "org_a", "checkin", "system")
# Whose subtree each class and filing lies in: CA runs a, CB runs b, CA01 (under CA) runs c.
IN_SCOPE = {"district_admin": {"a", "b", "c"}, "committee_a": {"a", "c"},
            "committee_b": {"b"}, "org_a": {"c"}}
# A class organised above the caller opens in the limited view the API gives (its own people).
ABOVE = {"org_a": {"a"}}


def page_paths(site):
    """(path, the class or filing it is about, or None for a page of the caller's own scope)."""
    yield "/admin", None
    yield "/admin/annual-summary?format=csv", None
    yield "/admin/classes", None
    yield "/admin/filings", None
    yield "/admin/filings/outgoing", None
    yield "/admin/coverage-gaps", None
    yield "/admin/coverage-gaps/file?format=csv", None
    yield "/admin/filing-status", None
    yield "/admin/filing-status/file?format=csv", None
    for key in ("a", "b", "c"):
        yield f"/admin/classes/{site.classes[key]}", key
        yield f"/admin/classes/{site.classes[key]}/class-record?format=csv", key
        yield f"/admin/filings/{site.filings[key]}/document?format=json", ("filing", key)
        yield f"/admin/filings/{site.filings[key]}", ("filing", key)
    # An organisation's pages, a person's archive: the subtree of the class's organiser that
    # holds them (CB01 and its people are b's, CA01 and its people c's).
    for code, key in (("CB", "b"), ("CA01", "c")):
        yield f"/admin/filings/outgoing?org_code={code}", ("organisation", key)
        yield f"/admin/coverage-gaps?org_code={code}", ("organisation", key)
        yield f"/admin/filing-status?org_code={code}", ("organisation", key)
    for member_no, key in (("A1", "c"), ("B1", "b")):
        yield f"/admin/members/{member_no}", ("person", key)
        yield f"/admin/members/{member_no}/archive?format=csv", ("person", key)


@pytest.mark.parametrize("role", PAGE_ROLES)
def test_every_page_answers_each_role_only_inside_its_subtree(site, role):
    browser = requests.Session()
    browser.headers["Authorization"] = f"Bearer {site.tokens[role]}"
    wrong = []
    for path, about in page_paths(site):
        if role in ("checkin", "system"):
            expected = 403                      # pages are for the admins
        elif about is None:
            expected = 200
        elif isinstance(about, tuple):          # a filing, an organisation, a person
            expected = 200 if about[1] in IN_SCOPE[role] else 403
        else:
            expected = 200 if about in IN_SCOPE[role] | ABOVE.get(role, set()) else 403
        answer = site.get(browser, path)
        if answer.status_code != expected:
            wrong.append((path, expected, answer.status_code))
    assert not wrong, wrong
