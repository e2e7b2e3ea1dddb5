"""Every layer's set-up: eventlet first, the markers each layer's tests carry, the run's own
PostgreSQL databases, and CI's rule that a green run includes the broker tests.

The layers: unit (no broker; a test that also runs its rule on PostgreSQL is marked `postgres`),
integration (services in this process on the real RabbitMQ and PostgreSQL), e2e (the system as
its users run it). What the tests share lives in tests/support/; each layer's conftest exposes
the fixtures it uses.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

import os

from tests.support.databases import database_urls  # noqa: F401 - a fixture, for every layer

# Every service a test starts serves its metrics on a free port: the fixed ones (9101–9104)
# belong to a deployment, and two test runs (or CI's two chaos lanes) would fight over them.
for _service in ("scheduling", "enrollment", "reporting", "gateway"):
    os.environ.setdefault(f"{_service.upper()}_METRICS_PORT", "0")

# What a whole layer needs; a unit test marks `postgres` itself.
LAYER_MARKERS = {"integration": ("broker", "postgres"), "e2e": ("broker", "postgres")}


def pytest_collection_modifyitems(items):
    for item in items:
        for marker in LAYER_MARKERS.get(item.path.parent.name, ()):
            item.add_marker(marker)


_broker_tests_passed = 0


def pytest_runtest_logreport(report):
    global _broker_tests_passed
    if report.when == "call" and report.passed and "broker" in report.keywords:
        _broker_tests_passed += 1


def pytest_sessionfinish(session, exitstatus):
    # In CI a green run must include the broker tests (DESIGN: skipping them is a failure).
    if os.environ.get("CI") and _broker_tests_passed == 0:
        print("\nCI: no broker test passed; failing the run")
        session.exitstatus = 1
