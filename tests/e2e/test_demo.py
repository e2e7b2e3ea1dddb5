"""`peixun demo --small` end to end: real service processes (the `nameko run` commands compose
uses), the real broker and PostgreSQL, a live-platform process publishing over AMQP, a year on
the simulated clock, and the reports in out/ with the figures the demo itself expects from what it
sent."""

import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from tests.support.system import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_small_demo_runs_a_year_and_writes_reports_that_add_up(service_env):
    env = {**os.environ, **service_env, "PEIXUN_HTTP_PORT": str(free_port())}
    peixun = Path(sys.executable).parent / "peixun"
    result = subprocess.run([str(peixun), "demo", "--small"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "every service stopped" in result.stdout
    out = ROOT / "out"
    summary = json.loads((out / "annual-summary-2026.json").read_text())
    assert (out / "annual-summary-2026.xlsx").exists()
    assert (out / "annual-summary-2026.pdf").read_bytes().startswith(b"%PDF")
    load_workbook(out / "annual-summary-2026.xlsx")

    # The demo's own figures, worked out from what it sent, against the report built from events.
    own = json.loads((out / "demo-figures-2026.json").read_text())
    assert all(0 < t["person_times"] < t["enrolled"] for t in own["tracks"].values()), \
        "some people complete and some do not, in both tracks"
    for track in summary["tracks"]:
        assert {figure: track[figure] for figure in own["tracks"][track["track"]]} == \
            own["tracks"][track["track"]], track["track"]
    assert summary["totals"]["person_times"] == own["person_times"]
    assert {r["sector"]: r["total"] for r in summary["by_sector"] if r["total"]} == \
        {r["sector"]: r["total"] for r in own["by_sector"]}
    assert {r["committee_code"]: r["total"] for r in summary["by_committee"] if r["total"]} == \
        {r["committee_code"]: r["total"] for r in own["by_committee"]}
    assert summary["coverage"]["covered"] == own["coverage"]["covered"] > 0
    assert "✗" not in result.stdout
