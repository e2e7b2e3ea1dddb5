"""Scheduling's rules without a broker."""

from datetime import UTC, date, datetime

import pytest

from services.kit.errors import DomainError, InvalidInput
from services.scheduling import domain
from services.scheduling.models import Program, TrainingSession


def sessions(core, other, cancelled_other=0):
    made = [TrainingSession(core_theory=True, status="scheduled") for _ in range(core)]
    made += [TrainingSession(core_theory=False, status="scheduled") for _ in range(other)]
    made += [TrainingSession(core_theory=False, status="cancelled")
             for _ in range(cancelled_other)]
    return made


def test_exactly_two_thirds_core_theory_passes():
    assert domain.passes_two_thirds(sessions(4, 2))


def test_one_session_short_of_two_thirds_fails():
    assert not domain.passes_two_thirds(sessions(3, 2))


def test_cancelled_sessions_do_not_count_toward_the_two_thirds_rule():
    assert domain.passes_two_thirds(sessions(2, 1, cancelled_other=3))
    assert domain.core_theory_ratio(sessions(2, 1, cancelled_other=3)) == pytest.approx(2 / 3)


def test_a_class_without_sessions_does_not_pass():
    assert not domain.passes_two_thirds([])
    assert domain.core_theory_ratio([]) == 0.0


PROGRAM = Program(id="p", year=2026, track="secretaries", organiser_org_code="FX", name="n",
                  target_person_times=1)


def class_data(starts_at, ends_at, **overrides):
    return {"title": "t", "audience": {"sector": "village"}, "offline_capacity": 10,
            "delivery": "offline", "start_date": date(2026, 4, 1), "end_date": date(2026, 4, 1),
            "sessions": [{"course_title": "c", "core_theory": True, "kind": "lecture",
                          "starts_at": starts_at, "ends_at": ends_at, "hours": 1}],
            **overrides}


def test_class_dates_are_shanghai_dates():
    # 23:00-23:30 in Shanghai on 1 April is 15:00-15:30 UTC: inside a one-day class.
    cls = domain.new_class(class_data(datetime(2026, 4, 1, 15, tzinfo=UTC),
                                      datetime(2026, 4, 1, 15, 30, tzinfo=UTC)), PROGRAM)
    assert cls.sessions[0].starts_at.tzinfo is UTC


def test_a_session_outside_the_class_dates_is_refused_naming_it():
    # 00:30 on 2 April in Shanghai is 16:30 UTC on 1 April.
    with pytest.raises(InvalidInput) as refused:
        domain.new_class(class_data(datetime(2026, 4, 1, 16, 30, tzinfo=UTC),
                                    datetime(2026, 4, 1, 17, 0, tzinfo=UTC)), PROGRAM)
    assert "sessions.0.starts_at" in refused.value.errors


def test_a_member_class_names_a_category_not_a_sector():
    members = Program(id="p", year=2026, track="members", organiser_org_code="FX", name="n",
                      target_person_times=1)
    with pytest.raises(InvalidInput):
        domain.new_class(class_data(datetime(2026, 4, 1, 1, tzinfo=UTC),
                                    datetime(2026, 4, 1, 2, tzinfo=UTC)), members)


def test_a_session_completes_once():
    session = TrainingSession(id="s", status="scheduled")
    domain.complete_session(session)
    assert session.status == "completed"
    with pytest.raises(DomainError, match="only a scheduled session"):
        domain.complete_session(session)
