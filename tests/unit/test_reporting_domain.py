"""Reporting's rules (services/reporting/domain.py), without a database."""

from datetime import date, datetime

import pytest

from services.contracts.document import display_width
from services.kit.clock import SHANGHAI as SH
from services.kit.errors import DomainError, Forbidden, InvalidInput, NotFound
from services.reporting import domain as d
from services.reporting.reports import common


def tree():
    return d.OrgTree.build([
        d.Org("FX", "区委", None, "district", None, None),
        d.Org("C1", "镇党委", "FX", "committee", None, None),
        d.Org("G11", "村党总支", "C1", "grassroots", "village", "S11"),
        d.Org("B111", "第一支部", "G11", "grassroots", "village", None),
        d.Org("C2", "教育党委", "FX", "committee", None, None),
    ])


# -- the tree and scopes --------------------------------------------------------------------

def test_the_committee_is_the_ancestor_directly_under_the_root():
    t = tree()
    assert t.committee_of("B111") == "C1"
    assert t.committee_of("G11") == "C1"
    assert t.committee_of("C1") == "C1"
    assert t.committee_of("FX") is None


def test_a_scope_is_the_organisations_subtree():
    t = tree()
    assert t.subtree("C1") == {"C1", "G11", "B111"}
    scope = d.Scope(t, "G11")
    assert scope.contains("B111") and not scope.contains("C1")
    assert d.Scope(t).contains("anything")


def test_a_scope_outside_the_callers_subtree_is_forbidden_and_an_unknown_one_not_found():
    t = tree()
    with pytest.raises(Forbidden):
        d.Scope(t, "C2", within="C1")
    assert d.Scope(t, "G11", within="C1").org_code == "G11"
    assert d.Scope(t, None, within="C1").org_code == "C1"
    with pytest.raises(NotFound):
        d.Scope(t, "ZZ")


def test_the_reviewer_is_the_parent_and_the_root_is_reviewed_by_the_district_admin():
    t = tree()
    assert d.reviewer_of(t, "G11") == "C1"
    assert d.reviewer_of(t, "C1") == "FX"
    assert d.reviewer_of(t, "FX") is None


# -- numbers ----------------------------------------------------------------------------------

def test_reports_hold_a_class_to_the_two_thirds_rule_at_its_boundary():
    def passes(core: int, total: int, cancelled: int = 0) -> bool:
        sessions = [{"status": "scheduled", "core_theory": i < core} for i in range(total)]
        sessions += [{"status": "cancelled", "core_theory": False}] * cancelled
        return common.core_theory(sessions, 0.0)["passes"]

    assert passes(2, 3) and passes(4, 6) and passes(2, 3, cancelled=3)
    assert not passes(1, 2) and not passes(3, 5)


def test_exactly_the_quota_reaches_it():
    assert d.reached_quota(3200, 32)
    assert not d.reached_quota(3199, 32)
    assert d.reached_quota(5600, 56.0)


def test_quotas_default_to_56_and_32_and_come_from_the_environment(monkeypatch):
    assert d.quotas() == d.Quotas(56.0, 32.0)
    monkeypatch.setenv("PEIXUN_QUOTA_SECRETARY_HOURS", "60")
    monkeypatch.setenv("PEIXUN_QUOTA_MEMBER_HOURS", "40")
    assert d.quotas() == d.Quotas(60.0, 40.0)


def test_rates_round_to_four_places_and_nothing_over_nothing_is_none():
    assert d.rate(2, 3) == 0.6667
    assert d.rate(0, 0) is None


def test_file_names_leave_the_scope_out_district_wide():
    assert d.file_name("annual-summary", None, 2026, "xlsx") == "annual-summary-2026.xlsx"
    assert d.file_name("coverage-gaps", "C1", 2026, "pdf") == "coverage-gaps-C1-2026.pdf"
    assert d.file_name("personal-archive", "M1", None, "csv") == "personal-archive-M1.csv"


def test_chinese_characters_count_two_columns():
    assert display_width("书记") == 4
    assert display_width("ab") == 2
    assert display_width("（2/3）") == 7


# -- filing deadlines ---------------------------------------------------------------------------

def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def test_the_plan_is_in_time_until_the_end_of_the_day_before_the_class_starts():
    deadline = d.plan_deadline(date(2026, 4, 1))
    assert deadline == date(2026, 3, 31)
    assert d.in_time(at("2026-03-31T23:59:59"), deadline)
    assert not d.in_time(at("2026-04-01T00:00:00"), deadline)


def test_the_record_is_in_time_until_2359_shanghai_of_the_seventh_day():
    deadline = d.record_deadline(date(2026, 4, 2))
    assert deadline == date(2026, 4, 9)
    assert d.in_time(at("2026-04-09T23:59:59"), deadline)
    assert not d.in_time(at("2026-04-10T00:00:00"), deadline)
    # 16:30 UTC on day 7 is already 00:30 of day 8 in Shanghai.
    assert not d.in_time(datetime.fromisoformat("2026-04-09T16:30:00+00:00"), deadline)


def test_a_record_is_not_due_before_the_class_completes():
    assert d.deadline_for("record", date(2026, 4, 1), None) is None
    assert d.filing_state(None, [], date(2027, 1, 1)) == d.FilingState("not_due", False, False,
                                                                       None)


def test_missing_past_the_deadline_is_overdue_and_on_the_deadline_is_only_due():
    deadline = date(2026, 4, 9)
    assert d.filing_state(deadline, [], date(2026, 4, 9)).state == "due"
    state = d.filing_state(deadline, [], date(2026, 4, 10))
    assert (state.state, state.overdue, state.reason) == ("overdue", True, "逾期未报")


def test_a_late_filing_stays_listed_as_overdue_even_once_acknowledged():
    deadline = date(2026, 4, 9)
    state = d.filing_state(deadline, [(at("2026-04-10T08:00:00"), "acknowledged")],
                           date(2026, 5, 1))
    assert (state.state, state.late, state.overdue, state.reason) == \
        ("acknowledged", True, True, "逾期报送")


def test_a_return_not_refiled_by_the_deadline_is_overdue():
    deadline = date(2026, 4, 9)
    versions = [(at("2026-04-05T08:00:00"), "returned")]
    assert not d.filing_state(deadline, versions, date(2026, 4, 9)).overdue
    state = d.filing_state(deadline, versions, date(2026, 4, 10))
    assert (state.state, state.overdue, state.reason) == ("returned", True, "退回后逾期未重报")
    refiled = versions + [(at("2026-04-11T08:00:00"), None)]
    assert d.filing_state(deadline, refiled, date(2026, 4, 12)) == \
        d.FilingState("filed", False, False, None)   # the first version was in time


# -- who may file and review --------------------------------------------------------------------

def test_only_the_organiser_or_a_district_admin_files():
    d.check_may_file("plan", "published", "G11", "G11", None)
    d.check_may_file("plan", "published", "G11", None, None)
    with pytest.raises(Forbidden):
        d.check_may_file("plan", "published", "G11", "C1", None)


def test_a_record_is_filed_only_after_the_class_completed():
    with pytest.raises(DomainError) as raised:
        d.check_may_file("record", "published", "G11", None, None)
    assert raised.value.info["rule"] == "record_after_completion"
    d.check_may_file("record", "completed", "G11", None, None)


def test_no_new_version_while_one_awaits_review_and_nothing_for_a_cancelled_class():
    with pytest.raises(DomainError) as raised:
        d.check_may_file("plan", "published", "G11", None, 2)
    assert raised.value.info["rule"] == "pending_review"
    with pytest.raises(DomainError):
        d.check_may_file("plan", "cancelled", "G11", None, None)
    with pytest.raises(InvalidInput):
        d.check_may_file("minutes", "published", "G11", None, None)


def test_the_parent_reviews_once_and_a_return_needs_a_reason():
    d.check_may_review("C1", "C1", None, "acknowledged", None)
    d.check_may_review("C1", None, None, "acknowledged", None)   # a district_admin
    with pytest.raises(Forbidden):
        d.check_may_review("C1", "G11", None, "acknowledged", None)
    with pytest.raises(Forbidden):
        d.check_may_review(None, "FX", None, "acknowledged", None)   # root: district_admin only
    with pytest.raises(DomainError):
        d.check_may_review("C1", "C1", "acknowledged", "returned", "late")
    with pytest.raises(InvalidInput) as raised:
        d.check_may_review("C1", "C1", None, "returned", "  ")
    assert "reason" in raised.value.errors
