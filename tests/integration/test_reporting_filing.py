"""Filing (备案) on the real broker and PostgreSQL: events out through the outbox, a filed version
the database refuses to change and the service refuses to serve once tampered with, a late
record listed as overdue."""

import base64
import json
from datetime import timedelta

import psycopg2
import pytest
from kombu import Connection, Exchange, Queue

from services.kit.errors import Tampered
from services.reporting import domain
from services.reporting.service import ReportingService
from tests.support.districts import District, send, small_district, uid
from tests.support.waiting import wait_until


@pytest.fixture
def reporting(container_factory, service_config):
    container = container_factory(ReportingService, service_config)
    container.start()
    return container


@pytest.fixture
def listener(amqp_uri):
    """Everything reporting publishes, as a downstream system would receive it."""
    queue = Queue("test-reporting-listener", Exchange("reporting.events", type="topic"),
                  routing_key="#", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        queue.bind(connection.channel()).declare()
    received = []

    def take(n, timeout=10):
        with Connection(amqp_uri) as connection:
            simple = connection.SimpleQueue(queue)
            try:
                while len(received) < n:
                    message = simple.get(timeout=timeout)
                    received.append(json.loads(message.body))
                    message.ack()
            finally:
                simple.close()
        return received

    yield take
    with Connection(amqp_uri) as connection:
        connection.channel().queue_delete("test-reporting-listener")


def loaded(rpc, publish, events):
    send(publish, events)
    wait_until(lambda: rpc.reporting.replay_state()["events"] == len(events), timeout=20,
               message="every event handled")


def test_filing_and_review_publish_their_events(reporting, publish, rpc, listener):
    loaded(rpc, publish, small_district().events)
    filed = rpc.reporting.file_report(uid("K2"), "plan", "C1", "org_admin:C1")
    returned = rpc.reporting.return_filing(filed["filing_id"], "课程安排缺少授课人", "FX",
                                           "org_admin:FX")
    again = rpc.reporting.file_report(uid("K2"), "plan", "C1", "org_admin:C1")
    rpc.reporting.acknowledge_filing(again["filing_id"], "FX", "org_admin:FX")
    events = listener(4)
    assert [(e["type"], e["data"]["version"], e["data"]["status"]) for e in events] == [
        ("report_filed", 1, "filed"), ("filing_returned", 1, "returned"),
        ("report_filed", 2, "filed"), ("filing_acknowledged", 2, "acknowledged")]
    assert events[1]["data"]["reason"] == "课程安排缺少授课人"
    assert events[0]["data"]["sha256"] == filed["sha256"]
    assert {e["source"] for e in events} == {"reporting"}
    assert returned["status"] == "returned"


def test_a_filed_version_cannot_be_altered_and_a_tampered_one_is_refused(
        reporting, publish, rpc, database_urls):
    loaded(rpc, publish, small_district().events)
    filed = rpc.reporting.file_report(uid("K1"), "plan", None, "district_admin")
    connection = psycopg2.connect(database_urls["reporting"])
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in ("UPDATE filing SET content = 'x' WHERE filing_id = %s",
                              "UPDATE filing SET filed_at = now() WHERE filing_id = %s",
                              "DELETE FROM filing WHERE filing_id = %s"):
                with pytest.raises(psycopg2.errors.RaiseException,
                                   match="a filed version never changes"):
                    cursor.execute(statement, (filed["filing_id"],))
        assert rpc.reporting.get_filing(filed["filing_id"])["sha256"] == filed["sha256"]
        # An owner of the database switches the guard off and edits the bytes: every read fails.
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE filing DISABLE TRIGGER filing_is_final")
            cursor.execute("UPDATE filing SET content = convert_to('{\"forged\":true}', 'UTF8') "
                           "WHERE filing_id = %s", (filed["filing_id"],))
            cursor.execute("ALTER TABLE filing ENABLE TRIGGER filing_is_final")
    finally:
        connection.close()
    with pytest.raises(Tampered):
        rpc.reporting.get_filing(filed["filing_id"])
    with pytest.raises(Tampered):
        rpc.reporting.filing_document(filed["filing_id"], "json")


def test_a_record_filed_after_the_seventh_day_is_listed_as_overdue(reporting, publish, rpc):
    events = small_district().events
    w = District()
    ten_days_ago = domain.now() - timedelta(days=10)
    today = domain.today()
    w.program("PX", today.year, "members", 10, organiser="C1")
    w.klass("class_published", "KX", "PX", today.year, "members", "C1",
            (today - timedelta(days=12)).isoformat(), (today - timedelta(days=11)).isoformat())
    w.klass("class_completed", "KX", "PX", today.year, "members", "C1",
            (today - timedelta(days=12)).isoformat(), (today - timedelta(days=11)).isoformat(),
            at=ten_days_ago)
    loaded(rpc, publish, events + w.events)

    late = rpc.reporting.file_report(uid("KX"), "record", "C1", "org_admin:C1")
    assert late["late"] is True
    status = json.loads(base64.b64decode(rpc.reporting.report(
        "filing-status", {"year": today.year, "org_code": "C1"})["content_b64"]))
    overdue = {(i["title"], i["kind"]): i["overdue_reason"] for i in status["overdue"]}
    assert overdue[("KX班", "record")] == "逾期报送"
    assert overdue[("KX班", "plan")] == "逾期未报"
    c1 = next(o for o in status["organisations"] if o["org_code"] == "C1")
    assert c1["overdue"] >= 2 and c1["filed"] >= 1
