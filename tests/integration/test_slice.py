"""The foundation's slice on the real broker and database: complete a session over RPC and
reporting's count changes."""

from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService
from tests.support.classes import PROGRAM, core_course, secretaries_class
from tests.support.waiting import wait_until


def test_completing_a_session_reaches_reportings_count(runner_factory, service_config, rpc):
    runner = runner_factory(service_config, SchedulingService, ReportingService)
    runner.start()
    program = rpc.scheduling.create_program(PROGRAM)
    created = rpc.scheduling.create_class(secretaries_class(program["program_id"],
                                                            core_course(rpc.scheduling)))

    for session in created["sessions"][:2]:
        rpc.scheduling.complete_session(session["session_id"])

    def progress():
        try:
            answer = rpc.reporting.class_progress(created["class_id"])
        except Exception:  # noqa: BLE001 - not there yet
            return None
        return answer if answer["completed_sessions"] == 2 else None

    answer = wait_until(progress, message="reporting to count two sessions")
    assert answer["completed_hours"] == 3.0
