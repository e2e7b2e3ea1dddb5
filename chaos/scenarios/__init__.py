"""Every scenario, by the name its CHAOS line carries: the module whose `run(size)` returns an
Outcome. `size` is "short" (make test: a few thousand events) or "full" (make chaos)."""

import importlib

SCENARIOS = {
    "kill-services": "chaos.scenarios.kill_services",
    "kill-leader": "chaos.scenarios.kill_leader",
    "broker-restart": "chaos.scenarios.broker_restart",
    "postgres-outage": "chaos.scenarios.postgres_outage",
    "replicas": "chaos.scenarios.replicas",
    "sigterm": "chaos.scenarios.sigterm",
    "hostile": "chaos.scenarios.hostile",
    "poison": "chaos.scenarios.poison",
}
SIZES = ("short", "full")


def scenario(name: str):
    """The scenario's run(size) function."""
    return importlib.import_module(SCENARIOS[name]).run
