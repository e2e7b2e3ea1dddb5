"""Each scenario of `make chaos`, short, in processes of their own (they start and kill
processes and brokers; eventlet in pytest's process must not be in their way). Every CHAOS
line must PASS.

The scenarios spend most of their time waiting (services starting and stopping, a node
rejoining, an outage lasting), so they run in two lanes side by side; the two that start
RabbitMQ nodes of their own share a lane, as their nodes take the same ports."""

import subprocess
import sys

import pytest

from chaos.scenarios import SCENARIOS
from services.kit import config

LANES = (
    ("kill-leader", "broker-restart", "kill-services", "sigterm"),
    ("replicas", "postgres-outage", "hostile", "poison"),
)


@pytest.fixture(scope="module")
def runs() -> dict[str, str]:
    """Each scenario's CHAOS line, with its lane's whole output for when it fails."""
    lanes = [subprocess.Popen([sys.executable, "-m", "chaos.run", "--short", *lane],
                              cwd=config.ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for lane in LANES]
    outputs = [lane.communicate(timeout=1500)[0] for lane in lanes]
    found = {}
    for output in outputs:
        for line in output.splitlines():
            if line.startswith("CHAOS "):
                found[line.split()[1]] = (line, output)
    return found


def test_every_scenario_runs_in_a_lane():
    assert sorted(name for lane in LANES for name in lane) == sorted(SCENARIOS)


@pytest.mark.timeout(1600)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_fault_run_loses_nothing_and_doubles_nothing(runs, name):
    line, output = runs.get(name, (None, "no CHAOS line at all:\n"))
    assert line is not None and line.endswith(" PASS"), output[-6000:]
