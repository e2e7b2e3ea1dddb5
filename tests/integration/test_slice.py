"""The foundation's slice on the real broker and database: complete a session over RPC and
reporting's count changes."""

from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService
from tests.conftest import wait_until

PROGRAM = {"year": 2026, "track": "secretaries", "organiser_org_code": "FX",
           "name": "千名书记进党校", "target_person_times": 4000}


def a_class(program_id, sessions=3):
    return {
        "program_id": program_id, "title": "居民区书记拓展提升班",
        "audience": {"sector": "residential", "module": "advanced"},
        "offline_capacity": 60, "delivery": "offline",
        "start_date": "2026-04-01", "end_date": "2026-04-02", "publish": True,
        "sessions": [{
            "course_title": f"课程{i}", "core_theory": True, "kind": "lecture",
            "starts_at": f"2026-04-01T{9 + 2 * i:02d}:00:00+08:00",
            "ends_at": f"2026-04-01T{10 + 2 * i:02d}:30:00+08:00", "hours": 1.5,
        } for i in range(sessions)],
    }


def test_completing_a_session_reaches_reportings_count(runner_factory, service_config, rpc):
    runner = runner_factory(service_config, SchedulingService, ReportingService)
    runner.start()
    program = rpc.scheduling.create_program(PROGRAM)
    created = rpc.scheduling.create_class(a_class(program["program_id"]))

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
