"""Each scenario of `make chaos`, short, in a process of its own (it starts and kills processes
and brokers; eventlet in pytest's process must not be in its way). Its CHAOS line must PASS."""

import subprocess
import sys

import pytest

from chaos.scenarios import SCENARIOS
from services.kit import config


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_fault_run_loses_nothing_and_doubles_nothing(name):
    done = subprocess.run([sys.executable, "-m", "chaos.run", "--short", name], cwd=config.ROOT,
                          capture_output=True, text=True, timeout=590)
    lines = [line for line in done.stdout.splitlines() if line.startswith("CHAOS ")]
    assert len(lines) == 1, done.stdout + done.stderr[-4000:]
    assert lines[0].endswith(" PASS"), done.stdout + done.stderr[-4000:]
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
