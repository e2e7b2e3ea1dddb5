"""The reporting service keeps answering while its renderer process draws a PDF, and its
health() names the renderer."""

import eventlet
from nameko.standalone.rpc import ClusterRpcProxy

from services.reporting.render.remote import renderer
from services.reporting.service import ReportingService
from tests.support.districts import send, small_district
from tests.support.waiting import wait_until


def test_health_answers_while_a_pdf_is_drawn_and_names_the_renderer(
        container_factory, service_config, publish, rpc, amqp_uri):
    container_factory(ReportingService, service_config).start()
    events = small_district().events
    send(publish, events)
    wait_until(lambda: rpc.reporting.replay_state()["events"] == len(events), timeout=20,
               message="the district handled")
    renderer.stop()    # the pull below starts one: its start-up and drawing both take a while
    assert rpc.reporting.health()["renderer_pid"] is None

    def pull():
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as own:
            return own.reporting.report("annual-summary", {"year": 2026}, "pdf")

    pulling = eventlet.spawn(pull)
    answered = []
    while not pulling.dead:
        health = rpc.reporting.health()
        if health["renderer_pid"] is not None and not pulling.dead:
            answered.append(health)
        eventlet.sleep(0.02)
    assert pulling.wait()["content_type"] == "application/pdf"
    assert len(answered) >= 3, answered
    assert answered[-1]["status"] == "ok" and answered[-1]["renderer_pid"] == renderer.pid
    assert rpc.reporting.health()["renderer_peak_rss_mb"] > 50
