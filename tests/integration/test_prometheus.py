"""A real Prometheus (Debian's package) scrapes every running service's /metrics while the
system works, and its HTTP API answers the figures an operator's dashboards and alerts read."""

import json
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from services.contracts.topology import exchange_name, queue_name
from services.kit.config import SERVICES
from services.kit.database import make_engine
from services.kit.models import outbox
from tests.support.promql import PROMETHEUS, dashboard_queries, metric_names, prometheus_server
from tests.support.promql import query as ask
from tests.support.system import free_port, load_tree, whole_system
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "peixun.json"

ORGS = [("D01", "区委", None, "committee", None),
        ("G01", "一村党支部", "D01", "grassroots", "village"),
        ("G02", "二村党支部", "D01", "grassroots", "village")]
PEOPLE = {"M0001": ("张一", "G01"), "M0002": ("王二", "G02"), "M0003": ("李三", "G02")}
ORGS_CONSUMER = queue_name("reporting", "enrollment", "organisation_changed")
PEOPLE_CONSUMER = queue_name("reporting", "enrollment", "person_changed")


def total(metric: str, **labels: str) -> str:
    matchers = ", ".join(f'{label}="{value}"' for label, value in labels.items())
    return f"sum({metric}{{{matchers}}})"


# What the traffic below must show, each figure from the service that records it.
CHECKS = {
    "every service is up": total("up", job="peixun"),
    "relay published": total("peixun_relay_published_total", service="enrollment"),
    "orgs handled": total("peixun_handler_seconds_count", consumer=ORGS_CONSUMER),
    "people in batches": total("peixun_handler_batch_size_sum", consumer=PEOPLE_CONSUMER),
    "confirms timed": total("peixun_relay_confirm_seconds_count"),
    "import timed": total("peixun_rpc_seconds_count", method="import_members"),
    "refusal counted": total("peixun_rpc_errors_total", method="get_program", kind="domain"),
    "contract dead letter": total("peixun_dead_letters_total", consumer=PEOPLE_CONSUMER,
                                  reason="contract"),
    "pages counted": total("peixun_http_requests_total", route="/verify/<string:code>"),
}


def _value(base: str, promql: str) -> float:
    result = ask(base, promql)
    return sum(float(series["value"][1]) for series in result)


@pytest.mark.timeout(180)
def test_prometheus_scrapes_every_service_and_answers_the_figures(
        amqp_uri, vhost, database_urls, monkeypatch, tmp_path, publish):
    assert PROMETHEUS.exists(), "Debian's prometheus is missing: `make test` installs it"
    for service in SERVICES:   # replicas on one host: each takes a free port, health() names it
        monkeypatch.setenv(f"{service.upper()}_METRICS_PORT", "0")
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        ports = {service: getattr(rpc, service).health()["metrics_port"] for service in SERVICES}
        assert all(ports.values()) and len(set(ports.values())) == 4, ports
        targets = {service: f"127.0.0.1:{port}" for service, port in ports.items()}
        with prometheus_server(tmp_path, free_port(), targets) as prometheus:
            # Traffic: an import (RPC, outbox, relay, reporting's consumers), pages, a call a
            # rule refuses, a body that breaks its contract, an event delivered twice.
            load_tree(rpc, ORGS, PEOPLE)
            assert requests.get(f"{base}/health", timeout=10).status_code == 200
            for code in ("ABCD-1234", "WXYZ-9876"):
                requests.get(f"{base}/verify/{code}", timeout=10)
            with pytest.raises(Exception, match="NotFound|no"):
                rpc.scheduling.get_program("no-such-program")
            publish(exchange_name("enrollment"), "person_changed", b"not json at all")

            def scraped():
                values = {name: _value(prometheus, promql) for name, promql in CHECKS.items()}
                # `up` is the last scrape's: on a busy box one can miss its one-second
                # timeout, and the next one counts again.
                return values if all(values.values()) and \
                    values["every service is up"] == 4 else None

            values = wait_until(scraped, timeout=60, interval=1,
                                message="Prometheus to hold every figure")
            assert values["every service is up"] == 4
            assert values["relay published"] >= len(ORGS) + len(PEOPLE)
            assert values["people in batches"] == len(PEOPLE)

            # An event delivered again (as the relay may after a lost confirm) is skipped and
            # counted: the person event enrollment sent, straight from its outbox.
            engine = make_engine(database_urls["enrollment"])
            with engine.connect() as connection:
                page = connection.execute(select(outbox.c.body).where(
                    outbox.c.routing_key == "person_changed").limit(1)).scalar_one()
            engine.dispose()
            publish(exchange_name("enrollment"), "person_changed", page.split("\n")[0].encode())
            wait_until(lambda: _value(prometheus, total("peixun_inbox_duplicates_total",
                                                        consumer=PEOPLE_CONSUMER)) == 1,
                       timeout=30, interval=1, message="the duplicate to be counted")

            # The gauges read from the outbox at scrape time: drained, so nothing waits.
            wait_until(lambda: ask(prometheus, "peixun_outbox_pending") and _value(
                prometheus, "sum(peixun_outbox_pending)") == 0, timeout=30, interval=1,
                message="the outbox gauges")
            services = {s["metric"]["service"] for s in ask(prometheus,
                                                             "peixun_outbox_oldest_age_seconds")}
            assert services == {"scheduling", "enrollment", "reporting"}   # those with an outbox

            # Labels stay bounded: the route's template, never the code in the path.
            routes = {s["metric"]["route"] for s in ask(prometheus, "peixun_http_requests_total")}
            assert "/verify/<string:code>" in routes and "/health" in routes
            assert not [route for route in routes if "ABCD" in route or "WXYZ" in route]

            # Every peixun figure the dashboard draws that this traffic makes, Prometheus has.
            names = set(requests.get(f"{prometheus}/api/v1/label/__name__/values",
                                     timeout=10).json()["data"])
            drawn = {name for expr in dashboard_queries(json.loads(DASHBOARD.read_text()))
                     for name in metric_names(expr) if name.startswith("peixun_")}
            only_on_trouble = {"peixun_retries_total", "peixun_rpc_timeouts_total"}
            assert drawn - only_on_trouble - names == set()
