"""Replicas competing: three of enrollment and of reporting, two of scheduling, all consuming
the same queues while their outbox relays race for each service's advisory lock (one
publishes at a time, services/kit/outbox.py). Halfway, the first replica of enrollment and
of reporting (the one that took the relay's lock when it started alone) is killed -9: another
must take over its relay, and its unacked messages go to the others. Figures exact."""

from ..drive import SIZES, drive, every

REPLICAS = {"scheduling": 2, "enrollment": 3, "reporting": 3}
VICTIMS = ("enrollment", "reporting")


def run(size: str):
    due = every(SIZES[size].events // 2)
    killed = []

    def harm(system, workload, published):
        if killed or not due(published):
            return
        for service in VICTIMS:
            killed.append(system.kill(service, 0))
        system.wait_healthy(VICTIMS)   # the survivors: every live replica consuming
    return drive("replicas", size, harm, replicas=REPLICAS)
