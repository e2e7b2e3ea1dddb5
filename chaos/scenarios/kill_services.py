"""kill -9 each service in turn (scheduling, enrollment, reporting), several rounds, while
viewings stream in and classes complete; each is restarted at once. Nothing may be lost or
counted twice: the outbox resends what a dead relay had not marked sent, the broker
redelivers what a dead consumer had not acked, the inbox drops the twins."""

import itertools
import time

from ..drive import SIZES, drive, every
from ..system import SERVICES

KILLS = {"short": 5, "full": 18}   # six rounds of three at full size
DOWN = 1.0                        # s a killed service stays dead: its queues fill meanwhile


def run(size: str):
    victims = itertools.cycle(SERVICES)
    due = every(max(SIZES[size].events // (KILLS[size] + 1), 1))

    def harm(system, workload, published):
        if due(published):
            dead = system.kill(next(victims))
            time.sleep(DOWN)
            system.restart(dead)
    return drive("kill-services", size, harm)
