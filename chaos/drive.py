"""One fault run through the two-hop pipeline: the services started, the world prepared, the
traffic published with a scenario's harm done between its chunks, everything completed and
drained, the figures counted. A run that passes removes its logs; one that fails keeps them
and says where."""

import shutil
import time
from collections.abc import Callable

from .outcome import Outcome
from .system import System
from .workload import Size, Workload

# short: make test (≈2,700 events); full: make chaos (≈50,000).
SIZES = {"short": Size(classes=3, members=250, sessions=4),
         "full": Size(classes=10, members=556, sessions=10)}

Harm = Callable[[System, Workload, int], None]


def drive(scenario: str, size: str | Size, harm: Harm, replicas: dict | None = None,
          chunk: int = 500, **system_args) -> Outcome:
    """`harm(system, workload, published)` runs after each chunk of `chunk` viewings (it
    appends what went wrong to `workload.problems`); `replicas` by service (default one)."""
    size = SIZES[size] if isinstance(size, str) else size
    started = time.monotonic()
    phases = [started]
    with System(scenario, **system_args) as system:
        workload = Workload(system, size)
        try:
            system.start_all(replicas)
            workload.prepare()
            phases.append(time.monotonic())
            workload.publish_all(between=lambda published: harm(system, workload, published),
                                 chunk=chunk)
            phases.append(time.monotonic())
            workload.finish()
            phases.append(time.monotonic())
            died = [f"{p.service}-{p.slot} exited ({p.popen.returncode}) and is not running"
                    for ps in system.processes.values() for p in ps
                    if not p.alive() and not p.stopped]
            outcome = workload.outcome(scenario, died)
        finally:
            workload.close()
            # As far as it got: a run that raised has fewer phases.
            took = ", ".join(f"{what} {b - a:.0f} s" for what, a, b in zip(
                ("set up", "published with harm", "completed and drained"), phases, phases[1:],
                strict=False))
            print(f"# {scenario}: {workload.published} events; {took}; logs in "
                  f"{system.run_dir}", flush=True)
            for note in system.notes:
                print(f"#   {scenario}: note: {note}", flush=True)
    if outcome.passed:
        shutil.rmtree(system.run_dir, ignore_errors=True)
    return outcome


def every(step: int):
    """True once per `step` events published: `due(published)` for a harm's schedule."""
    done = {"at": 0}

    def due(published: int) -> bool:
        if published - done["at"] >= step:
            done["at"] = published
            return True
        return False
    return due
