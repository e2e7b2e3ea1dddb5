"""`peixun import orgs|members|hours FILE` end to end: a generated XLSX or CSV (with bad rows)
read by the CLI, sent over RPC to the running enrollment service, good rows kept, each bad row
printed."""

import csv
import json
import uuid

import pytest
from click.testing import CliRunner
from kombu import Connection, Exchange, Queue
from openpyxl import Workbook
from sqlalchemy import select

from services.cli import main
from services.contracts import parse_event
from services.enrollment.service import EnrollmentService
from services.kit import clock
from services.kit.database import make_engine
from services.kit.models import outbox
from tests.support.waiting import wait_until


@pytest.fixture
def enrollment(container_factory, service_config, monkeypatch, amqp_uri):
    monkeypatch.setenv("AMQP_URI", amqp_uri)   # the CLI reaches the service through it
    container = container_factory(EnrollmentService, service_config)
    container.start()
    return container


def workbook(path, header, rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


ORG_HEADER = ["党组织编码", "名称", "上级党组织编码", "类型", "领域"]
MEMBER_HEADER = ["党员编号", "姓名", "党组织编码", "入党日期", "人员类别", "任书记的党组织编码"]
ORG_ROWS = [  # Chinese headers; children before their parents
    ["FX0102", "某居民区党总支", "FX01", "基层党组织", "居民区"],
    ["FX0101", "某村党总支", "FX01", "基层党组织", "村"],
    ["FX01", "南桥镇党委", "FX", "党(工)委", None],
    ["FX", "奉贤区委", None, "党(工)委", None],
    ["FX0999", "不存在的上级", "FX09", "基层党组织", "村"],       # bad: parent never appears
]


def test_organisations_then_members_from_xlsx_with_bad_rows(enrollment, rpc, tmp_path):
    runner = CliRunner()
    orgs = workbook(tmp_path / "orgs.xlsx", ORG_HEADER, ORG_ROWS)
    result = runner.invoke(main, ["import", "orgs", orgs])
    assert result.exit_code == 1, result.output      # a row was rejected: scripts can tell
    assert "row 6: parent_code: parent FX09 never appears" in result.output
    assert "4 rows kept, 1 bad" in result.output
    assert rpc.enrollment.org_ancestors("FX0102") == ["FX0102", "FX01", "FX"]

    members = [[f"M{i:05d}", f"党员{i}", "FX0101" if i % 2 else "FX0102", "2015-07-01",
                "企业", None] for i in range(1, 1201)]
    members[10][2] = "NOPE"            # row 12
    members[20][3] = "2015/07/01"      # row 22
    members[30][4] = "农民"            # row 32
    members[40][0] = members[39][0]    # row 42: a number seen at row 41
    members[50] = [None, "无编号", "FX0101", "2015-07-01", "企业", None]   # row 52
    members[0][5] = "FX0101"           # M00001 is the village secretary
    path = workbook(tmp_path / "members.xlsx", MEMBER_HEADER, members)
    result = runner.invoke(main, ["import", "members", path, "--chunk", "500",
                                  "--allow-rejects"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert lines == [
        "row 12: org_code: no organisation NOPE",
        "row 22: joined_on: '2015/07/01' is not a date (YYYY-MM-DD)",
        "row 32: employment: '农民' is not a valid employment (enterprise/企业, "
        "institution/机关事业单位, other/其他)",
        "row 42: member_no: M00040 appears again (first at row 41)",
        "row 52: member_no: missing",
    ]
    assert "1195 rows kept, 5 bad, of 1200 read" in result.output
    listed = rpc.enrollment.list_members("FX", {"subtree": True, "per_page": 1})
    assert listed["total"] == 1195
    assert rpc.enrollment.get_organisation("FX0101")["secretary_member_no"] == "M00001"

    again = runner.invoke(main, ["import", "members", path])     # a re-import updates
    assert again.exit_code == 1 and "1195 rows kept" in again.output
    assert rpc.enrollment.list_members("FX", {"subtree": True, "per_page": 1})["total"] == 1195


def test_a_file_that_cannot_be_read_exits_non_zero(enrollment, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("编号,姓名\n1,张三\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "members", str(path)])
    assert result.exit_code == 2
    assert "nothing could be read" in result.output


def test_an_imports_person_changed_go_out_one_message_per_person_in_file_order(
        enrollment, rpc, tmp_path, amqp_uri, database_urls):
    """The outbox keeps the import's events a page per row; the wire still carries one
    message per person, each with its own id, in the file's order."""
    runner = CliRunner()
    orgs = workbook(tmp_path / "orgs.xlsx", ORG_HEADER, ORG_ROWS[:4])
    assert runner.invoke(main, ["import", "orgs", orgs]).exit_code == 0
    queue = Queue(f"test-import-{uuid.uuid4().hex[:6]}",
                  Exchange("enrollment.events", type="topic"), routing_key="person_changed",
                  durable=False)
    with Connection(amqp_uri) as connection:
        queue.bind(connection.channel()).declare()
    numbers = [f"P{i:05d}" for i in range(2500)]
    path = tmp_path / "members.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(MEMBER_HEADER)
        writer.writerows([number, "党员", "FX0102", "2015-07-01", "企业", ""]
                         for number in reversed(numbers))   # not in the order of the numbers
    result = runner.invoke(main, ["import", "members", str(path), "--chunk", "1000"])
    assert "2500 rows kept" in result.output, result.output

    engine = make_engine(database_urls["enrollment"])
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.events).where(
            outbox.c.routing_key == "person_changed")).scalars().all()
    engine.dispose()
    assert sum(rows) == 2500 and len(rows) < 10
    wait_until(lambda: rpc.enrollment.health()["outbox_pending"] == 0, timeout=20,
               message="the relay to publish the import's events")

    with Connection(amqp_uri) as connection:
        simple = connection.SimpleQueue(queue)
        messages = [simple.get(timeout=5) for _ in range(2500)]
        simple.close()
        connection.channel().queue_delete(queue.name)
    bodies = [json.loads(m.body) for m in messages]
    assert [b["data"]["member_no"] for b in bodies] == list(reversed(numbers))
    assert {b["data"]["name"] for b in bodies} == {"党员"}
    assert [m.properties["message_id"] for m in messages] == [b["id"] for b in bodies]
    assert len({b["id"] for b in bodies}) == 2500


HOURS_HEADER = ["党员编号", "年度", "学时", "来源", "名称", "日期"]


def test_study_hours_from_a_file_are_kept_told_and_never_counted_twice(
        enrollment, rpc, tmp_path, amqp_uri):
    runner = CliRunner()
    orgs = workbook(tmp_path / "orgs.xlsx", ORG_HEADER, ORG_ROWS[:4])
    assert runner.invoke(main, ["import", "orgs", orgs]).exit_code == 0
    members = workbook(tmp_path / "members.xlsx", MEMBER_HEADER, [
        ["H1", "张三", "FX0101", "2015-07-01", "企业", None],
        ["H2", "李四", "FX0102", "2015-07-01", "企业", "FX0102"]])
    assert runner.invoke(main, ["import", "members", members]).exit_code == 0
    queue = Queue(f"test-hours-{uuid.uuid4().hex[:6]}",
                  Exchange("enrollment.events", type="topic"),
                  routing_key="study_hours_recorded", durable=False)
    with Connection(amqp_uri) as connection:
        queue.bind(connection.channel()).declare()

    year = clock.today().year
    path = tmp_path / "hours.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows([
            HOURS_HEADER,
            ["H1", year, "4", "网络自学", "远程教育平台专题学习", f"{year}-01-01"],
            ["H2", year, "2.5", "party_school", "党校专题班", f"{year}-01-01"],
            ["H3", year, "2", "unit", "支部学习", f"{year}-01-01"],                # row 4
            ["H1", year, "2", "自学", "支部学习", f"{year}-01-01"],                # row 5
            ["H1", year - 1, "2", "unit", "支部学习", f"{year}-01-01"]])           # row 6
    result = runner.invoke(main, ["import", "hours", str(path)])
    assert result.exit_code == 1    # rows were rejected
    lines = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert lines[0] == "row 4: member_no: no member H3"
    assert lines[1].startswith("row 5: source: '自学' is not a valid source (unit/单位自行组织")
    assert lines[2] == f"row 6: on: {year}-01-01 is not in {year - 1}"
    assert "2 rows kept, 3 bad, of 5 read" in result.output
    again = runner.invoke(main, ["import", "hours", str(path)])
    assert "2 rows kept" in again.output

    wait_until(lambda: rpc.enrollment.health()["outbox_pending"] == 0, timeout=20,
               message="the relay to publish the entries")
    with Connection(amqp_uri) as connection:
        simple = connection.SimpleQueue(queue)
        told = [parse_event(simple.get(timeout=5).body, source="enrollment",
                            event_type="study_hours_recorded").data for _ in range(2)]
        assert simple.qsize() == 0    # the re-import told nothing
        simple.close()
        connection.channel().queue_delete(queue.name)
    assert {(d["member_no"], d["source"], d["hours"]) for d in told} == {
        ("H1", "online", 4.0), ("H2", "party_school", 2.5)}
    figures = rpc.enrollment.study_hours("H2", year)
    assert (figures["role"], figures["years"][0]["other_hours"]) == ("secretary", 2.5)
