"""The fault runs' counts can go red: after a clean run, rows taken from reporting and a
viewing kept twice in enrollment show as lost and doubled, against what the harness published.
(A count that could not fail would make every CHAOS line a PASS.)"""

import pytest

from chaos.system import System
from chaos.workload import Size, Workload


@pytest.mark.timeout(300)
def test_missing_and_twice_kept_effects_are_counted_against_what_was_published():
    with System("figures") as system:
        system.start_all()
        workload = Workload(system, Size(classes=1, members=20, sessions=2))
        try:
            workload.prepare()
            workload.publish_all()
            workload.finish()
            clean = workload.outcome("figures")
            assert (clean.lost, clean.doubled, clean.passed) == (0, 0, True), clean.line()

            system.sql("reporting", "DELETE FROM rp_attendance WHERE ctid IN (SELECT ctid "
                                    "FROM rp_attendance WHERE status = 'online' LIMIT 2)")
            columns = "event_id, session_id, member_no, enrollment_id, watched_minutes, " \
                      "site, received_at"
            system.sql("enrollment", f"INSERT INTO viewing_reports ({columns}) "
                                     f"SELECT {columns} FROM viewing_reports LIMIT 1")
            harmed = workload.outcome("figures")
        finally:
            workload.close()
    assert harmed.lost == 2, harmed.line()
    assert harmed.doubled == 1, harmed.line()
    assert not harmed.passed
