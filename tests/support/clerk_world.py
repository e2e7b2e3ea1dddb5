"""The clerk's world for the class and nomination pages, built once per test module behind the
public door: the district FX with committees CA (grassroots CA01, CA02) and CB (CB01), members
of each, a small catalogue (a core-theory course, one that is not, a classroom, an instructor),
a members' program of FX, CA and CB this year, and a token per admin.

Classes are built by the tests themselves, through the pages."""

from datetime import timedelta

import pytest
import requests

from services.gateway.tokens import create
from services.kit import clock
from tests.support.system import load_tree, whole_system

ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential"),
        ("CA02", "甲镇某村党支部", "CA", "grassroots", "village"),
        ("CB", "乙镇党委", "FX", "committee", ""),
        ("CB01", "乙镇某企业党支部", "CB", "grassroots", "two_new")]
PEOPLE = {"A1": ("张一", "CA01"), "A2": ("王二", "CA01"), "A3": ("李三", "CA01"),
          "A4": ("赵四", "CA01"), "A5": ("钱五", "CA01"), "A6": ("孙六", "CA01"),
          "A7": ("周七", "CA02"), "A8": ("吴八", "CA02"),
          "B1": ("郑一", "CB01"), "B2": ("冯二", "CB01")}
CORE = {"title": "学习贯彻习近平新时代中国特色社会主义思想", "core_theory": True,
        "default_kind": "lecture", "default_hours": 1.5}
OTHER = {"title": "红色村居现场教学", "core_theory": False, "default_kind": "onsite",
         "default_hours": 2.0}
VENUE = {"name": "区委党校第一教室", "seats": 120}
INSTRUCTOR = {"name": "陈教授", "affiliation": "市委党校", "kind": "party_school_professor"}
ADMINS = {"district": ("district_admin", None), "committee_a": ("committee_admin", "CA"),
          "committee_b": ("committee_admin", "CB"), "org_a": ("org_admin", "CA01")}
# The classes are held a fortnight from now, all in one year (the program's).
DAY = clock.today() + timedelta(days=14)
if DAY.year != clock.today().year:
    DAY = clock.today() - timedelta(days=14)
YEAR = DAY.year


class ClerkWorld:
    def __init__(self, base, rpc, gateway_db):
        self.base, self.rpc, self.gateway_db = base, rpc, gateway_db
        self.tokens, self.programs, self.catalogue = {}, {}, {}

    def call(self, method, path, who="district", **kw):
        """A request as one of the admins, by Bearer header (a system's way: no CSRF)."""
        kw.setdefault("allow_redirects", False)
        return requests.request(method, self.base + path, timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kw)


@pytest.fixture(scope="module")
def clerk_world(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield build(ClerkWorld(base, rpc, database_urls["gateway"]))


def build(world: ClerkWorld) -> ClerkWorld:
    rpc = world.rpc
    load_tree(rpc, ORGS, PEOPLE)
    world.tokens = {key: create(role, org, database_url=world.gateway_db)
                    for key, (role, org) in ADMINS.items()}
    world.catalogue = {
        "core": rpc.scheduling.create_course(CORE)["course_id"],
        "other": rpc.scheduling.create_course(OTHER)["course_id"],
        "venue": rpc.scheduling.create_venue(VENUE)["venue_id"],
        "instructor": rpc.scheduling.create_instructor(INSTRUCTOR)["instructor_id"]}
    for org in ("FX", "CA", "CB"):
        answer = world.call("POST", "/api/v1/programs", json={
            "year": YEAR, "track": "members", "organiser_org_code": org,
            "name": f"{dict((o[0], o[1]) for o in ORGS)[org]}党员培训",
            "target_person_times": 100})
        assert answer.status_code == 201, answer.text
        world.programs[org] = answer.json()["program_id"]
    return world
