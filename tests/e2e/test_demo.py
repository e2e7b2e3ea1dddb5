"""`peixun demo --small` end to end: real service processes (the `nameko run` commands compose
uses), the real broker and PostgreSQL, a live-platform process publishing over AMQP, a year on
the simulated clock, and the reports in out/ with the figures the demo itself expects from what it
sent: secretaries enrolled by watching the broadcast, committees' own classes apart from the
district's, and the study hours it imported from a file."""

import csv
import json
import os
import re
import subprocess
import sys
from fractions import Fraction
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

    # Secretaries nominated to nothing watched the broadcast: it enrolled them, some completed.
    assert own["watching"]["enrolled"] > own["watching"]["completed"] > 0
    # Committees ran classes of their own: counted apart, their targets not the district's.
    for track in summary["tracks"]:
        mine = own["tracks"][track["track"]]
        assert mine["unit_target"] > 0 and mine["unit_person_times"] > 0, track["track"]
        assert track["district_person_times"] + track["unit_person_times"] == \
            mine["person_times"]
    assert summary["totals"]["target"] == sum(t["target"] for t in own["tracks"].values())
    # Viewers the audience does not admit stay flagged (the demo checks enrollment's count).
    assert own["flags"]["online_not_enrolled"] > 0

    # Hours from elsewhere: the file's rows that the import did not report bad, summed here.
    imported = re.search(r"(\d+) rows kept, (\d+) bad, of \d+ read from (\S+hours\.csv)",
                         result.stdout)
    assert imported and int(imported[2]) == 2, result.stdout[-3000:]
    bad_lines = {int(n) for n in re.findall(r"^row (\d+): ", result.stdout, re.MULTILINE)}
    with open(imported[3], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    good = [r for line, r in enumerate(rows, start=2) if line not in bad_lines]
    assert len(good) == int(imported[1]) == len(rows) - 2
    other = sum(Fraction(r["学时"]) for r in good)
    groups = summary["study_hours"]["groups"]
    assert round(sum(g["other_hours"] for g in groups), 2) == \
        own["study_hours"]["other_hours"] == round(float(other), 2) > 0
    assert round(sum(g["class_hours"] for g in groups), 2) == own["study_hours"]["class_hours"]
    for member_no, hours in own["study_hours"]["people"].items():
        archive = json.loads((out / f"personal-archive-{member_no}-2026.json").read_text())
        line = next(y for y in archive["summary"] if y["year"] == 2026)
        assert {part: line[part] for part in hours} == hours, member_no
        mine = sum(Fraction(r["学时"]) for r in good if r["党员编号"] == member_no)
        assert hours["other_hours"] == round(float(mine), 2), member_no
    assert "✗" not in result.stdout
