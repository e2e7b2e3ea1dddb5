"""Nominations and places (enrolment.py): eligibility with reasons, one enrolment per person
per class, quotas per committee, capped offline seats with a first-come waitlist, uncapped
online places, and a cancelled class releasing everyone."""

import pytest
from sqlalchemy import select

from services.enrollment import enrolment, tree
from services.enrollment.models import Enrollment, TrainingSession
from services.kit import RetryLater
from services.kit.errors import DomainError, InvalidInput
from tests.support.worlds import START, change, class_data, session_data


def statuses(world, class_id):
    return {e.member_no: e.status for e in world.db.execute(
        select(Enrollment).where(Enrollment.class_id == class_id)).scalars()}


def refused(result):
    return {r["member_no"]: (r["rule"], r["reason"]) for r in result["refused"]}


# -- eligibility -------------------------------------------------------------------------------

def test_a_member_class_refuses_other_categories_with_reasons(world):
    class_id = world.klass(category="enterprise", capacity=10)
    result = world.nominate(class_id, "E1", "I1", "N1", "O1", "NOBODY")
    assert [e.member_no for e in result["enrolled"]] == ["E1"]
    assert refused(result) == {
        "I1": ("eligibility", "category institution; the class is for enterprise"),
        "N1": ("eligibility", "category new_member; the class is for enterprise"),
        "O1": ("eligibility", "in no member category (employment other, joined more than "
                              "three years before the class)"),
        "NOBODY": ("member", "no such member"),
    }


def test_new_members_are_those_within_three_years_of_the_class_start(world):
    # N1 joined 2024-05-01: new until 2027-05-01.
    before = world.klass(category="new_member", start=START)
    last_day = world.klass(category="institution", start=START.replace(year=2027, day=30))
    after = world.klass(category="institution", start=START.replace(year=2027, month=5, day=1))
    assert world.nominate(before, "N1")["enrolled"]
    assert refused(world.nominate(last_day, "N1"))["N1"][1] == \
        "category new_member; the class is for institution"
    assert world.nominate(after, "N1")["enrolled"]


def test_a_secretary_class_takes_sitting_secretaries_of_a_matching_sector(world):
    village = world.klass(track="secretaries", sector="village", module="advanced")
    result = world.nominate(village, "V1", "R1", "E1")
    assert [e.member_no for e in result["enrolled"]] == ["V1"]
    reasons = refused(result)
    assert "residential" in reasons["R1"][1] and "village" in reasons["R1"][1]
    assert "not a sitting secretary" in reasons["E1"][1]
    everyone = world.klass(track="secretaries", sector=None, module="basic_theory")
    assert len(world.nominate(everyone, "V1", "R1")["enrolled"]) == 2


def test_one_enrolment_per_person_per_class(world):
    class_id = world.klass(category="enterprise", capacity=10)
    world.nominate(class_id, "E1")
    again = world.nominate(class_id, "E1", "E2", "E2")
    assert [e.member_no for e in again["enrolled"]] == ["E2"]
    assert refused(again)["E1"] == ("one_enrolment", "already enrolled in this class "
                                                     "(confirmed)")
    assert again["refused"][-1] == {"member_no": "E2", "rule": "duplicate",
                                    "reason": "named twice in this nomination"}


def test_a_withdrawn_person_may_be_nominated_again(world):
    class_id = world.klass(category="enterprise", capacity=10)
    [first] = world.nominate(class_id, "E1")["enrolled"]
    enrolment.withdraw(world.db, first.enrollment_id, world.emit)
    [again] = world.nominate(class_id, "E1")["enrolled"]
    assert again.enrollment_id == first.enrollment_id and again.status == "confirmed"


def test_a_committee_nominates_only_its_own_people(world):
    class_id = world.klass(category="enterprise", capacity=10)
    result = world.nominate(class_id, "E1", "E4", by_org_code="FX01")
    assert [e.member_no for e in result["enrolled"]] == ["E1"]
    assert refused(result)["E4"][0] == "scope"
    assert result["enrolled"][0].nominated_by == "FX01"


def test_a_quota_caps_a_committees_nominations_for_a_class(world):
    class_id = world.klass(category="enterprise", capacity=10)
    enrolment.set_quota(world.db, class_id, "FX01", 2)
    result = world.nominate(class_id, "E1", "E2", "E3", "E4")
    assert sorted(e.member_no for e in result["enrolled"]) == ["E1", "E2", "E4"]
    assert refused(result)["E3"] == ("quota", "the quota of FX01 for this class (2) is used up")
    assert enrolment.quotas(world.db, class_id) == [
        {"committee_code": "FX01", "seats": 2, "used": 2}]


def test_a_quota_is_per_party_committee(world):
    class_id = world.klass(category="enterprise")
    with pytest.raises(InvalidInput, match="per party committee"):
        enrolment.set_quota(world.db, class_id, "FX0101", 2)
    enrolment.set_quota(world.db, class_id, "FX01", None)
    assert enrolment.quotas(world.db, class_id) == []


def test_the_enrolment_keeps_where_the_person_sat_at_enrolment(world):
    class_id = world.klass(category="enterprise", capacity=10)
    [enrolled] = world.nominate(class_id, "E1")["enrolled"]
    [event] = world.events("enrollment_confirmed")
    assert {k: event[k] for k in ("org_code", "committee_code", "sector", "category", "mode",
                                  "status")} == {
        "org_code": "FX0102", "committee_code": "FX01", "sector": "residential",
        "category": "enterprise", "mode": "offline", "status": "confirmed"}
    from datetime import UTC, datetime

    tree.apply_member_change(world.db, change("E1", "transferred", "FX0201"),
                             datetime(2027, 1, 1, tzinfo=UTC), world.emit)
    world.db.refresh(enrolled)
    assert (enrolled.org_code, enrolled.committee_code) == ("FX0102", "FX01")


# -- seats and the waitlist --------------------------------------------------------------------

def test_the_last_seat_is_taken_and_the_next_person_waitlisted(world):
    class_id = world.klass(category="enterprise", capacity=2)
    result = world.nominate(class_id, "E1", "E2", "E3")
    assert [e.status for e in result["enrolled"]] == ["confirmed", "confirmed", "waitlisted"]
    assert [e["member_no"] for e in world.events("enrollment_waitlisted")] == ["E3"]


def test_a_withdrawal_promotes_the_first_waitlisted(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1")
    world.nominate(class_id, "E3")   # first in the queue
    world.nominate(class_id, "E2")
    seat = world.db.execute(select(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.member_no == "E1")).scalar_one()
    world.forget_events()
    enrolment.withdraw(world.db, seat.enrollment_id, world.emit, "illness")
    assert statuses(world, class_id) == {"E1": "withdrawn", "E3": "confirmed",
                                         "E2": "waitlisted"}
    assert [(t, d["member_no"], d["status"]) for t, d in world.emit.events] == [
        ("enrollment_withdrawn", "E1", "withdrawn"), ("enrollment_confirmed", "E3", "confirmed")]


def test_a_waitlisted_withdrawal_promotes_no_one(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2", "E3")
    waiting = world.db.execute(select(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.member_no == "E2")).scalar_one()
    enrolment.withdraw(world.db, waiting.enrollment_id, world.emit)
    assert statuses(world, class_id) == {"E1": "confirmed", "E2": "withdrawn",
                                         "E3": "waitlisted"}


def test_only_an_active_enrolment_can_be_withdrawn(world):
    class_id = world.klass(category="enterprise")
    [enrolled] = world.nominate(class_id, "E1")["enrolled"]
    enrolment.withdraw(world.db, enrolled.enrollment_id, world.emit)
    with pytest.raises(DomainError, match="only a nominated, confirmed or waitlisted"):
        enrolment.withdraw(world.db, enrolled.enrollment_id, world.emit)


def test_online_places_are_not_capped_and_a_live_class_has_only_online_places(world):
    live = world.klass(category="enterprise", capacity=0, delivery="live")
    result = world.nominate(live, "E1", "E2", "E3")
    assert [(e.mode, e.status) for e in result["enrolled"]] == [("online", "confirmed")] * 3
    refusal = world.nominate(world.klass(category="enterprise"), "E4", mode="online")
    assert refused(refusal)["E4"] == ("mode", "the class is offline: it offers no online "
                                                "places")


def test_a_hybrid_class_fills_its_seats_and_takes_anyone_online(world):
    hybrid = world.klass(category="enterprise", capacity=1, delivery="hybrid")
    world.nominate(hybrid, "E1")
    late = world.nominate(hybrid, "E2")["enrolled"][0]
    online = world.nominate(hybrid, "E3", mode="online")["enrolled"][0]
    assert (late.mode, late.status) == ("offline", "waitlisted")
    assert (online.mode, online.status) == ("online", "confirmed")


def test_a_larger_capacity_promotes_the_waitlist(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2", "E3")
    enrolment.class_published(world.db, {**class_data(class_id, category="enterprise",
                                                      capacity=2)}, world.emit)
    assert statuses(world, class_id) == {"E1": "confirmed", "E2": "confirmed",
                                         "E3": "waitlisted"}


def test_a_cancelled_class_releases_everyone(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2")
    world.forget_events()
    enrolment.class_cancelled(world.db, class_data(class_id, category="enterprise",
                                                   reason="台风"), world.emit)
    assert statuses(world, class_id) == {"E1": "released", "E2": "released"}
    released = world.events("enrollment_withdrawn")
    assert {(e["member_no"], e["status"], e["reason"]) for e in released} == {
        ("E1", "released", "台风"), ("E2", "released", "台风")}
    assert refused(world.nominate(class_id, "E3"))["E3"][0] == "class_status"


def test_a_cancelled_class_stays_cancelled_when_an_older_publication_arrives(world):
    class_id = world.klass(category="enterprise")
    enrolment.class_cancelled(world.db, class_data(class_id, category="enterprise"),
                              world.emit)
    enrolment.class_published(world.db, class_data(class_id, category="enterprise"),
                              world.emit)
    assert enrolment.get_class(world.db, class_id).status == "cancelled"


# -- sessions ----------------------------------------------------------------------------------

def test_a_session_of_a_class_not_seen_yet_waits(world):
    from datetime import UTC, datetime, timedelta
    starts = datetime(2026, 4, 1, 1, tzinfo=UTC)
    with pytest.raises(RetryLater):
        enrolment.apply_session(world.db, session_data("00000000-0000-4000-8000-000000000000",
                                                       starts, starts + timedelta(hours=2), 2),
                                "session_scheduled")


def test_session_events_in_any_order_end_in_the_newest_state(world):
    from datetime import UTC, datetime, timedelta
    class_id = world.klass(category="enterprise")
    starts = datetime(2026, 4, 1, 1, tzinfo=UTC)
    moved = starts + timedelta(hours=3)
    sid = "11111111-1111-4111-8111-111111111111"
    enrolment.apply_session(world.db, session_data(class_id, moved, moved + timedelta(hours=2),
                                                   2, sequence=1, session_id=sid),
                            "session_completed")
    enrolment.apply_session(world.db, session_data(class_id, starts, starts + timedelta(hours=2),
                                                   2, sequence=0, session_id=sid),
                            "session_scheduled")
    row = world.db.get(TrainingSession, sid)
    assert row.status == "completed" and row.sequence == 1
    assert row.starts_at.replace(tzinfo=UTC) == moved


# -- reviewed nominations ------------------------------------------------------------------------

def waiting(world, class_id, *member_nos):
    return {e.member_no: e for e in world.nominate(class_id, *member_nos)["enrolled"]}


def test_a_reviewed_class_keeps_nominations_waiting_for_the_organiser(world):
    class_id = world.klass(category="enterprise", capacity=1, review_nominations=True)
    nominated = waiting(world, class_id, "E1", "E2")
    assert {no: e.status for no, e in nominated.items()} == {"E1": "nominated",
                                                             "E2": "nominated"}
    assert [e["member_no"] for e in world.events("enrollment_nominated")] == ["E1", "E2"]
    assert world.events("enrollment_confirmed") == world.events("enrollment_waitlisted") == []
    assert enrolment.places(world.db, enrolment.get_class(world.db, class_id))["offline_free"] \
        == 1


def test_accepted_nominations_take_a_seat_then_the_waitlist_in_the_order_accepted(world):
    class_id = world.klass(category="enterprise", capacity=1, review_nominations=True)
    nominated = waiting(world, class_id, "E1", "E2", "E3")
    world.forget_events()
    for member_no in ("E3", "E2", "E1"):
        enrolment.accept(world.db, nominated[member_no].enrollment_id, world.emit)
    assert statuses(world, class_id) == {"E3": "confirmed", "E2": "waitlisted",
                                         "E1": "waitlisted"}
    assert [(t, d["member_no"]) for t, d in world.emit.events] == [
        ("enrollment_confirmed", "E3"), ("enrollment_waitlisted", "E2"),
        ("enrollment_waitlisted", "E1")]
    enrolment.withdraw(world.db, nominated["E3"].enrollment_id, world.emit)
    assert statuses(world, class_id) == {"E3": "withdrawn", "E2": "confirmed",
                                         "E1": "waitlisted"}


def test_a_rejected_nomination_says_why_and_takes_no_place(world):
    class_id = world.klass(category="enterprise", capacity=1, review_nominations=True)
    nominated = waiting(world, class_id, "E1")
    world.forget_events()
    rejected = enrolment.reject(world.db, nominated["E1"].enrollment_id, " 名额已满 ", world.emit)
    assert (rejected.status, rejected.reason) == ("rejected", "名额已满")
    [event] = world.events("enrollment_rejected")
    assert (event["status"], event["reason"], event["origin"]) == ("rejected", "名额已满",
                                                                   "nomination")
    with pytest.raises(InvalidInput, match="says why"):
        enrolment.reject(world.db, nominated["E1"].enrollment_id, "  ", world.emit)


def test_only_a_waiting_nomination_is_accepted_or_rejected(world):
    class_id = world.klass(category="enterprise", capacity=1)
    [confirmed] = world.nominate(class_id, "E1")["enrolled"]
    with pytest.raises(DomainError, match="only a nomination waiting for review") as refused:
        enrolment.accept(world.db, confirmed.enrollment_id, world.emit)
    assert refused.value.info["rule"] == "review"
    with pytest.raises(DomainError, match="only a nomination waiting for review"):
        enrolment.reject(world.db, confirmed.enrollment_id, "不符合条件", world.emit)


def test_a_quota_counts_the_nominations_waiting_for_review(world):
    class_id = world.klass(category="enterprise", capacity=10, review_nominations=True)
    enrolment.set_quota(world.db, class_id, "FX01", 1)
    result = world.nominate(class_id, "E1", "E2")
    assert [e.member_no for e in result["enrolled"]] == ["E1"]
    assert refused(result)["E2"][0] == "quota"
    assert enrolment.quotas(world.db, class_id)[0]["used"] == 1


def test_a_waiting_nomination_can_be_withdrawn_and_a_rejected_person_nominated_again(world):
    class_id = world.klass(category="enterprise", capacity=10, review_nominations=True)
    nominated = waiting(world, class_id, "E1", "E2")
    withdrawn = enrolment.withdraw(world.db, nominated["E1"].enrollment_id, world.emit)
    assert withdrawn.status == "withdrawn"
    enrolment.reject(world.db, nominated["E2"].enrollment_id, "材料不全", world.emit)
    [again] = world.nominate(class_id, "E2")["enrolled"]
    assert (again.enrollment_id, again.status) == (nominated["E2"].enrollment_id, "nominated")


def test_a_cancelled_class_releases_the_nominations_waiting_for_review(world):
    class_id = world.klass(category="enterprise", review_nominations=True)
    waiting(world, class_id, "E1")
    enrolment.class_cancelled(world.db, class_data(class_id, category="enterprise"), world.emit)
    assert statuses(world, class_id) == {"E1": "released"}


# -- a class that changes ------------------------------------------------------------------------

def test_a_class_change_applies_its_fields_and_a_larger_capacity_promotes_the_waitlist(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2", "E3")
    world.forget_events()
    enrolment.class_changed(world.db, class_data(
        class_id, category="enterprise", capacity=2, sequence=1, review_nominations=True,
        changed=["offline_capacity", "review_nominations"]), world.emit)
    assert statuses(world, class_id) == {"E1": "confirmed", "E2": "confirmed",
                                         "E3": "waitlisted"}
    assert [e["member_no"] for e in world.events("enrollment_confirmed")] == ["E2"]
    klass = enrolment.get_class(world.db, class_id)
    assert (klass.offline_capacity, klass.review_nominations, klass.sequence) == (2, True, 1)


def test_a_smaller_capacity_unseats_no_one(world):
    class_id = world.klass(category="enterprise", capacity=2)
    world.nominate(class_id, "E1", "E2", "E3")
    enrolment.class_changed(world.db, class_data(class_id, category="enterprise", capacity=1,
                                                 sequence=1), world.emit)
    assert statuses(world, class_id) == {"E1": "confirmed", "E2": "confirmed",
                                         "E3": "waitlisted"}
    places = enrolment.class_places(world.db, class_id)
    assert (places["offline_confirmed"], places["offline_capacity"], places["offline_free"]) \
        == (2, 1, 0)


def test_an_older_change_arriving_late_changes_nothing(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2")
    enrolment.class_changed(world.db, class_data(class_id, category="enterprise", capacity=1,
                                                 sequence=2, online_open=True), world.emit)
    enrolment.class_changed(world.db, class_data(class_id, category="enterprise", capacity=5,
                                                 sequence=1), world.emit)
    klass = enrolment.get_class(world.db, class_id)
    assert (klass.offline_capacity, klass.online_open, klass.sequence) == (1, True, 2)
    assert statuses(world, class_id) == {"E1": "confirmed", "E2": "waitlisted"}


def test_places_count_nominations_waiting_and_a_class_not_heard_of_has_no_one(world):
    class_id = world.klass(category="enterprise", capacity=1, review_nominations=True)
    waiting(world, class_id, "E1", "E2")
    places = enrolment.class_places(world.db, class_id)
    assert (places["offline_confirmed"], places["waitlisted"], places["nominated"]) == (0, 0, 2)
    unknown = "00000000-0000-4000-8000-000000000001"
    assert enrolment.class_places(world.db, unknown) == {
        "class_id": unknown, "known": False, "offline_confirmed": 0, "waitlisted": 0,
        "nominated": 0}


def test_every_enrolment_event_says_how_the_person_came_in(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2")
    assert {e["origin"] for e in world.events("enrollment_confirmed")
            + world.events("enrollment_waitlisted")} == {"nomination"}
