"""`peixun demo` end to end: real service processes (the `nameko run` commands compose uses),
the real broker, PostgreSQL, HTTP with a token."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_gateway_http import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_slice_for_real_and_says_what_happened(service_env, tmp_path):
    env = {**os.environ, **service_env, "PEIXUN_HTTP_PORT": str(free_port())}
    peixun = Path(sys.executable).parent / "peixun"
    result = subprocess.run([str(peixun), "demo", "--sessions", "4"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all services healthy" in result.stdout
    assert "reporting saw 4 completed sessions, 12 学时 (expected 12)" in result.stdout
    assert "stopped every service" in result.stdout
    written = result.stdout.split("wrote ")[1].split()[0]
    progress = json.loads((ROOT / written).read_text())
    assert progress["completed_sessions"] == 4
    (ROOT / written).unlink()
