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
