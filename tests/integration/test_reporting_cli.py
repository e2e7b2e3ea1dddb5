"""`peixun report pull` over RPC, as an operator runs it."""

import io

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from services.cli import main
from services.reporting.service import ReportingService
from tests.support.districts import send, small_district, uid
from tests.support.waiting import wait_until


@pytest.fixture
def loaded(container_factory, service_config, publish, rpc, monkeypatch):
    container_factory(ReportingService, service_config).start()
    events = small_district().events
    send(publish, events)
    wait_until(lambda: rpc.reporting.replay_state()["events"] == len(events), timeout=20,
               message="the district handled")
    monkeypatch.setenv("AMQP_URI", service_config["AMQP_URI"])


def test_report_pull_writes_the_file_under_its_name(loaded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcome = CliRunner().invoke(main, ["report", "pull", "annual-summary", "--year", "2026",
                                        "--format", "xlsx"])
    assert outcome.exit_code == 0, outcome.output
    workbook = load_workbook(io.BytesIO((tmp_path / "annual-summary-2026.xlsx").read_bytes()))
    assert workbook["培训项目"]["A2"].value == "千名书记进党校"
    assert "annual-summary-2026.xlsx" in outcome.output and "new" in outcome.output
    again = CliRunner().invoke(main, ["report", "pull", "annual-summary", "--year", "2026",
                                      "--format", "xlsx", "-o", "again.xlsx"])
    assert "stored earlier" in again.output
    assert (tmp_path / "again.xlsx").read_bytes() == \
        (tmp_path / "annual-summary-2026.xlsx").read_bytes()


def test_report_pull_to_standard_output_and_its_errors(loaded):
    outcome = CliRunner().invoke(main, ["report", "pull", "class-plan", "--class-id", uid("K1"),
                                        "-o", "-"])
    assert outcome.exit_code == 0
    assert '"report": "class-plan"' in outcome.stdout
    missing = CliRunner().invoke(main, ["report", "pull", "class-record", "--class-id",
                                        uid("nothing")])
    assert missing.exit_code == 1
    assert "class_id" in missing.output


def test_report_pull_a_csv_section(loaded, tmp_path, monkeypatch):
    """The main table by default; `--section` another, under its own file name."""
    monkeypatch.chdir(tmp_path)
    main_table = CliRunner().invoke(main, ["report", "pull", "class-record", "--class-id",
                                           uid("K1"), "--format", "csv", "-o", "-"])
    sessions = CliRunner().invoke(main, ["report", "pull", "class-record", "--class-id",
                                         uid("K1"), "--format", "csv", "--section", "sessions"])
    assert main_table.exit_code == 0 and sessions.exit_code == 0, sessions.output
    [written] = tmp_path.glob("*sessions.csv")
    assert written.read_bytes() != main_table.stdout_bytes
    unknown = CliRunner().invoke(main, ["report", "pull", "class-record", "--class-id",
                                        uid("K1"), "--format", "csv", "--section", "nope"])
    assert unknown.exit_code == 2   # a wrong argument
    assert "section" in unknown.output and "sessions" in unknown.output
    assert "Traceback" not in unknown.output
