"""How each peixun process starts: the one place that names the services' nameko classes.

`peixun run`, the demo, the benchmarks and the tests start a service with `popen_service`;
the compose file runs the same `service_command` (tests/unit/test_deploy.py holds the two
together). The CLI reaches a service's own code only this way, by running it: reporting's
replay runs as a process of its own too."""

import os
import subprocess
import sys
from pathlib import Path

from services.kit import config

from .failures import USAGE, Failure

SERVICE_CLASSES = {
    "scheduling": "services.scheduling.service:SchedulingService",
    "enrollment": "services.enrollment.service:EnrollmentService",
    "reporting": "services.reporting.service:ReportingService",
    "gateway": "services.gateway.service:GatewayService",
}
# `python -m` this: rebuild reporting's read models from its event log (`peixun replay`).
REPLAY_MODULE = "services.reporting.replay"

BIN = Path(sys.executable).parent


def service_command(service: str) -> list[str]:
    """The argv that runs one service, as the compose file also runs it (from the repo root)."""
    return ["nameko", "run", "--config", "deploy/nameko.yaml", SERVICE_CLASSES[service]]


def popen_service(service: str, env: dict | None = None, stdout=None) -> subprocess.Popen:
    argv = service_command(service)
    argv[0] = str(BIN / argv[0])   # the nameko of this virtualenv
    return subprocess.Popen(argv, cwd=config.ROOT, env={**os.environ, **(env or {})},
                            stdout=stdout, stderr=subprocess.STDOUT if stdout else None)


def module_command(module: str, *args: str) -> list[str]:
    """The argv that runs a module of this tree with this virtualenv's Python."""
    return [sys.executable, "-m", module, *args]


def reach_broker() -> None:
    """Fail at once, with the operator's message (failures.explain), when RabbitMQ does not
    answer: before starting processes that would wait for it, or retry it, for minutes."""
    from kombu import Connection

    with Connection(config.amqp_uri(), connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=1)


def reach_database(service: str) -> None:
    """Fail at once, with the operator's message, when `service`'s database does not answer:
    before starting a process of its own that would only print a traceback."""
    from services.kit.database import make_engine

    engine = make_engine(config.database_url(service))
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def addresses() -> str:
    """Where a running system is reached: the admin pages, the API docs, each metrics page."""
    from services.kit.metrics import metrics_port

    base = f"http://localhost:{config.http_port()}"
    lines = [f"admin pages   {base}/admin  (an account: `peixun user create`)",
             f"API docs      {base}/api/v1/docs  ({base}/api/v1/openapi.json)",
             f"health        {base}/health  (and `peixun status`)"]
    for service in config.SERVICES:
        try:
            port = metrics_port(service)
        except ValueError as exc:   # <SERVICE>_METRICS_PORT is not a port
            raise Failure(str(exc), USAGE) from None
        lines.append(f"metrics       {service:<11} " + (
            f"http://localhost:{port}/metrics" if port else
            "a free port (`peixun health " + service + "` names it)" if port == 0 else "none"))
    return "\n".join(lines)
