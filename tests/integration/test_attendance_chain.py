"""The tamper-evident attendance log with every service running (tests/support/unit_filing.py:
CA01's class, A1 checked in, A2 absent when its session completed, completed, its record due).

The record filed carries the class's attendance chain head; an entry edited behind the service's
back (the database owner, the trigger disabled) is named by `peixun verify attendance`, which
exits non-zero; attendance recorded after the filing shows against the filed record; the log
refuses UPDATE and DELETE through a normal connection.
"""

import psycopg2
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.cli import main
from services.kit import migrate
from services.kit.database import make_engine
from services.reporting import filing, projections
from tests.support.databases import truncate_all
from tests.support.system import whole_system
from tests.support.unit_filing import build
from tests.support.waiting import wait_until

CHANGED = "考勤记录在备案后有变动"


def attendance_event(n, class_id, member_no, status, sequence=None, head=None):
    data = {"enrollment_id": f"00000000-0000-4000-8000-{n:012d}",
            "session_id": "00000000-0000-4000-8000-00000000005e", "class_id": class_id,
            "member_no": member_no, "status": status, "hours_earned": 1.5,
            "recorded_at": f"2026-04-01T09:{n:02d}:00+08:00", "correction": False}
    if sequence is not None:
        data.update(chain_sequence=sequence, chain_head=head)
    return {"id": f"00000000-0000-4000-9000-{n:012d}", "type": "attendance_recorded",
            "source": "enrollment", "occurred_at": f"2026-04-01T09:{n:02d}:00+08:00",
            "version": 1, "data": data}


def test_reporting_keeps_each_class_s_newest_chain_head_on_either_path(database_urls):
    """Runs before the module's world (it empties reporting's tables): an older event without
    a head, and heads arriving out of order; SQL and Python give the same rows and head."""
    class_id = "00000000-0000-4000-8000-0000000000c1"
    events = [attendance_event(1, class_id, "A1", "present"),                  # before chains
              attendance_event(3, class_id, "A3", "absent", 3, "c" * 64),
              attendance_event(2, class_id, "A2", "present", 2, "b" * 64)]
    url = database_urls["reporting"]
    engine = make_engine(url)
    migrate.upgrade(engine, "reporting")
    seen = {}
    for via in ("python", "sql"):
        truncate_all(url)
        with Session(engine) as session, session.begin():
            projections.apply(session, events, via=via)
            rows = session.execute(text(
                "SELECT member_no, chain_sequence, chain_head FROM rp_attendance "
                "ORDER BY member_no")).all()
            seen[via] = ([tuple(r) for r in rows], filing.attendance_heads(session, [class_id]))
    truncate_all(url)
    engine.dispose()
    assert seen["sql"] == seen["python"] == (
        [("A1", None, None), ("A2", 2, "b" * 64), ("A3", 3, "c" * 64)],
        {class_id: (3, "c" * 64)})


@pytest.fixture(scope="module")
def world(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield build(base, database_urls["gateway"], rpc), rpc


def verify(monkeypatch, amqp_uri, *args):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    return CliRunner().invoke(main, ["verify", "attendance", *args])


def reporting_head(database_urls, class_id):
    with psycopg2.connect(database_urls["reporting"]) as connection, \
            connection.cursor() as cursor:
        cursor.execute("SELECT max(chain_sequence) FROM rp_attendance WHERE class_id = %s",
                       (class_id,))
        return cursor.fetchone()[0]


def test_an_edit_behind_the_service_s_back_is_named_and_later_attendance_shows_on_the_filing(
        world, database_urls, amqp_uri, monkeypatch):
    w, rpc = world
    class_id = w.classes["unit"]
    holds = verify(monkeypatch, amqp_uri)
    assert holds.exit_code == 0, holds.output
    assert holds.output.startswith("attendance log holds:") and "every chain intact" in \
        holds.output

    # The record filed carries the head reporting heard of: A1 present, A2 absent.
    [seq, head] = rpc.enrollment.verify_attendance(class_id)["heads"][class_id]
    assert seq == 2
    wait_until(lambda: reporting_head(database_urls, class_id) == 2, timeout=20,
               message="reporting to hear of both entries")
    filed = w.api("POST", f"/api/v1/classes/{class_id}/filings", token="org_a",
                  json={"kind": "record"})
    assert filed.status_code == 201, filed.text
    record = filed.json()
    assert record["attendance_chain"] == {"sequence": 2, "head": head}
    assert record["attendance_changed_since_filed"] is False
    assert record["attendance_changed_label"] is None
    clerk = w.browser("committee_a")
    intact = w.get(clerk, f"/admin/filings/{record['filing_id']}")
    assert "完好：备案所依据的2条考勤记录均未被改动" in intact.text
    assert 'class="alarm"' not in intact.text

    # The owner of the database turns A2's absence into presence, the trigger off.
    with psycopg2.connect(database_urls["enrollment"]) as connection, \
            connection.cursor() as cursor:
        cursor.execute("ALTER TABLE attendance DISABLE TRIGGER attendance_is_append_only")
        cursor.execute("UPDATE attendance SET status = 'present', hours_earned = 1.5 "
                       "WHERE member_no = 'A2' RETURNING position")
        [(edited,)] = cursor.fetchall()
        cursor.execute("ALTER TABLE attendance ENABLE TRIGGER attendance_is_append_only")
    # The filed record shows it at once: its page checks the log it summarised.
    shown = w.get(clerk, f"/admin/filings/{record['filing_id']}")
    assert '<span class="alarm">不符：第2条考勤记录（党员编号 A2）与备案时不同' in shown.text
    broken = verify(monkeypatch, amqp_uri)
    assert broken.exit_code == 1, broken.output
    assert broken.output.startswith(
        f"attendance log BROKEN: class {class_id} entry {edited} (#2 in its chain) member A2 ")
    assert "status was 'absent', now 'present'" in broken.output
    one_class = verify(monkeypatch, amqp_uri, "--class", class_id)
    assert one_class.exit_code == 1 and f"entry {edited} " in one_class.output
    other = verify(monkeypatch, amqp_uri, "--class", w.classes["b"])
    assert other.exit_code == 0 and "0 entries" in other.output
    unknown = verify(monkeypatch, amqp_uri, "--class", "00000000-0000-4000-8000-000000000000")
    assert unknown.exit_code == 2 and "--class" in unknown.output

    # Attendance recorded after the filing moves the class's head: the filed record shows it.
    session_id = _session_of(w, class_id)
    corrected = w.api("POST", f"/api/v1/sessions/{session_id}/attendance/corrections",
                      json={"member_no": "A2", "status": "leave", "reason": "补交请假条"})
    assert corrected.status_code == 201, corrected.text

    def marked():
        answer = w.api("GET", f"/api/v1/filings/{record['filing_id']}")
        return answer.json() if answer.json()["attendance_changed_since_filed"] else None

    shown = wait_until(marked, timeout=20, message="the filing to show the later attendance")
    assert shown["attendance_changed_label"] == CHANGED
    assert shown["attendance_chain"] == {"sequence": 2, "head": head}   # as filed, for good
    page = w.get(w.browser("committee_a"), f"/admin/filings/{record['filing_id']}")
    assert page.status_code == 200 and CHANGED in page.text and head in page.text
    inbox = w.get(w.browser("committee_a"), "/admin/filings")   # the superior's list too
    assert inbox.status_code == 200 and CHANGED in inbox.text


def _session_of(w, class_id) -> str:
    return w.api("GET", f"/api/v1/classes/{class_id}").json()["sessions"][0]["session_id"]


def test_the_log_refuses_update_and_delete_through_a_normal_connection(world, database_urls):
    for sql in ("UPDATE attendance SET status = 'leave'", "DELETE FROM attendance"):
        with psycopg2.connect(database_urls["enrollment"]) as connection, \
                connection.cursor() as cursor:
            with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                cursor.execute(sql)
