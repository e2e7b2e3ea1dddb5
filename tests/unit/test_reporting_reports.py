"""The six reports' figures against the small district of tests/support/districts.py, computed
by hand there (SQLite, no broker)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from services.kit.errors import Forbidden, InvalidInput, NotFound
from services.reporting import filing, store
from services.reporting.reports import REPORTS, common
from tests.support.databases import sqlite_engine
from tests.support.districts import district_session, load, small_district, uid


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    yield from district_session(tmp_path_factory, "reports")


def build(db, name, within=None, **params):
    spec, loaded = store.resolve(name, params, "json")
    return spec.build(db, loaded, within)


# -- class record -------------------------------------------------------------------------------

def test_class_record_counts_each_sessions_attendance_after_corrections(db):
    record = build(db, "class-record", class_id=uid("K1"))
    by_course = {s["course_title"]: s for s in record["sessions"]}
    a = by_course["学习贯彻习近平新时代党建思想"]
    b = by_course["《中国共产党支部工作条例》解读"]
    c = by_course["奉贤区经济社会形势报告"]
    assert (a["present"], a["online"], a["leave"], a["absent"]) == (2, 1, 0, 0)
    assert (b["present"], b["online"], b["leave"], b["absent"]) == (2, 0, 1, 0)   # corrected
    assert (c["present"], c["online"], c["leave"], c["absent"]) == (3, 0, 0, 0)
    assert b["attendance_rate"] == 0.6667
    assert [s["time"] for s in record["sessions"]] == ["09:00-12:00", "14:00-17:00",
                                                       "09:00-11:00"]   # Asia/Shanghai


def test_class_record_summary_completions_and_hours(db):
    record = build(db, "class-record", class_id=uid("K1"))
    summary = record["summary"]
    assert (summary["present"], summary["online"], summary["leave"], summary["absent"]) == \
        (7, 1, 1, 0)
    assert summary["attendance_rate"] == 0.8889            # 8 of 9
    assert (summary["completed"], summary["incomplete"]) == (2, 1)
    assert summary["completion_rate"] == 0.6667
    assert summary["attended_hours"] == 21.0               # 8 + 5 + 8
    assert record["class"]["class_hours"] == 8.0
    assert record["class"]["status"] == "completed"
    hours = {p["member_no"]: (p["attended_hours"], p["completion"])
             for p in record["participants"]}
    assert hours == {"S11": (8.0, "completed"), "S12": (5.0, "incomplete"),
                     "S21": (8.0, "completed")}


def test_every_class_report_shows_the_core_theory_ratio(db):
    record = build(db, "class-record", class_id=uid("K1"))
    plan = build(db, "class-plan", class_id=uid("K1"))
    for report in (record, plan):
        assert report["core_theory"] == {"core_sessions": 2, "sessions": 3, "ratio": 0.6667,
                                         "passes": True}


def test_class_record_seen_from_another_committee_counts_only_its_people(db):
    record = build(db, "class-record", within="C2", class_id=uid("K1"))
    assert [p["member_no"] for p in record["participants"]] == ["S21"]
    assert record["summary"]["present"] + record["summary"]["online"] == 3
    assert record["scope"] == {"org_code": "C2", "name": "区教育工作党委"}


def test_class_plan_lists_sessions_with_hours(db):
    plan = build(db, "class-plan", class_id=uid("K2"))
    assert [s["course_title"] for s in plan["sessions"]] == ["弘扬宪法精神,提升法治意识",
                                                             "党员发展与党费管理"]
    assert plan["totals"]["hours"] == 8.0
    assert plan["class"]["organiser_name"] == "南桥镇党委"


def test_a_class_not_seen_is_not_found_with_the_field_named(db):
    with pytest.raises(NotFound) as raised:
        build(db, "class-record", class_id=uid("nope"))
    assert "class_id" in raised.value.errors


# -- annual summary ----------------------------------------------------------------------------

def test_annual_summary_person_times_per_track_against_targets(db):
    summary = build(db, "annual-summary", year=2026)
    tracks = {t["track"]: t for t in summary["tracks"]}
    assert (tracks["secretaries"]["person_times"], tracks["secretaries"]["target"]) == (2, 4)
    assert tracks["secretaries"]["achievement"] == 0.5
    assert (tracks["members"]["person_times"], tracks["members"]["target"]) == (2, 5)
    assert tracks["secretaries"]["enrolled"] == 4     # K1 ×3, K4 ×1
    assert tracks["members"]["enrolled"] == 3         # withdrawn and cancelled count nowhere
    assert (tracks["secretaries"]["classes"], tracks["members"]["classes"]) == (2, 1)


def test_annual_summary_counts_only_the_years_classes(db):
    last_year = build(db, "annual-summary", year=2025)
    tracks = {t["track"]: t for t in last_year["tracks"]}
    assert (tracks["secretaries"]["person_times"], tracks["secretaries"]["target"]) == (1, 10)


def test_annual_summary_by_sector_and_committee_use_the_enrolments_state(db):
    summary = build(db, "annual-summary", year=2026)
    sectors = {s["sector"]: (s["secretaries"], s["members"], s["total"])
               for s in summary["by_sector"]}
    assert sectors == {"village": (1, 1, 2), "residential": (0, 1, 1),
                       "institution": (1, 0, 1), "two_new": (0, 0, 0)}
    committees = {c["committee_code"]: (c["secretaries"], c["members"], c["orgs"],
                                        c["covered"]) for c in summary["by_committee"]}
    assert committees == {"C1": (1, 2, 2, 1), "C2": (1, 0, 2, 1)}


def test_secretary_coverage_counts_current_secretaries_who_completed(db):
    summary = build(db, "annual-summary", year=2026)
    assert summary["coverage"] == {"orgs": 4, "covered": 2, "rate": 0.5}
    coverage = {s["sector"]: s["coverage"] for s in summary["by_sector"]}
    assert coverage == {"village": 1.0, "residential": 0.0, "institution": 1.0, "two_new": 0.0}


def test_study_hours_against_the_quotas(db):
    groups = {g["role"]: g for g in build(db, "annual-summary", year=2026)
              ["study_hours"]["groups"]}
    assert (groups["secretary"]["people"], groups["secretary"]["quota"]) == (3, 56.0)
    assert groups["secretary"]["total_hours"] == 16.0      # S11 8 + S21 8 (S12 incomplete)
    assert groups["secretary"]["average_hours"] == 5.33
    assert (groups["member"]["people"], groups["member"]["quota"]) == (4, 32.0)
    assert groups["member"]["reached"] == 0
    assert groups["member"]["bands"] == {"none": 2, "under_half": 2, "under_quota": 0,
                                         "reached": 0}


def test_exactly_the_quota_reaches_it_and_the_quota_is_configurable(db, monkeypatch):
    monkeypatch.setenv("PEIXUN_QUOTA_MEMBER_HOURS", "8")      # M1 and M2 have exactly 8
    monkeypatch.setenv("PEIXUN_QUOTA_SECRETARY_HOURS", "8.5")  # S11 and S21 have 8
    groups = {g["role"]: g for g in build(db, "annual-summary", year=2026)
              ["study_hours"]["groups"]}
    assert (groups["member"]["reached"], groups["member"]["rate"]) == (2, 0.5)
    assert groups["secretary"]["reached"] == 0


def test_annual_summary_of_a_committee_is_limited_to_its_subtree(db):
    summary = build(db, "annual-summary", year=2026, org_code="C1")
    tracks = {t["track"]: t for t in summary["tracks"]}
    assert (tracks["secretaries"]["person_times"], tracks["members"]["person_times"]) == (1, 2)
    assert summary["coverage"] == {"orgs": 2, "covered": 1, "rate": 0.5}
    assert [c["committee_code"] for c in summary["by_committee"]] == ["C1"]
    assert sum(g["people"] for g in summary["study_hours"]["groups"]) == 4   # S11 S12 M1 M2


def test_a_committee_admin_cannot_ask_for_another_subtree(db):
    with pytest.raises(Forbidden):
        build(db, "annual-summary", within="C2", year=2026, org_code="C1")
    forced = build(db, "annual-summary", within="C2", year=2026)
    assert forced["scope"]["org_code"] == "C2"


# -- coverage gaps ------------------------------------------------------------------------------

def test_coverage_gaps_name_organisations_whose_secretary_has_not_trained(db):
    gaps = build(db, "coverage-gaps", year=2026)
    assert [(g["org_code"], g["gap"]) for g in gaps["secretaries"]] == [
        ("G12", "incomplete"), ("G22", "no_secretary")]
    assert [(m["member_no"], m["gap"]) for m in gaps["members"]] == [("M3", "incomplete")]
    per = {c["committee_code"]: (c["orgs"], c["secretary_gaps"], c["member_gaps"])
           for c in gaps["by_committee"]}
    assert per == {"C1": (2, 1, 0), "C2": (2, 1, 1)}


# -- personal archive ------------------------------------------------------------------------

def test_personal_archive_by_year_credits_only_completed_classes(db):
    archive = build(db, "personal-archive", member_no="S12")
    assert archive["summary"] == [
        {"year": 2025, "class_hours": 6.0, "other_hours": 0.0, "total_hours": 6.0,
         "quota": 56.0, "reached": False},
        {"year": 2026, "class_hours": 0.0, "other_hours": 0.0, "total_hours": 0.0,
         "quota": 56.0, "reached": False}]
    classes_2026 = archive["years"][1]["classes"]
    assert [(c["title"], c["completion"], c["attended_hours"]) for c in classes_2026] == [
        ("K1班", "incomplete", 5.0), ("K4班", None, 0.0)]
    assert [s["status"] for s in archive["years"][1]["sessions"]] == ["present", "leave",
                                                                       "present"]
    assert archive["person"]["role"] == "secretary"


def test_personal_archive_for_one_year(db):
    archive = build(db, "personal-archive", member_no="S12", year=2025)
    assert [y["year"] for y in archive["years"]] == [2025]


def test_personal_archive_outside_the_callers_subtree_is_forbidden(db):
    with pytest.raises(Forbidden):
        build(db, "personal-archive", within="C2", member_no="S12")


# -- filing status -------------------------------------------------------------------------------

def test_filing_status_lists_late_and_missing_filings_as_overdue(tmp_path):
    engine = sqlite_engine(tmp_path / "filing.db", "reporting")
    load(engine, small_district().events)
    with Session(engine) as db:
        class Outbox:
            def add(self, *args):
                pass

        plan = filing.file(db, Outbox(), uid("K1"), "plan", None, "district_admin",
                           now=datetime(2026, 3, 30, 2, tzinfo=UTC))          # in time
        filing.review(db, Outbox(), plan["filing_id"], "acknowledged", None, None, "d",
                      now=datetime(2026, 3, 31, 2, tzinfo=UTC))
        filing.file(db, Outbox(), uid("K1"), "record", None, "district_admin",
                    now=datetime(2026, 4, 10, 1, tzinfo=UTC))                 # a day late
        status = build(db, "filing-status", year=2026, as_of="2026-06-01")
    items = {(i["title"], i["kind"]): (i["state"], i["overdue"], i["overdue_reason"])
             for i in status["items"]}
    assert items == {
        ("K1班", "plan"): ("acknowledged", False, None),
        ("K1班", "record"): ("filed", True, "逾期报送"),
        ("K2班", "plan"): ("overdue", True, "逾期未报"),
        ("K2班", "record"): ("overdue", True, "逾期未报"),   # completed 05-11, due 05-18
        ("K4班", "plan"): ("due", False, None),
        ("K4班", "record"): ("not_due", False, None),
    }
    per = {o["org_code"]: (o["due"], o["acknowledged"], o["filed"], o["not_filed"],
                           o["overdue"]) for o in status["organisations"]}
    assert per == {"FX": (3, 1, 1, 1, 1), "C1": (2, 0, 0, 2, 2)}
    assert len(status["overdue"]) == 3
    engine.dispose()


# -- parameters -----------------------------------------------------------------------------------

def test_bad_parameters_name_the_field():
    with pytest.raises(InvalidInput) as raised:
        store.resolve("annual-summary", {"year": "twenty", "colour": "red"}, "json")
    assert set(raised.value.errors) == {"year", "colour"}
    with pytest.raises(InvalidInput) as raised:
        store.resolve("class-record", {"class_id": uid("K1")}, "png")
    assert "format" in raised.value.errors
    with pytest.raises(NotFound):
        store.resolve("weekly-gossip", {}, "json")


def test_every_report_has_a_layout(db):
    params = {"class-record": {"class_id": uid("K1")}, "class-plan": {"class_id": uid("K1")},
              "personal-archive": {"member_no": "S11"}}
    for name, spec in REPORTS.items():
        document = spec.layout(build(db, name, **params.get(name, {"year": 2026})))
        assert document.title and document.tables


def test_a_completion_whose_enrolment_has_not_arrived_counts_where_the_completion_says(tmp_path):
    district = small_district()
    district.add("enrollment", "completion_recorded", {
        "enrollment_id": uid("EZ"), "class_id": uid("K1"), "member_no": "S22", "year": 2026,
        "status": "completed", "attended_hours": 8, "class_hours": 8, "org_code": "G22",
        "committee_code": "C2", "sector": "two_new", "category": None})
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, district.events)
    with Session(engine) as db:
        summary = build(db, "annual-summary", year=2026)
    engine.dispose()
    assert summary["tracks"][0]["person_times"] == 3
    committees = {c["committee_code"]: c["secretaries"] for c in summary["by_committee"]}
    assert committees == {"C1": 1, "C2": 2}
    assert {s["sector"]: s["secretaries"] for s in summary["by_sector"]}["two_new"] == 1


def test_coverage_follows_the_current_secretary_and_person_times_the_state_at_enrolment(
        tmp_path):
    district = small_district()
    # Later in the year: G11 gets a new secretary who has not trained; M1 moves to C2.
    district.org("G11", "南桥村党总支", "C1", "grassroots", "village", "S13")
    district.person("M1", "G21", "C2")
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, district.events)
    with Session(engine) as db:
        summary = build(db, "annual-summary", year=2026)
    engine.dispose()
    assert summary["coverage"] == {"orgs": 4, "covered": 1, "rate": 0.25}
    committees = {c["committee_code"]: c["members"] for c in summary["by_committee"]}
    assert committees == {"C1": 2, "C2": 0}    # M1 still counts where they enrolled


def test_reports_reuse_the_tree_until_an_organisation_changes(tmp_path):
    district = small_district()
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, district.events)
    with Session(engine) as db:
        assert common.load_tree(db) is common.load_tree(db)     # built once, then kept
        first = build(db, "annual-summary", year=2026)
    assert {c["name"] for c in first["by_committee"]} == {"南桥镇党委", "区教育工作党委"}

    district.events.clear()
    district.org("C1", "南桥镇党委（更名）", "FX", "committee")
    load(engine, district.events)
    with Session(engine) as db:
        renamed = build(db, "annual-summary", year=2026)
    engine.dispose()
    assert {c["name"] for c in renamed["by_committee"]} == {"南桥镇党委（更名）", "区教育工作党委"}
