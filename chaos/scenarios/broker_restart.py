"""The one broker stopped (gracefully) mid-stream and started again on its data: the services
lose every connection and must get them back, the relays keep unsent events in their outboxes
until the broker confirms them, and the quorum queues come back with every message they had
confirmed. The broker is a node of the run's own (chaos.brokers), never the machine's."""

import time

from ..brokers import Cluster
from ..drive import SIZES, drive, every
from ..system import Broker

DOWN = {"short": 3.0, "full": 10.0}   # s the broker stays stopped


def run(size: str):
    due = every(SIZES[size].events // 2)
    with Cluster(1) as cluster:
        node = cluster.nodes[0]
        restarted = []

        def harm(system, workload, published):
            if restarted or not due(published):
                return
            cluster.stop(node)
            time.sleep(DOWN[size])
            cluster.start(node)
            restarted.append(published)
        outcome = drive("broker-restart", size, harm,
                        broker=Broker(hosts=cluster.hosts, api=f"{node.management_url}/api"))
    if not restarted:
        outcome.problems.append("the broker was never restarted")
    return outcome
