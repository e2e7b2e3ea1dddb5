"""DESIGN §3 on the real RabbitMQ and PostgreSQL: nothing lost, nothing counted twice, bad input
kept with its reason, outages retried."""

import json
import urllib.parse
import uuid
from datetime import UTC, date, datetime

import eventlet
import psycopg2
import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.contracts import parse_event
from services.contracts.topology import queue_name
from services.enrollment.service import EnrollmentService
from services.kit import dead_letters as dlq
from services.kit import migrate
from services.kit import outbox as kit_outbox
from services.kit.database import make_engine
from services.kit.events import EventHandler
from services.kit.models import inbox, outbox
from services.kit.outbox import OutboxWriter, pending_events
from services.reporting import projections
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService
from tests.support.broker import RABBIT_API, RABBIT_AUTH, RABBIT_HOST
from tests.support.class_progress import progress_of, session_completed
from tests.support.classes import core_course
from tests.support.databases import PG_URL
from tests.support.waiting import wait_until

REPORTING_QUEUE = queue_name("reporting", "scheduling", "session_completed")


def count(url, table):
    engine = make_engine(url)
    with engine.connect() as connection:
        n = connection.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return n


@pytest.fixture
def reporting(container_factory, service_config):
    container = container_factory(ReportingService, service_config)
    container.start()
    return container


@pytest.fixture
def reporting_url(database_urls):
    return database_urls["reporting"]


def test_the_same_event_delivered_twice_is_handled_once(reporting, publish, reporting_url):
    event = session_completed()
    publish("scheduling.events", "session_completed", event.body())
    publish("scheduling.events", "session_completed", event.body())
    later = session_completed(event.data["class_id"])
    publish("scheduling.events", "session_completed", later.body())

    wait_until(lambda: progress_of(reporting_url, event.data["class_id"]) == (2, 4.0),
               message="both distinct events counted")
    assert count(reporting_url, inbox) == 2


def test_malformed_and_unknown_version_are_dead_lettered_and_consuming_goes_on(
        reporting, publish, dead_letters, reporting_url):
    class_id = str(uuid.uuid4())
    before = session_completed(class_id)
    unknown_version = dict(session_completed(class_id).payload, version=99)
    bad_data = session_completed(class_id).payload
    bad_data = {**bad_data, "data": {**bad_data["data"], "hours": "lots"}}
    after = session_completed(class_id)

    publish("scheduling.events", "session_completed", before.body())
    publish("scheduling.events", "session_completed", b"\x00\xffnot json at all",
            content_type="application/octet-stream")
    publish("scheduling.events", "session_completed", json.dumps(unknown_version).encode())
    publish("scheduling.events", "session_completed", json.dumps(bad_data).encode())
    publish("scheduling.events", "session_completed", after.body())

    letters = dead_letters(3)
    reasons = sorted(m.headers["x-peixun-reason"] for m in letters)
    assert reasons[0].startswith("body is not JSON")
    assert reasons[1].startswith("data: hours")
    assert reasons[2].startswith("version: scheduling.session_completed version 99 is unknown")
    for message in letters:
        assert message.headers["x-peixun-service"] == "reporting"
        assert message.headers["x-peixun-original-exchange"] == "scheduling.events"
        assert message.headers["x-peixun-original-routing-key"] == "session_completed"
        assert message.headers["x-peixun-original-queue"] == REPORTING_QUEUE
    assert b"\x00\xffnot json at all" in [m.body for m in letters]   # the body, unchanged
    wait_until(lambda: progress_of(reporting_url, class_id) == (2, 4.0),
               message="the good events around the bad ones")


def test_a_handler_bug_is_dead_lettered_then_replayed_to_that_consumer_alone(
        reporting, publish, dead_letters, amqp_uri, reporting_url, monkeypatch):
    # A bystander bound to the same exchange must not see the replay.
    bystander = Queue("test-bystander", Exchange("scheduling.events", type="topic"),
                      routing_key="session_completed", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        bystander.bind(connection.channel()).declare()

    def bug(session, envelopes, via=None):
        raise ZeroDivisionError("division by zero in a projection")

    monkeypatch.setattr(projections, "apply", bug)
    event = session_completed()
    publish("scheduling.events", "session_completed", event.body())
    wait_until(lambda: dlq.peek(amqp_uri, 10), message="the dead letter")
    [letter] = dlq.peek(amqp_uri, 10)
    assert letter["reason"] == "ZeroDivisionError: division by zero in a projection"
    assert letter["original_queue"] == REPORTING_QUEUE

    monkeypatch.undo()   # the bug is fixed and deployed
    assert dlq.replay(amqp_uri) == 1
    wait_until(lambda: progress_of(reporting_url, event.data["class_id"]) == (1, 2.0),
               message="the replayed event handled")
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        _, waiting, _ = channel.queue_declare("test-bystander", passive=True)
        channel.queue_delete("test-bystander")
    assert waiting == 1   # the original publish only, not the replay
    assert dead_letters(1, timeout=0.5) == []


def test_an_unreachable_database_is_waited_for_with_the_event_held_then_it_is_handled(
        reporting, publish, reporting_url, dead_letters):
    """Held by its consumer, unacked, not sent through the retry queue (whose delay grows to a
    minute: a long outage drained at 50-70 events/s), and handled once the database answers."""
    held = next(e for e in reporting.entrypoints if isinstance(e, EventHandler)
                and e.consumer_name == REPORTING_QUEUE).metrics.figures.registry
    admin = psycopg2.connect(f"{PG_URL}/postgres")
    admin.autocommit = True
    name = reporting_url.rsplit("/", 1)[1]
    event = session_completed()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s", (name,))
        publish("scheduling.events", "session_completed", event.body())
        wait_until(lambda: held.get_sample_value(
            "peixun_events_held", {"consumer": REPORTING_QUEUE}) == 1,
            message="the event held while the database is away")
        eventlet.sleep(1.0)   # several probes go unanswered meanwhile
        with Connection(reporting.config["AMQP_URI"]) as connection:
            channel = connection.channel()
            assert channel.queue_declare(f"{REPORTING_QUEUE}.retry", passive=True)[1] == 0
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    wait_until(lambda: progress_of(reporting_url, event.data["class_id"]) == (1, 2.0),
               timeout=10, message="the event handled once the database is back")
    assert held.get_sample_value("peixun_events_held", {"consumer": REPORTING_QUEUE}) == 0
    assert dead_letters(1, timeout=0.2) == []


def test_an_event_committed_but_not_published_before_a_crash_is_published_once_after_restart(
        container_factory, service_config, database_urls, amqp_uri):
    url = database_urls["scheduling"]
    engine = make_engine(url)
    migrate.upgrade(engine, "scheduling")
    # The service committed its change and its outbox row, then died before the relay ran.
    with Session(engine) as session, session.begin():
        event = OutboxWriter(session, "scheduling").add(
            "session_completed", session_completed().data)

    listener = Queue("test-listener", Exchange("scheduling.events", type="topic"),
                     routing_key="session_completed", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        listener.bind(connection.channel()).declare()

    for _ in range(2):   # start, stop, start again: still one publish
        container = container_factory(SchedulingService, service_config)
        container.start()
        wait_until(lambda: count_unsent(engine) == 0, message="the relay to publish")
        container.stop()

    with Connection(amqp_uri) as connection:
        queue = connection.SimpleQueue(listener)
        received = [queue.get(timeout=2)]
        with pytest.raises(queue.Empty):
            queue.get(timeout=0.5)
        queue.close()
        connection.channel().queue_delete("test-listener")
    assert json.loads(received[0].body)["id"] == event.id
    engine.dispose()


def count_unsent(engine):
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                                  ).scalar_one()


def test_an_event_published_before_its_consumer_first_ran_is_kept(
        container_factory, service_config, rpc, database_urls):
    scheduling = container_factory(SchedulingService, service_config)
    scheduling.start()   # declares every consumer queue, reporting's included
    program = rpc.scheduling.create_program({
        "year": 2026, "track": "members", "organiser_org_code": "FX",
        "name": "万名党员进课堂", "target_person_times": 20000})
    created = rpc.scheduling.create_class({
        "program_id": program["program_id"], "title": "新党员示范班",
        "audience": {"category": "new_member"}, "offline_capacity": 80, "delivery": "offline",
        "start_date": "2026-06-01", "end_date": "2026-06-01", "publish": True,
        "sessions": [{"course_id": core_course(rpc.scheduling), "kind": "oath",
                      "starts_at": "2026-06-01T09:00:00+08:00",
                      "ends_at": "2026-06-01T10:00:00+08:00", "hours": 1}]})
    rpc.scheduling.complete_session(created["sessions"][0]["session_id"])
    wait_until(lambda: count(database_urls["scheduling"], outbox) > 0
               and count_unsent(make_engine(database_urls["scheduling"])) == 0,
               message="the relay to publish")

    reporting = container_factory(ReportingService, service_config)
    reporting.start()
    wait_until(lambda: progress_of(database_urls["reporting"], created["class_id"]) == (1, 1.0),
               message="reporting to catch up")


@pytest.fixture
def fresh_vhost_config(service_config):
    """A vhost nobody has declared anything in yet."""
    import requests

    name = f"peixun-test-fresh-{uuid.uuid4().hex[:6]}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", auth=RABBIT_AUTH, timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest", auth=RABBIT_AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    yield {**service_config, "AMQP_URI": f"amqp://guest:guest@{RABBIT_HOST}:5672/{name}"}
    requests.delete(f"{RABBIT_API}/vhosts/{name}", auth=RABBIT_AUTH, timeout=10)


def test_a_publisher_alone_declares_its_consumers_queues_so_its_events_wait_for_them(
        container_factory, fresh_vhost_config, database_urls):
    scheduling = container_factory(SchedulingService, fresh_vhost_config)
    scheduling.start()
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy(fresh_vhost_config, timeout=10) as proxy:
        program = proxy.scheduling.create_program({
            "year": 2026, "track": "members", "organiser_org_code": "FX",
            "name": "万名党员进课堂", "target_person_times": 20000})
    engine = make_engine(database_urls["scheduling"])
    wait_until(lambda: count_unsent(engine) == 0, message="the relay to publish")
    engine.dispose()
    with Connection(fresh_vhost_config["AMQP_URI"]) as connection:
        queue = Queue(queue_name("reporting", "scheduling", "program_changed"))
        message = queue.bind(connection.channel()).get(no_ack=True)
    assert json.loads(message.body)["data"]["program_id"] == program["program_id"]


# -- pages of events: one outbox row in the database, one message per event on the wire ------

def person(n):
    return {"member_no": f"M{n:05d}", "org_code": "FX0101", "committee_code": "FX01",
            "joined_on": date(2010, 7, 1), "employment": "enterprise", "secretary_of": None,
            "active": True}


def write_enrollment_outbox(url, sizes):
    """Committed before the relay runs: a lone event, then pages of the given sizes."""
    engine = make_engine(url)
    migrate.upgrade(engine, "enrollment")
    with Session(engine) as session, session.begin():
        lone = OutboxWriter(session, "enrollment").add("person_changed", person(0))
    with Session(engine) as session, session.begin():
        start, writer = 1, OutboxWriter(session, "enrollment")
        for size in sizes:
            writer.add_many("person_changed", [person(n) for n in range(start, start + size)])
            start += size
    return engine, lone


@pytest.fixture
def listener(amqp_uri):
    """A queue of the test's own on enrollment.events for person_changed."""
    name = f"test-pages-{uuid.uuid4().hex[:6]}"
    queue = Queue(name, Exchange("enrollment.events", type="topic"),
                  routing_key="person_changed", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        queue.bind(connection.channel()).declare()

    def take(count, or_more=False):
        """Exactly `count` messages; with `or_more`, also whatever follows them."""
        messages = []
        with Connection(amqp_uri) as connection:
            simple = connection.SimpleQueue(queue)
            while len(messages) < count:
                messages.append(simple.get(timeout=5))
                messages[-1].ack()
            while or_more:
                try:
                    messages.append(simple.get(timeout=0.3))
                except simple.Empty:
                    break
                messages[-1].ack()
            with pytest.raises(simple.Empty):
                simple.get(timeout=0.3)
            simple.close()
        return messages

    take.name = name
    yield take
    with Connection(amqp_uri) as connection:
        connection.channel().queue_delete(name)


def pending(engine):
    with engine.connect() as connection:
        return connection.execute(pending_events()).scalar_one()


def test_a_page_of_events_goes_out_as_one_message_each_with_its_own_id_in_order(
        container_factory, service_config, database_urls, listener, monkeypatch):
    monkeypatch.setattr(kit_outbox, "EVENTS_PER_ROW", 300)
    engine, lone = write_enrollment_outbox(database_urls["enrollment"], [700, 5])
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.events).order_by(outbox.c.position)).scalars()
        assert list(rows) == [None, 300, 300, 100, 5]
    assert pending(engine) == 706

    container_factory(EnrollmentService, service_config).start()
    wait_until(lambda: pending(engine) == 0, timeout=20, message="the relay to publish")

    messages = listener(706)
    bodies = [json.loads(m.body) for m in messages]
    assert [b["data"]["member_no"] for b in bodies] == [f"M{n:05d}" for n in range(706)]
    assert bodies[0]["id"] == lone.id
    assert [m.properties["message_id"] for m in messages] == [b["id"] for b in bodies]
    assert len({b["id"] for b in bodies}) == 706
    assert {m.properties["type"] for m in messages} == {"person_changed"}
    for body in bodies:
        parse_event(body, source="enrollment", event_type="person_changed")
    engine.dispose()


def test_a_page_the_broker_refuses_halfway_stays_unsent_and_goes_out_whole_later(
        container_factory, service_config, database_urls, listener, vhost, rpc):
    """A queue full (reject-publish) nacks the second half of a page: the relay marks nothing
    sent and publishes the page again until the broker takes all of it. What was confirmed
    the first time comes twice (same ids, which consumers' inboxes skip); nothing is lost."""
    import requests

    engine, lone = write_enrollment_outbox(database_urls["enrollment"], [8])
    policy = f"{RABBIT_API}/policies/{urllib.parse.quote(vhost, safe='')}/{listener.name}"
    requests.put(policy, auth=RABBIT_AUTH, timeout=10, json={
        "pattern": f"^{listener.name}$", "apply-to": "queues", "priority": 10,
        "definition": {"max-length": 5, "overflow": "reject-publish"}}).raise_for_status()
    queue_api = f"{RABBIT_API}/queues/{urllib.parse.quote(vhost, safe='')}/{listener.name}"
    try:
        wait_until(lambda: requests.get(queue_api, auth=RABBIT_AUTH, timeout=10)
                   .json().get("policy") == listener.name, message="the policy to apply")
        container_factory(EnrollmentService, service_config).start()
        wait_until(lambda: requests.get(queue_api, auth=RABBIT_AUTH, timeout=10)
                   .json().get("messages") == 5, message="the queue to fill")
        eventlet.sleep(1.0)   # the relay tries again meanwhile, and is refused again
        # One batch, the lone event and the page: none of it marked sent.
        assert pending(engine) == 9
        health = rpc.enrollment.health()
        assert health["outbox_pending"] == 9
        assert health["outbox_oldest_age_seconds"] >= 1.0   # waiting since before the sleep
    finally:
        requests.delete(policy, auth=RABBIT_AUTH, timeout=10)
    wait_until(lambda: pending(engine) == 0, timeout=20, message="the page to go out")

    # A retry may meet the policy half-removed (the queue applies it between two messages of
    # one batch), which takes another prefix: at least once, never out of order.
    messages = listener(5 + 9, or_more=True)
    ids = [json.loads(m.body)["id"] for m in messages]
    members = [json.loads(m.body)["data"]["member_no"] for m in messages]
    # What the full queue took the first time (the lone event and the page's first four),
    # and at the end the whole batch again, in order.
    whole = [f"M{n:05d}" for n in range(9)]
    assert members[:5] == whole[:5] and members[-9:] == whole
    assert ids[0] == ids[-9] == lone.id
    assert ids[-9:-4] == ids[:5] and len(set(ids)) == 9
    # Anything between is a batch's prefix, sent again whole after it.
    middle = members[5:-9]
    while middle:
        taken = next(n for n in range(len(middle), 0, -1) if middle[:n] == whole[:n])
        middle = middle[taken:]
    engine.dispose()


def test_an_event_no_service_consumes_comes_back_is_marked_sent_and_the_rest_go_on(
        container_factory, service_config, database_urls, listener):
    """Every consumer queue is declared up front, so a message the broker returns as
    unroutable is of a type nobody consumes: the relay logs it and marks it sent, and the
    events after it go out (persistent, with their ids and types)."""
    engine = make_engine(database_urls["enrollment"])
    migrate.upgrade(engine, "enrollment")
    with Session(engine) as session, session.begin():
        session.execute(outbox.insert().values(
            event_id=str(uuid.uuid4()), exchange="enrollment.events",
            routing_key="nobody_consumes_this", body="{}", created_at=datetime.now(UTC)))
    engine, lone = write_enrollment_outbox(database_urls["enrollment"], [3])
    assert pending(engine) == 5

    container_factory(EnrollmentService, service_config).start()
    wait_until(lambda: pending(engine) == 0, timeout=20, message="the relay to publish")

    messages = listener(4)
    assert json.loads(messages[0].body)["id"] == lone.id
    assert [m.properties["delivery_mode"] for m in messages] == [2] * 4
    assert [m.properties["type"] for m in messages] == ["person_changed"] * 4
    assert [m.properties["message_id"] for m in messages] == \
        [json.loads(m.body)["id"] for m in messages]
    engine.dispose()
