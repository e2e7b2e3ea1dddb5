"""结业证书 and the session roster (certificates.py, rosters.py): a certificate only for a
completed enrolment, its code issued once and unguessable, the public answer with the name
masked, a code that stops vouching when a correction undoes the completion; the roster by
organisation then name, and why a scanned stranger may not check in."""

from datetime import UTC, date, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from services.enrollment import attendance, certificates, completion, enrolment, rosters
from services.enrollment.models import Member
from services.kit import migrate
from services.kit.errors import DomainError
from tests.support.databases import BACKENDS, fresh_engine
from tests.support.worlds import class_data

DAY = date(2026, 4, 1)


@pytest.fixture
def finished(world):
    """A class of two 2-hour sessions: E1 attends both (completed), E2 one (incomplete)."""
    class_id = world.klass(category="enterprise", capacity=10)
    world.nominate(class_id, "E1", "E2")
    rows = [world.session(class_id, DAY, i, hours=2.0) for i in range(2)]
    for member_no, sessions in (("E1", rows), ("E2", rows[:1])):
        for row in sessions:
            at = row.starts_at.replace(tzinfo=UTC) + timedelta(minutes=5)
            attendance.record(world.db, row.session_id, member_no, "present", world.emit,
                              source="checkin", at=at, now=at)
    for row in rows:
        enrolment.apply_session(world.db, session_of(row),
                                "session_completed")
        attendance.mark_absent(world.db, row, world.emit, now=row.ends_at.replace(tzinfo=UTC))
    completion.class_completed(world.db, class_data(class_id, category="enterprise",
                                                    capacity=10), world.emit)
    ids = {e["member_no"]: e["enrollment_id"] for e in world.events("enrollment_confirmed")}
    return class_id, rows, ids


def session_of(row) -> dict:
    return {"session_id": row.session_id, "class_id": row.class_id, "course_title": "课",
            "core_theory": True, "kind": "lecture", "starts_at": row.starts_at.replace(
                tzinfo=UTC), "ends_at": row.ends_at.replace(tzinfo=UTC), "hours": row.hours,
            "venue_name": None, "instructor_name": None, "live": True, "sequence": 0}


@pytest.mark.parametrize("name,masked", [("张小三", "张*三"), ("李四", "李*"),
                                         ("欧阳小明", "欧**明"), ("王", "*"), ("", "*")])
def test_a_name_is_masked_keeping_its_first_and_last_character(name, masked):
    assert certificates.mask_name(name) == masked


def test_only_a_completed_enrolment_has_a_certificate(world, finished):
    _class_id, _rows, ids = finished
    with pytest.raises(DomainError) as refused:
        certificates.certificate(world.db, ids["E2"])
    assert refused.value.info["rule"] == "not_completed"
    made = certificates.certificate(world.db, ids["E1"])
    assert (made["name"], made["hours"], made["class_title"], made["organiser_name"],
            made["start_date"]) == ("党员E1", 4.0, "班次", "奉贤区委", "2026-04-01")


def test_a_code_is_issued_once_and_the_same_ever_after(world, finished):
    class_id, _rows, ids = finished
    first = certificates.certificate(world.db, ids["E1"])["code"]
    assert len(first) == certificates.CODE_LENGTH
    assert set(first) <= set(certificates.CODE_ALPHABET)
    assert certificates.certificate(world.db, ids["E1"])["code"] == first
    [bulk] = certificates.class_certificates(world.db, class_id)
    assert bulk["code"] == first and bulk["member_no"] == "E1"
    assert certificates.new_code() != certificates.new_code()


def test_a_code_verifies_with_the_name_masked_and_a_wrong_one_does_not(world, finished):
    _class_id, _rows, ids = finished
    world.db.get(Member, "E1").name = "张小三"
    code = certificates.certificate(world.db, ids["E1"])["code"]
    answer = certificates.verify(world.db, f"{code[:4].lower()}-{code[4:]}")
    assert answer["genuine"] is True
    assert (answer["name"], answer["hours"], answer["class_title"]) == ("张*三", 4.0, "班次")
    assert "member_no" not in answer and "张小三" not in str(answer)
    assert certificates.verify(world.db, "A" * certificates.CODE_LENGTH) == {
        "genuine": False, "reason": "unknown"}


def test_a_code_no_longer_vouches_once_a_correction_undoes_the_completion(world, finished):
    _class_id, rows, ids = finished
    code = certificates.certificate(world.db, ids["E1"])["code"]
    ends = rows[0].ends_at.replace(tzinfo=UTC)
    attendance.record(world.db, rows[0].session_id, "E1", "absent", world.emit,
                      source="correction", reason="误签", now=ends + timedelta(days=1))
    assert certificates.verify(world.db, code) == {"genuine": False,
                                                   "reason": "not_completed"}


def test_the_roster_is_by_organisation_then_name_and_a_stranger_is_told_why(world):
    class_id = world.klass(category="enterprise", capacity=10)
    world.nominate(class_id, "E3", "E2", "E1", "E4")
    row = world.session(class_id, DAY, 0)
    enrolment.withdraw(world.db, next(e["enrollment_id"] for e in world.events(
        "enrollment_confirmed") if e["member_no"] == "E4"), world.emit, None)
    _session, people = rosters.roster(world.db, row.session_id)
    assert [(p["org_name"], p["member_no"]) for p in people] == [
        ("某居民区党总支", "E1"), ("某居民区党总支", "E2"), ("某村党总支", "E3")]
    standing = rosters.standing(world.db, row.session_id, "E4")
    assert (standing["known"], standing["enrolment_status"]) == (True, "withdrawn")
    assert rosters.standing(world.db, row.session_id, "O1")["enrolment_status"] is None
    assert rosters.standing(world.db, row.session_id, "NOBODY")["known"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_certificates_revision_applies_to_a_database_made_before_it(backend, tmp_path,
                                                                        request):
    with fresh_engine(backend, "enrollment", tmp_path, request) as engine:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config("enrollment", connection),
                              "enrollment_0006")
            assert "certificates" not in inspect(connection).get_table_names()
        migrate.upgrade(engine, "enrollment")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO certificates (code, enrollment_id, issued_at) VALUES "
                "('C1', 'E1', '2026-04-02 00:00:00')"))
            with pytest.raises(IntegrityError):   # one code per enrolment
                with connection.begin_nested():
                    connection.execute(text(
                        "INSERT INTO certificates (code, enrollment_id, issued_at) VALUES "
                        "('C2', 'E1', '2026-04-02 00:00:00')"))
