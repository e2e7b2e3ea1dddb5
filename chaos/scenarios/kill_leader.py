"""A three-node cluster loses the node leading the busiest queue (kill -9) mid-stream, gets it
back, and later has another node frozen (SIGSTOP, then SIGCONT). The services hold the three
nodes in their AMQP URI: whoever was connected to the dead node fails over, the quorum queues
elect new leaders and keep every message they confirmed, so the figures stay exact."""

import threading
import time
import urllib.parse

from ..brokers import Cluster, management_get
from ..drive import SIZES, drive, every
from ..system import Broker

DOWN = {"short": 5.0, "full": 20.0}     # s the killed node stays dead before it is restarted
PAUSE = {"short": 10.0, "full": 30.0}   # s the other node stays frozen
FAILOVER = 60.0   # s the services have to reconnect to the other nodes
TRICKLE = 20    # viewings published every half second while a node is away (a share of the
#                 stream, so that some is left for the next fault)


def busiest(cluster: Cluster, vhost: str) -> str:
    """The vhost's consumer queue with the most messages in it, else the most published to."""
    node = cluster.up()[0]
    queues = management_get(node, f"/api/queues/{urllib.parse.quote(vhost, safe='')}")
    consumer_queues = [q for q in queues if not q["name"].startswith("rpc")
                       and not q.get("exclusive")]
    fullest = max(consumer_queues, key=lambda q: (q.get("messages") or 0,
                                                  q.get("message_stats", {}).get("publish", 0)))
    return fullest["name"]


def run(size: str):
    due = every(SIZES[size].events // 3)
    with Cluster(3) as cluster:
        done: list[str] = []

        def keep_publishing(workload, seconds: float) -> None:
            # Sleeps even when nothing is left to publish: the harness runs under eventlet
            # (services.cli patches), and the restart's green thread runs only while we sleep.
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                workload.publish(TRICKLE)
                time.sleep(0.5)

        def harm(system, workload, published):
            if len(done) == 2 or not due(published):
                return
            queue = busiest(cluster, system.vhost)
            leader = cluster.leader(system.vhost, queue)
            if not done:
                cluster.kill(leader)
                keep_publishing(workload, DOWN[size])
                try:   # with the node still dead: every service consumes and answers again
                    system.wait_healthy(timeout=FAILOVER)
                except RuntimeError as exc:
                    workload.problems.append(f"no failover from {leader.name}: {exc}")
                # The traffic goes on while the node boots and rejoins (as after a crash).
                restart = threading.Thread(target=cluster.start, args=(leader,))
                restart.start()
                while restart.is_alive():
                    keep_publishing(workload, 1.0)
                restart.join()
                done.append(f"killed {leader.name}, leader of {queue}")
            else:
                # SIGCONT on a timer of its own: a publish stuck on the frozen node must not
                # stretch the pause past net_ticktime, which would partition the cluster.
                cluster.pause(leader)
                resume = threading.Timer(PAUSE[size], cluster.resume, args=(leader,))
                resume.start()
                try:
                    keep_publishing(workload, PAUSE[size])
                finally:
                    resume.join()
                done.append(f"paused {leader.name}, leader of {queue}, {PAUSE[size]:.0f} s")
        broker = Broker(hosts=cluster.hosts, api=f"{cluster.nodes[0].management_url}/api")
        outcome = drive("kill-leader", size, harm, broker=broker)
    print(f"# kill-leader: {'; '.join(done)}", flush=True)
    if len(done) < 2:
        outcome.problems.append(f"only {len(done)} of the 2 faults happened")
    return outcome
