"""PostgreSQL gone for ten seconds mid-stream (a server of the run's own, stopped with
`pg_ctl stop -m immediate`, then started again) while viewings keep coming: the consumers
hold what they took and wait for the database, the relays wait, nothing is dead-lettered, the
figures are exact. Publishing pauses once the server is back until no queue holds a message
ready, and the run notes how long that took: the backlog of the outage worked through."""

import time

from services.kit.processes import wait_until

from ..drive import SIZES, drive, every
from ..postgres import Postgres

OUTAGE = 10.0     # s
CHUNK = 100       # viewings published every PACE seconds, before, during and after the outage
PACE = 0.25       # s: a stream the services keep up with, so that the outage is mid-stream


def run(size: str):
    due = every(SIZES[size].events // 2)
    with Postgres() as server:
        crashed = []

        def harm(system, workload, published):
            if crashed or not due(published):
                time.sleep(PACE)
                return
            server.crash()
            crashed.append(time.monotonic())
            back = crashed[0] + OUTAGE
            while time.monotonic() < back:
                workload.publish(CHUNK)   # the broker is still there: the stream goes on
                time.sleep(min(PACE, max(back - time.monotonic(), 0)))
            server.start()
            again = time.monotonic()
            wait_until(lambda: not system.ready(), "the outage's backlog worked through",
                       timeout=300, interval=0.1)
            system.notes.append(f"caught up {time.monotonic() - again:.1f} s after PostgreSQL "
                                f"came back (published during the outage: "
                                f"{workload.published - published})")
        return drive("postgres-outage", size, harm, chunk=CHUNK, postgres=server.address)
