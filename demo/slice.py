"""The demo at this stage: every service started, one class run through the events end to end.

It drives the system only through its public doors (HTTP with a token, events), prints each
step, writes what reporting saw to out/, and stops everything it started.
"""

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.kit import config, processes

SHANGHAI = ZoneInfo("Asia/Shanghai")
COURSES = [
    ("学习贯彻习近平新时代党建思想", True),
    ("《中国共产党支部工作条例》解读", True),
    ("党建引领乡村振兴实践", False),
    ("原原本本学习新思想：专题研讨", True),
    ("农村“三资”管理", False),
    ("弘扬宪法精神，提升法治意识", True),
]


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None


def wait_for_http(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not answer /health")
        time.sleep(0.3)


def class_payload(program_id: str, sessions: int) -> dict:
    start = date(2026, 3, 2)
    items = []
    for index in range(sessions):
        title, core = COURSES[index % len(COURSES)]
        day = start + timedelta(days=index // 2)
        hour = 9 if index % 2 == 0 else 14
        begins = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)
        items.append({"course_title": title, "core_theory": core, "kind": "lecture",
                      "starts_at": begins.isoformat(),
                      "ends_at": (begins + timedelta(hours=3)).isoformat(), "hours": 3,
                      "venue_name": "区委党校报告厅", "live": True})
    return {"program_id": program_id, "title": "村党组织书记基础理论示范班",
            "audience": {"sector": "village", "module": "basic_theory"},
            "offline_capacity": 120, "delivery": "hybrid", "publish": True,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=(sessions - 1) // 2)).isoformat(),
            "sessions": items}


def main(sessions: int = 6) -> int:
    from services.gateway.tokens import create

    demo_var = config.var_dir() / "demo"
    shutil.rmtree(demo_var, ignore_errors=True)
    demo_var.mkdir(parents=True)
    os.environ["PEIXUN_VAR_DIR"] = str(demo_var)
    port = config.http_port()
    base = f"http://127.0.0.1:{port}"
    out = config.ROOT / "out"
    out.mkdir(exist_ok=True)

    log_path = demo_var / "services.log"
    print(f"starting {', '.join(config.SERVICES)} (logs: {log_path})")
    with open(log_path, "wb") as log:
        running = {name: processes.popen_service(name, stdout=log) for name in config.SERVICES}
        try:
            processes.wait_healthy(config.SERVICES, config.amqp_uri(), running)
            wait_for_http(base)
            api = Api(base, create("district_admin"))
            print("all services healthy")

            program = api.call("POST", "/api/v1/programs", {
                "year": 2026, "track": "secretaries", "organiser_org_code": "FX",
                "name": "2026年“千名书记进党校”", "target_person_times": 4000})
            print(f"program {program['program_id']}: {program['name']}")
            created = api.call("POST", "/api/v1/classes",
                               class_payload(program["program_id"], sessions))
            print(f"class {created['class_id']}: {created['title']}, "
                  f"{len(created['sessions'])} sessions, core theory "
                  f"{created['core_theory_ratio']:.0%}")
            total = 0.0
            started = time.monotonic()
            for session in created["sessions"]:
                api.call("POST", f"/api/v1/sessions/{session['session_id']}/complete")
                total += session["hours"]
                print(f"  completed {session['course_title']} ({session['hours']:g} 学时)")
            progress = wait_for_progress(api, created["class_id"], len(created["sessions"]))
            elapsed = time.monotonic() - started
            print(f"reporting saw {progress['completed_sessions']} completed sessions, "
                  f"{progress['completed_hours']:g} 学时 (expected {total:g}), "
                  f"{elapsed:.2f}s after the first completion")
            target = out / f"class-progress-{created['class_id']}-2026.json"
            target.write_text(json.dumps(progress, ensure_ascii=False, indent=2) + "\n")
            print(f"wrote {target.relative_to(config.ROOT)}")
            return 0 if progress["completed_hours"] == total else 1
        finally:
            processes.stop(running)
            print("stopped every service")


def wait_for_progress(api: Api, class_id: str, sessions: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    progress = {"completed_sessions": 0}
    while time.monotonic() < deadline:
        try:
            progress = api.call("GET", f"/api/v1/classes/{class_id}/progress")
        except RuntimeError:
            pass
        if progress["completed_sessions"] >= sessions:
            return progress
        time.sleep(0.1)
    raise RuntimeError(f"reporting saw {progress['completed_sessions']} of {sessions} sessions")
