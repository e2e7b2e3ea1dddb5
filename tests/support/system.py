"""The services in this process for integration and end-to-end tests: nameko config on the
run's vhost and databases, emptied for each test, and the whole system behind the gateway."""

import socket
from contextlib import contextmanager

import pytest

from tests.support.broker import purge_queues
from tests.support.databases import truncate_all


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def service_config(amqp_uri, vhost, database_urls):
    """nameko config for in-process containers; every queue and table starts empty."""
    purge_queues(amqp_uri, vhost)
    for url in database_urls.values():
        truncate_all(url)
    return {
        "AMQP_URI": amqp_uri,
        "max_workers": 10,
        "serializer": "json",
        **{f"{service.upper()}_DATABASE_URL": url for service, url in database_urls.items()},
    }


@pytest.fixture
def service_env(service_config, tmp_path):
    """The same, as environment variables for service processes."""
    return {
        "AMQP_URI": service_config["AMQP_URI"],
        "PEIXUN_VAR_DIR": str(tmp_path / "var"),
        **{k: v for k, v in service_config.items() if k.endswith("_DATABASE_URL")},
    }


@contextmanager
def whole_system(amqp_uri, vhost, database_urls):
    """Every service running in this process on emptied queues and tables, the gateway on a
    free port: (its base URL, an RPC proxy). For module-scoped worlds behind the HTTP door."""
    from nameko.runners import ServiceRunner
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation
    from services.enrollment.service import EnrollmentService
    from services.gateway.service import GatewayService
    from services.reporting.service import ReportingService
    from services.scheduling.service import SchedulingService

    purge_queues(amqp_uri, vhost)
    for url in database_urls.values():
        truncate_all(url)
    port = free_port()
    runner = ServiceRunner({
        "AMQP_URI": amqp_uri, "max_workers": 10, "serializer": "json",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        **{f"{s.upper()}_DATABASE_URL": u for s, u in database_urls.items()}})
    for cls in (SchedulingService, EnrollmentService, ReportingService, GatewayService):
        runner.add_service(cls)
    runner.start()
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            yield f"http://127.0.0.1:{port}", rpc
    finally:
        runner.kill()


def load_tree(rpc, orgs, people: dict) -> None:
    """An organisation tree — rows of (code, name, parent, kind, sector) — and its people —
    {member_no: (name, org_code)} — into enrollment, as an import brings them."""
    rpc.enrollment.import_orgs([
        {"row": i + 2, "org_code": code, "name": name, "parent_code": parent, "kind": kind,
         "sector": sector} for i, (code, name, parent, kind, sector) in enumerate(orgs)])
    rpc.enrollment.import_members([
        {"row": i + 2, "member_no": no, "name": name, "org_code": org,
         "joined_on": "2010-07-01", "employment": "enterprise"}
        for i, (no, (name, org)) in enumerate(people.items())])


def known(call, key):
    """What `call(key)` answers, or None while the service has not heard of `key` yet."""
    try:
        return call(key)
    except Exception:  # noqa: BLE001 - not there yet
        return None


def reporting_behind_the_gateway(runner_factory, service_config, publish, rpc, events,
                                 timeout: float = 20) -> str:
    """Reporting and the gateway in this process, the district's `events` sent and handled;
    the gateway's base URL."""
    from services.gateway.service import GatewayService
    from services.reporting.service import ReportingService
    from tests.support.districts import send
    from tests.support.waiting import wait_until

    port = free_port()
    config = {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    runner_factory(config, ReportingService, GatewayService).start()
    send(publish, events)
    wait_until(lambda: rpc.reporting.replay_state()["events"] == len(events), timeout=timeout,
               message="the district handled")
    return f"http://127.0.0.1:{port}"
