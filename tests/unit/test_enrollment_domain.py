"""Enrollment's rules on their own (domain.py): categories, shares, deadlines, places."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from services.enrollment import domain
from services.enrollment.domain import SHANGHAI, ClassFacts, PersonFacts

# -- categories --------------------------------------------------------------------------------


def test_a_member_is_new_until_exactly_three_years_after_joining():
    joined = date(2023, 4, 1)
    assert domain.member_category(joined, "enterprise", date(2026, 3, 31)) == "new_member"
    assert domain.member_category(joined, "enterprise", date(2026, 4, 1)) == "enterprise"


def test_three_years_from_29_february_end_on_28_february():
    assert domain.add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert domain.is_new_member(date(2024, 2, 29), date(2027, 2, 27))
    assert not domain.is_new_member(date(2024, 2, 29), date(2027, 2, 28))


def test_otherwise_employment_decides_and_other_is_no_category():
    old = date(2000, 7, 1)
    assert domain.member_category(old, "institution", date(2026, 4, 1)) == "institution"
    assert domain.member_category(old, "enterprise", date(2026, 4, 1)) == "enterprise"
    assert domain.member_category(old, "other", date(2026, 4, 1)) is None
    assert domain.member_category(None, None, date(2026, 4, 1)) is None


def test_the_category_is_computed_against_the_class_start_date():
    joined = date(2023, 6, 1)
    assert domain.member_category(joined, "other", date(2026, 5, 31)) == "new_member"
    assert domain.member_category(joined, "other", date(2026, 6, 1)) is None


# -- online: 80% of the session ----------------------------------------------------------------

STARTS = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def test_watching_exactly_80_percent_of_a_session_is_online():
    ends = STARTS + timedelta(minutes=90)
    assert domain.watched_enough(72, STARTS, ends)
    assert not domain.watched_enough(71.99, STARTS, ends)


def test_the_online_share_is_exact_for_awkward_lengths():
    ends = STARTS + timedelta(minutes=100)
    assert domain.watched_enough(80.0, STARTS, ends)
    assert domain.watched_enough(40.0 + 40.0, STARTS, ends)     # reports add up
    assert not domain.watched_enough(79.9, STARTS, ends)
    odd = STARTS + timedelta(minutes=7)
    assert domain.watched_enough(5.6, STARTS, odd)               # 5 × 5.6 = 4 × 7
    assert not domain.watched_enough(5.599, STARTS, odd)


def test_present_is_never_downgraded_by_an_online_report():
    assert domain.online_report_upgrades(None)
    assert domain.online_report_upgrades("absent")
    assert domain.online_report_upgrades("leave")
    assert not domain.online_report_upgrades("present")
    assert not domain.online_report_upgrades("online")


# -- completion --------------------------------------------------------------------------------

def test_completion_at_exactly_80_percent_of_the_class_hours():
    assert domain.is_completed(8, 10, Fraction(4, 5))
    assert domain.is_completed(4.8, 6.0, Fraction(4, 5))       # 0.8 × 6.0 in floats is 4.800…01
    assert not domain.is_completed(7.99, 10, Fraction(4, 5))
    assert domain.is_completed(0.1 + 0.2 + 2.1, 3.0, Fraction(4, 5))   # 2.4000000000000004


def test_a_class_without_hours_completes_no_one():
    assert not domain.is_completed(0, 0, Fraction(4, 5))


def test_the_completion_share_is_configurable(monkeypatch):
    monkeypatch.delenv("PEIXUN_COMPLETION_SHARE", raising=False)
    assert domain.completion_share() == Fraction(4, 5)
    monkeypatch.setenv("PEIXUN_COMPLETION_SHARE", "0.75")
    assert domain.completion_share() == Fraction(3, 4)
    assert domain.is_completed(7.5, 10)
    assert not domain.is_completed(7.49, 10)
    monkeypatch.setenv("PEIXUN_COMPLETION_SHARE", "1.5")
    with pytest.raises(ValueError):
        domain.completion_share()


def test_present_and_online_earn_the_session_hours_leave_and_absent_none():
    assert [domain.hours_earned(s, 2.5) for s in ("present", "online", "leave", "absent")] == \
        [2.5, 2.5, 0.0, 0.0]


# -- time rules --------------------------------------------------------------------------------

SESSION_END = datetime(2026, 4, 1, 16, 30, tzinfo=SHANGHAI)


def test_corrections_are_accepted_until_2359_shanghai_on_the_seventh_day():
    assert domain.correction_deadline(SESSION_END) == datetime(
        2026, 4, 8, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert domain.may_correct(SESSION_END, datetime(2026, 4, 8, 23, 59, tzinfo=SHANGHAI))
    assert not domain.may_correct(SESSION_END, datetime(2026, 4, 9, 0, 0, tzinfo=SHANGHAI))


def test_the_correction_day_is_counted_in_shanghai_not_utc():
    # 17:00 UTC on 1 April is 01:00 on 2 April in Shanghai: the session's day is 2 April.
    late = datetime(2026, 4, 1, 17, 0, tzinfo=UTC)
    assert domain.correction_deadline(late).date() == date(2026, 4, 9)
    assert domain.may_correct(late, datetime(2026, 4, 9, 15, 59, tzinfo=UTC))   # 23:59 Shanghai
    assert not domain.may_correct(late, datetime(2026, 4, 9, 16, 0, tzinfo=UTC))


def test_a_checkin_more_than_two_hours_outside_the_session_is_outside():
    starts, ends = STARTS, STARTS + timedelta(hours=2)
    tolerance = domain.CHECKIN_TOLERANCE
    assert tolerance == timedelta(hours=2)
    assert not domain.outside_session_time(starts - tolerance, starts, ends)
    assert domain.outside_session_time(starts - tolerance - timedelta(seconds=1), starts, ends)
    assert not domain.outside_session_time(ends + tolerance, starts, ends)
    assert domain.outside_session_time(ends + tolerance + timedelta(seconds=1), starts, ends)


def test_sessions_that_only_touch_do_not_overlap():
    a = (STARTS, STARTS + timedelta(hours=2))
    assert domain.overlaps(*a, STARTS + timedelta(hours=1), STARTS + timedelta(hours=3))
    assert not domain.overlaps(*a, STARTS + timedelta(hours=2), STARTS + timedelta(hours=3))


# -- places ------------------------------------------------------------------------------------

def test_the_last_offline_seat_is_confirmed_and_the_next_person_waitlisted():
    assert domain.place("offline", offline_confirmed=59, capacity=60) == "confirmed"
    assert domain.place("offline", offline_confirmed=60, capacity=60) == "waitlisted"


def test_online_places_are_not_capped():
    assert domain.place("online", offline_confirmed=60, capacity=60) == "confirmed"
    assert domain.place("online", offline_confirmed=0, capacity=0) == "confirmed"


def test_free_seats_go_to_as_many_waitlisted_as_fit():
    assert domain.seats_to_promote(capacity=60, offline_confirmed=59, waiting=3) == 1
    assert domain.seats_to_promote(capacity=60, offline_confirmed=60, waiting=3) == 0
    assert domain.seats_to_promote(capacity=60, offline_confirmed=50, waiting=3) == 3


def test_a_live_class_has_only_online_places_and_hybrid_both():
    assert domain.choose_mode("live", None) == "online"
    assert domain.choose_mode("offline", None) == "offline"
    assert domain.choose_mode("hybrid", "online") == "online"
    assert isinstance(domain.choose_mode("live", "offline"), domain.Refusal)
    assert isinstance(domain.choose_mode("offline", "online"), domain.Refusal)


def test_a_quota_refuses_once_used_up():
    assert domain.quota_refusal(None, 100, "FX01") is None
    assert domain.quota_refusal(2, 1, "FX01") is None
    assert domain.quota_refusal(2, 2, "FX01").rule == "quota"


# -- eligibility -------------------------------------------------------------------------------

SECRETARY_CLASS = ClassFacts(track="secretaries", status="published", delivery="offline",
                             start_date=date(2026, 4, 1), sector="village")
MEMBER_CLASS = ClassFacts(track="members", status="published", delivery="offline",
                          start_date=date(2026, 4, 1), category="enterprise")


def person(**kw):
    base = dict(member_no="M1", active=True, joined_on=date(2000, 7, 1),
                employment="enterprise")
    return PersonFacts(**{**base, **kw})


def test_a_secretary_class_takes_sitting_secretaries_of_its_sector():
    ok = person(secretary_of="FX0101", secretary_org_sector="village")
    assert domain.eligibility_refusal(SECRETARY_CLASS, ok) is None
    refusal = domain.eligibility_refusal(SECRETARY_CLASS, person())
    assert refusal.rule == "eligibility" and "not a sitting secretary" in refusal.reason
    other_sector = person(secretary_of="FX0102", secretary_org_sector="residential")
    refusal = domain.eligibility_refusal(SECRETARY_CLASS, other_sector)
    assert "residential" in refusal.reason and "village" in refusal.reason


def test_a_secretary_class_for_all_sectors_takes_every_sitting_secretary():
    every = ClassFacts(track="secretaries", status="published", delivery="live",
                       start_date=date(2026, 4, 1), sector=None)
    assert domain.eligibility_refusal(
        every, person(secretary_of="X", secretary_org_sector="two_new")) is None


def test_a_member_class_takes_members_of_its_category():
    assert domain.eligibility_refusal(MEMBER_CLASS, person()) is None
    refusal = domain.eligibility_refusal(MEMBER_CLASS, person(employment="institution"))
    assert refusal.reason == "category institution; the class is for enterprise"
    new = person(joined_on=date(2024, 1, 1))
    assert "category new_member" in domain.eligibility_refusal(MEMBER_CLASS, new).reason
    assert "no member category" in domain.eligibility_refusal(
        MEMBER_CLASS, person(employment="other")).reason


def test_no_one_enrols_in_a_class_that_is_not_published_or_as_someone_who_left():
    cancelled = ClassFacts(track="members", status="cancelled", delivery="offline",
                           start_date=date(2026, 4, 1), category="enterprise")
    assert domain.eligibility_refusal(cancelled, person()).rule == "class_status"
    assert domain.eligibility_refusal(MEMBER_CLASS, person(active=False)).reason == \
        "the member has left"
    assert domain.eligibility_refusal(MEMBER_CLASS, None).reason == "no such member"


# -- the tree ----------------------------------------------------------------------------------

def test_tree_paths_name_a_missing_parent_and_a_cycle_and_everything_below_them():
    paths, bad = domain.tree_paths({"R": None, "A": "R", "B": "A", "C": "X", "D": "C",
                                    "E": "F", "F": "E", "G": "F"})
    assert paths == {"R": "/R/", "A": "/R/A/", "B": "/R/A/B/"}
    assert bad["C"] == "parent X never appears"
    assert bad["D"] == "its ancestor C is not valid"
    assert bad["E"].startswith("forms a cycle") and bad["F"].startswith("forms a cycle")
    assert bad["G"] == "its ancestor F is not valid"


def test_the_committee_is_the_ancestor_directly_under_the_root():
    assert domain.committee_of("/FX/FX01/FX0101/") == "FX01"
    assert domain.committee_of("/FX/FX01/") == "FX01"
    assert domain.committee_of("/FX/") is None
    assert domain.ancestors_from_path("/FX/FX01/FX0101/") == ["FX0101", "FX01", "FX"]
