"""`peixun seed --small` into services already running: the district and the year's classes
are there to explore, nothing is completed, and a second seed refuses to double the year."""

import os
import subprocess
import sys
from pathlib import Path

from services.enrollment.service import EnrollmentService
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService

ROOT = Path(__file__).resolve().parents[2]


def peixun_seed(env):
    peixun = Path(sys.executable).parent / "peixun"
    return subprocess.run([str(peixun), "seed", "--small"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_seed_loads_a_district_and_schedules_its_year_without_completing_anything(
        runner_factory, service_config, service_env, rpc):
    runner_factory(service_config, SchedulingService, EnrollmentService,
                   ReportingService).start()
    env = {**os.environ, **service_env}
    env.pop("PEIXUN_CLOCK_FILE", None)

    result = peixun_seed(env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "nothing is completed yet" in result.stdout

    classes = rpc.scheduling.list_classes(year=2026, per_page=200)
    assert classes["total"] > 0
    assert {c["status"] for c in classes["items"]} == {"published"}
    enrolled = sum(rpc.enrollment.list_enrolments(c["class_id"], {"per_page": 1})["total"]
                   for c in classes["items"])
    assert enrolled > 0
    completed = sum(rpc.enrollment.list_enrolments(c["class_id"], {"status": "completed",
                                                                  "per_page": 1})["total"]
                    for c in classes["items"])
    assert completed == 0

    again = peixun_seed(env)
    assert again.returncode == 1
    assert "already has classes" in again.stderr
    assert rpc.scheduling.list_classes(year=2026, per_page=1)["total"] == classes["total"]
