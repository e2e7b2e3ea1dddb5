"""RabbitMQ nodes of our own for the fault runs: one, or three in a cluster, beside the machine's
broker (rabbit@localhost on 5672, never touched). Each node is the Debian package's server under
a name, ports and a directory of its own (STACK.md's recipe), run as the `rabbitmq` user so that
it shares the system node's Erlang cookie and epmd.

    with Cluster(3) as cluster:
        cluster.hosts            # ["127.0.0.1:5681", ...]
        cluster.kill(cluster.leader("peixun_chaos_x", "rpc-reporting"))

Operators try a one-box cluster with `python -m chaos.brokers start --nodes 3 --dir D`,
`status --dir D` and `stop --dir D`."""

import argparse
import atexit
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SBIN = Path("/usr/lib/rabbitmq/bin")   # the package's own scripts, not /usr/sbin's wrappers
FIRST_AMQP_PORT = 5681
DIST_OFFSET = 20000                    # 5681 -> 25681
MANAGEMENT_OFFSET = 10000              # 5681 -> 15681
GUEST = base64.b64encode(b"guest:guest").decode()   # guest works from localhost only: fine here
STATE_FILE = "cluster.json"


@dataclass(frozen=True)
class Node:
    amqp_port: int
    home: Path

    @property
    def name(self) -> str:
        return f"peixunchaos{self.amqp_port}@localhost"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.amqp_port}"

    @property
    def dist_port(self) -> int:
        return self.amqp_port + DIST_OFFSET

    @property
    def management_port(self) -> int:
        return self.amqp_port + MANAGEMENT_OFFSET

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "mnesia" / f"{self.name}.pid"

    def pid(self) -> int | None:
        """The node's beam process, once it has booted far enough to write its pid file."""
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


class Cluster:
    """`size` nodes (1 or 3) on AMQP ports first_port, first_port+1, ...; a context manager
    that always kills every node it started, also when starting fails."""

    def __init__(self, size: int = 3, root: Path | str | None = None,
                 first_port: int = FIRST_AMQP_PORT):
        self.own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="peixun-chaos-brokers-"))
        self.nodes = [Node(first_port + i, self.root / f"node{i + 1}") for i in range(size)]
        self.paused: set[Node] = set()

    # -- the whole cluster ---------------------------------------------------------------------

    def __enter__(self) -> "Cluster":
        atexit.register(self.cleanup)
        try:
            self.start_all()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()
        atexit.unregister(self.cleanup)

    def start_all(self) -> None:
        """The first node, then the others at once: each finds the first in its config
        (classic peer discovery) and joins it as it boots, with no stop_app/join_cluster
        round of its own. Joining a node that is not up yet would make a cluster of one."""
        seed, *others = self.nodes
        for node in self.nodes:
            _kill_strays(node.name)
            _write_node_files(node, seed if node is not seed else None)
        shutil.chown(self.root, "rabbitmq", "rabbitmq")
        _launch(seed)
        self._wait_running(seed)
        for node in others:
            _launch(node)
        for node in others:
            self._wait_running(node)
        _wait_until(lambda: self.clustered() == {node.name for node in self.nodes}, 30,
                    f"all of {', '.join(node.name for node in self.nodes)} in one cluster")
        self.write_state()

    def clustered(self) -> set[str]:
        """The nodes the first node sees running in its cluster."""
        return {n["name"] for n in management_get(self.nodes[0], "/api/nodes") if n["running"]}

    def cleanup(self) -> None:
        """kill -9 every node (a paused one is resumed first), then remove a temp directory."""
        for node in self.nodes:
            for pid in beam_pids(node.name):
                _signal(pid, signal.SIGCONT)
                _signal(pid, signal.SIGKILL)
        self.paused.clear()
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def hosts(self) -> list[str]:
        return [node.host for node in self.nodes]

    @property
    def management_urls(self) -> list[str]:
        return [node.management_url for node in self.nodes]

    def amqp_uri(self, vhost: str, user: str = "guest", password: str = "guest") -> str:
        """kombu's failover form: one URL per node, joined by ';'."""
        path = urllib.parse.quote(vhost, safe="")
        return ";".join(f"amqp://{user}:{password}@{host}/{path}" for host in self.hosts)

    def write_state(self) -> None:
        state = {"first_port": self.nodes[0].amqp_port, "size": len(self.nodes)}
        (self.root / STATE_FILE).write_text(json.dumps(state))

    @classmethod
    def from_dir(cls, root: Path | str) -> "Cluster":
        state = json.loads((Path(root) / STATE_FILE).read_text())
        return cls(state["size"], root, state["first_port"])

    # -- one node ------------------------------------------------------------------------------

    def node(self, name_or_node: "str | Node") -> Node:
        if isinstance(name_or_node, Node):
            return name_or_node
        return next(n for n in self.nodes if n.name == name_or_node)

    def kill(self, node: "str | Node") -> None:
        """kill -9 the node's beam process, and wait until it is gone."""
        node = self.node(node)
        for pid in beam_pids(node.name):
            _signal(pid, signal.SIGKILL)
        self.paused.discard(node)
        _wait_until(lambda: not beam_pids(node.name), 30, f"{node.name} to die")

    def stop(self, node: "str | Node") -> None:
        """A graceful stop: the node hands its queues' leadership over and exits."""
        node = self.node(node)
        ctl(node, "stop")
        _wait_until(lambda: not beam_pids(node.name), 60, f"{node.name} to exit")

    def start(self, node: "str | Node") -> None:
        """Start a stopped or killed node again; it rejoins its cluster from its own data."""
        node = self.node(node)
        if beam_pids(node.name):
            raise RuntimeError(f"{node.name} is still running")
        node.pid_file.unlink(missing_ok=True)
        _launch(node)
        self._wait_running(node)

    def pause(self, node: "str | Node") -> None:
        """SIGSTOP the node's beam: it holds its sockets but answers nothing."""
        node = self.node(node)
        _signal(node.pid(), signal.SIGSTOP)
        self.paused.add(node)

    def resume(self, node: "str | Node") -> None:
        node = self.node(node)
        _signal(node.pid(), signal.SIGCONT)
        self.paused.discard(node)

    def running(self, node: "str | Node") -> bool:
        node = self.node(node)
        return ctl(node, "-q", "status", check=False).returncode == 0

    def leader(self, vhost: str, queue: str, timeout: float = 30) -> Node:
        """The node leading a quorum queue (a classic queue's home node), as the management
        API of a node that answers says; right after a leader dies the API still names it for
        a moment, so wait for a node that is up."""
        path = f"/api/queues/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(queue)}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.up():
                try:
                    info = management_get(node, path)
                except (OSError, urllib.error.URLError):
                    continue
                name = info.get("leader") or info.get("node")   # none during an election
                if name and self.node(name) in self.up():
                    return self.node(name)
            time.sleep(0.5)
        raise RuntimeError(f"no leader for queue {queue!r} in vhost {vhost!r} on a node up")

    def up(self) -> list[Node]:
        """Nodes with a beam process that is not paused."""
        return [n for n in self.nodes if n not in self.paused and beam_pids(n.name)]

    def _wait_running(self, node: Node, timeout: float = 120) -> None:
        # `wait` follows the pid file, then waits for the rabbit application to be up.
        done = ctl(node, "wait", "--timeout", str(int(timeout)), str(node.pid_file), check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{node.name} did not start: {done.stdout}{done.stderr}"
                               f"\n{_log_tail(node)}")


# -- the processes and files behind a node -------------------------------------------------------

def _write_node_files(node: Node, seed: Node | None) -> None:
    (node.home / "mnesia").mkdir(parents=True, exist_ok=True)
    (node.home / "log").mkdir(exist_ok=True)
    join = ("cluster_formation.peer_discovery_backend = classic_config\n"
            f"cluster_formation.classic_config.nodes.1 = {seed.name}\n") if seed else ""
    (node.home / "rabbitmq.conf").write_text(
        join +
        f"listeners.tcp.default = 127.0.0.1:{node.amqp_port}\n"
        "management.tcp.ip = 127.0.0.1\n"
        f"management.tcp.port = {node.management_port}\n"
        # Several nodes on one disk: a small Raft WAL each (RabbitMQ, clustering on one host).
        "raft.wal_max_size_bytes = 64000000\n"
        "loopback_users.guest = true\n"
        "disk_free_limit.absolute = 50MB\n"
        "log.console = false\n"
        "log.file.level = info\n")
    (node.home / "enabled_plugins").write_text("[rabbitmq_management].\n")
    # Without an env file of its own the system's /etc/rabbitmq/rabbitmq-env.conf would name
    # every node rabbit@localhost.
    # The env file is sourced by the start script: its `ulimit` lifts the node's open-file
    # limit before the node starts, since every quorum queue reserves file handles
    # (deploy/local/ensure-infra.sh says more).
    (node.home / "rabbitmq-env.conf").write_text(
        'ulimit -n "$(ulimit -Hn)" 2>/dev/null || true\n'
        "ERL_EPMD_ADDRESS=127.0.0.1\n"
        'export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n')
    for path in [node.home, *node.home.rglob("*")]:
        shutil.chown(path, "rabbitmq", "rabbitmq")


def _node_env(node: Node) -> dict[str, str]:
    return {
        "HOME": "/var/lib/rabbitmq",   # the system node's Erlang cookie
        "RABBITMQ_NODENAME": node.name,
        "RABBITMQ_NODE_PORT": str(node.amqp_port),
        "RABBITMQ_DIST_PORT": str(node.dist_port),
        "RABBITMQ_CONF_ENV_FILE": str(node.home / "rabbitmq-env.conf"),
        "RABBITMQ_CONFIG_FILE": str(node.home / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.home / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.home / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(node.home / "mnesia"),
        "RABBITMQ_LOG_BASE": str(node.home / "log"),
    }


def _as_rabbitmq(node: Node, *argv: str) -> list[str]:
    env = [f"{key}={value}" for key, value in _node_env(node).items()]
    return ["runuser", "-u", "rabbitmq", "--", "env", *env, *argv]


def _workdir(node: Node) -> str:
    """Where the rabbitmq user runs our commands: Erlang reads its working directory, and that
    user may not read ours (a checkout made with mktemp -d is 0700): `eacces`, and no node."""
    return str(node.home) if node.home.is_dir() else "/"


def _launch(node: Node) -> None:
    subprocess.run(_as_rabbitmq(node, str(SBIN / "rabbitmq-server"), "-detached"), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
                   cwd=_workdir(node))


def ctl(node: Node, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`rabbitmqctl -n <node> ...` as the rabbitmq user."""
    done = subprocess.run(_as_rabbitmq(node, str(SBIN / "rabbitmqctl"), "-n", node.name, *args),
                          capture_output=True, text=True, timeout=180, cwd=_workdir(node))
    if check and done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl -n {node.name} {' '.join(args)}: "
                           f"{done.stdout}{done.stderr}")
    return done


def management_get(node: Node, path: str, timeout: float = 5) -> dict:
    request = urllib.request.Request(node.management_url + path,
                                     headers={"Authorization": f"Basic {GUEST}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def beam_pids(name: str) -> list[int]:
    """Every beam process running node `name`, pid file or not (a node that died half-booted,
    or one left by an earlier run, has none to trust). RabbitMQ 3.10 names its node at boot,
    not on beam's command line: the RABBITMQ_NODENAME in the process's environment tells."""
    wanted = f"RABBITMQ_NODENAME={name}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "exe").resolve().name == "beam.smp":
                continue
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _kill_strays(name: str) -> None:
    # A node of the same name left by an earlier run would make ours refuse to start.
    for pid in beam_pids(name):
        _signal(pid, signal.SIGCONT)
        _signal(pid, signal.SIGKILL)
    _wait_until(lambda: not beam_pids(name), 30, f"an old {name} to die")


def _signal(pid: int | None, sig: int) -> None:
    if pid is None:
        raise RuntimeError("the node has no pid file: it is not running")
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _log_tail(node: Node, lines: int = 20) -> str:
    tails = [log.read_text(errors="replace").splitlines()[-lines:]
             for log in sorted((node.home / "log").glob("*.log"))]
    return "\n".join(line for tail in tails for line in tail)


# -- python -m chaos.brokers -----------------------------------------------------------------------

def _print_status(cluster: Cluster) -> None:
    for node in cluster.nodes:
        state = "running" if cluster.running(node) else "down"
        print(f"{node.name}  amqp://guest:guest@{node.host}/  {node.management_url}/  {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.brokers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--nodes", type=int, default=3, choices=(1, 3))
    parser.add_argument("--dir", help="the nodes' data and logs (start: a new temp dir)")
    parser.add_argument("--first-port", type=int, default=FIRST_AMQP_PORT)
    args = parser.parse_args(argv)
    if args.action == "start":
        root = Path(args.dir or tempfile.mkdtemp(prefix="peixun-chaos-brokers-"))
        root.mkdir(parents=True, exist_ok=True)
        cluster = Cluster(args.nodes, root, args.first_port)
        try:
            cluster.start_all()
        except BaseException:
            cluster.cleanup()
            raise
        print(f"# {args.nodes} node(s) in {root}; stop them with "
              f"python -m chaos.brokers stop --dir {root}")
        _print_status(cluster)
        return 0
    if not args.dir:
        parser.error(f"{args.action} needs --dir")
    cluster = Cluster.from_dir(args.dir)
    if args.action == "status":
        _print_status(cluster)
        return 0
    for node in cluster.nodes:
        if cluster.running(node):
            cluster.stop(node)
    cluster.cleanup()
    print(f"# stopped; the nodes' data stays in {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
