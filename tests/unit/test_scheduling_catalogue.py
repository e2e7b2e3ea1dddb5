"""The catalogue seeded from the article, its edits (which scheduled sessions do not follow),
core theory from the catalogue only, and the reads the rules stand on, on SQLite."""

from datetime import date, datetime

import pytest

from services.contracts.commands.scheduling import INSTRUCTOR_KINDS, SITE_KINDS, SessionIn
from services.kit.clock import SHANGHAI
from services.kit.errors import DomainError, InvalidInput
from services.kit.validation import load
from services.scheduling import catalogue, domain, queries
from services.scheduling.models import Course, Instructor, Program, Site, Venue


@pytest.fixture
def db(sqlite_db):
    return sqlite_db("scheduling")


def test_seeding_twice_adds_nothing_the_second_time(db):
    first = catalogue.seed(db)
    db.commit()
    second = catalogue.seed(db)
    assert {k: v["created"] for k, v in second.items()} == \
        {"instructors": 0, "courses": 0, "venues": 0, "sites": 0}
    assert {k: v["total"] for k, v in second.items()} == \
        {k: v["created"] for k, v in first.items()}


def test_the_seed_has_the_courses_the_article_names_in_chinese(db):
    catalogue.seed(db)
    titles = {c.title for c in db.query(Course)}
    for named in ("学习贯彻习近平新时代党建思想", "奉贤区经济社会形势报告",
                  "弘扬宪法精神，提升法治意识", "《中国共产党支部工作条例》解读",
                  "党建引领乡村振兴实践", "农村“三资”管理", "奉贤“三块地”改革",
                  "农村生态环境治理", "党建引领社会治理创新",
                  "如何做好“宜居小区·和美楼组”创建工作", "如何做好一名居民区党组织书记",
                  "发展党员工作实务", "党费收缴、使用和管理", "重温入党誓词"):
        assert named in titles
    village = {c.title for c in db.query(Course) if "village" in c.sectors}
    assert village == {"党建引领乡村振兴实践", "农村“三资”管理", "奉贤“三块地”改革",
                       "农村生态环境治理"}
    # enough core theory for a two-thirds class of any length
    assert sum(c.core_theory for c in db.query(Course)) >= 6
    oath = db.query(Course).filter_by(title="重温入党誓词").one()
    assert oath.default_kind == "oath" and oath.default_instructor is not None


def test_the_seed_has_every_instructor_kind_and_site_kind(db):
    catalogue.seed(db)
    assert {i.kind for i in db.query(Instructor)} == set(INSTRUCTOR_KINDS)
    assert {s.kind for s in db.query(Site)} == set(SITE_KINDS)
    assert all(v.name.startswith("区委党校") and v.seats > 0 for v in db.query(Venue))


def test_sites_suit_the_member_categories_design_names(db):
    catalogue.seed(db)
    suits = {}
    for site in db.query(Site):
        for audience in site.audiences:
            suits.setdefault(audience, set()).add(site.kind)
    assert suits == {
        "institution": {"rural_revitalisation", "social_governance"},
        "enterprise": {"new_city_project", "two_new_demo"},
        "new_member": {"red_village", "archives", "party_service_centre"},
    }


def test_catalogue_names_are_unique_and_references_must_exist(db):
    catalogue.add(db, Venue, {"name": "区委党校第九教室", "seats": 30, "address": None})
    with pytest.raises(DomainError, match="already has a venue"):
        catalogue.add(db, Venue, {"name": "区委党校第九教室", "seats": 40, "address": None})
    with pytest.raises(InvalidInput, match="no instructor"):
        catalogue.add(db, Course, {"title": "t", "themes": [], "core_theory": True,
                                   "default_kind": "lecture", "default_hours": 1,
                                   "default_instructor_id": "nobody", "sectors": []})


def at(hhmm, day=1):
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 4, day, hour, minute, tzinfo=SHANGHAI)


def saved_class(db, program, venue, starts, ends, title="班次"):
    data = {"title": title, "audience": {"sector": "village", "module": "basic_theory"},
            "offline_capacity": 50, "delivery": "offline", "start_date": date(2026, 4, 1),
            "end_date": date(2026, 4, 1),
            "sessions": [{"course_title": "c", "core_theory": False, "kind": "lecture",
                          "starts_at": at(starts), "ends_at": at(ends), "hours": 1,
                          "venue_id": venue.id}]}
    refs = queries.catalogue_for(db, inputs=data["sessions"])
    training_class = domain.new_class(data, program, refs, queries.DbBookings(db))
    db.add(training_class)
    db.flush()
    return training_class


def test_the_database_finds_other_classes_bookings_of_the_same_room(db):
    venue = catalogue.add(db, Venue, {"name": "区委党校第一教室", "seats": 150, "address": None})
    program = Program(id=domain.new_id(), year=2026, track="secretaries",
                      organiser_org_code="FX", name="n", target_person_times=1)
    db.add(program)
    first = saved_class(db, program, venue, "09:00", "10:30")
    saved_class(db, program, venue, "10:30", "12:00")   # back to back: fine
    with pytest.raises(DomainError) as refused:
        saved_class(db, program, venue, "10:00", "11:00")
    assert refused.value.info["rule"] == domain.VENUE_DOUBLE_BOOKED
    assert first.sessions[0].id in refused.value.message
    domain.cancel_class(first)
    db.flush()
    saved_class(db, program, venue, "09:00", "10:00")   # a cancelled class frees the room


def test_lists_page_and_count(db):
    catalogue.seed(db)
    query = {"page": 2, "per_page": 5}
    items, total = queries.venues(db, query)
    assert total == len(catalogue.VENUES) and len(items) == total - 5
    items, total = queries.sites(db, {"page": 1, "per_page": 50, "audience": "new_member"})
    assert {s.kind for s in items} == {"red_village", "archives", "party_service_centre"}
    items, total = queries.courses(db, {"page": 1, "per_page": 100, "sector": "residential"})
    assert all(not c.sectors or "residential" in c.sectors for c in items)


# -- editing the catalogue -----------------------------------------------------------------------

def test_catalogue_items_are_edited_and_names_stay_unique(db):
    catalogue.seed(db)
    course = db.query(Course).filter_by(title="发展党员工作实务").one()
    professor = db.query(Instructor).filter_by(name="市委党校党建教研部教授").one()
    catalogue.change(db, course, {"default_hours": 3.0, "default_instructor_id": professor.id})
    assert course.default_hours == 3.0 and course.default_instructor.name == professor.name
    with pytest.raises(DomainError, match=catalogue.CATALOGUE_UNIQUE):
        catalogue.change(db, course, {"title": "党费收缴、使用和管理"})
    catalogue.change(db, course, {"title": "发展党员工作实务"})   # its own name is no clash
    with pytest.raises(InvalidInput, match="no instructor"):
        catalogue.change(db, course, {"default_instructor_id": "nobody"})


def test_a_scheduled_session_keeps_the_copy_it_was_scheduled_with(db):
    catalogue.seed(db)
    course = db.query(Course).filter_by(title="学习贯彻习近平新时代党建思想").one()
    venue = db.query(Venue).filter_by(name="区委党校报告厅").one()
    program = Program(id=domain.new_id(), year=2026, track="secretaries",
                      organiser_org_code="FX", name="n", target_person_times=1)
    db.add(program)
    data = {"title": "班次", "audience": {"sector": "village", "module": "basic_theory"},
            "offline_capacity": 50, "delivery": "offline", "start_date": date(2026, 4, 1),
            "end_date": date(2026, 4, 1),
            "sessions": [{"course_id": course.id, "venue_id": venue.id,
                          "starts_at": at("09:00"), "ends_at": at("12:00")}]}
    refs = queries.catalogue_for(db, inputs=data["sessions"])
    training_class = domain.new_class(data, program, refs, queries.DbBookings(db))
    db.add(training_class)
    domain.publish(training_class, refs, queries.DbBookings(db))
    db.flush()
    catalogue.change(db, course, {"title": "新标题", "core_theory": False, "default_hours": 1.0})
    catalogue.change(db, venue, {"name": "区委党校大礼堂"})
    catalogue.change(db, course.default_instructor, {"name": "新名字"})
    [session] = training_class.sessions
    domain.reschedule(session, {"starts_at": at("13:00"), "ends_at": at("16:00")},
                      queries.catalogue_for(db, sessions=training_class.sessions),
                      queries.DbBookings(db))
    assert (session.course_title, session.core_theory, session.hours) == \
        ("学习贯彻习近平新时代党建思想", True, 3.0)
    assert (session.venue_name, session.instructor_name) == \
        ("区委党校报告厅", "市委党校党建教研部教授")
    assert domain.passes_two_thirds(training_class.sessions)


def test_core_theory_comes_from_the_catalogue_only():
    session = {"course_title": "自拟课程", "kind": "lecture", "hours": 2,
               "starts_at": "2026-04-01T09:00:00+08:00", "ends_at": "2026-04-01T11:00:00+08:00"}
    with pytest.raises(InvalidInput) as refused:
        load(SessionIn(), {**session, "core_theory": True})
    assert list(refused.value.errors) == ["core_theory"]
    assert "catalogue" in refused.value.errors["core_theory"][0]
    assert load(SessionIn(), session)["core_theory"] is None
    assert load(SessionIn(), {**session, "core_theory": False})["core_theory"] is False
