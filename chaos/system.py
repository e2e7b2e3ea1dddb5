"""The peixun services as OS processes on a vhost and databases of a fault run's own.

`with System("kill-services") as system:` makes the vhost and the databases, and at the end
stops every process (SIGCONT, SIGTERM, then SIGKILL) and drops them again. In between a
scenario starts services (several replicas each if it likes), kills, terminates, pauses and
restarts them, waits until they are healthy, and waits until everything is drained: no message
in any queue of the vhost and no unsent row in any outbox. Each process writes its log to a
file under the run directory, so that a FAIL can be read afterwards.

The broker and PostgreSQL are parameters (a cluster is a list of AMQP host:port, joined into
kombu's failover URI), defaulting to the machine's own.
"""

import ctypes
import os
import signal
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import requests
from kombu import Connection

from services.cli.launch import BIN, service_command
from services.kit import config

SERVICES = ("scheduling", "enrollment", "reporting")
DEAD_LETTERS = "peixun.dead_letters"
PR_SET_PDEATHSIG = 1
STATS_INTERVAL = 5.5   # s: the management API's message counts lag by up to this


def _die_with_parent():
    """In the child before exec: SIGKILL when the harness dies, so that a harness killed
    mid-run leaves no service behind."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Broker:
    """RabbitMQ as the services see it: one or more nodes (host:port) and a management API.
    PEIXUN_CHAOS_AMQP (host:port,host:port) and PEIXUN_CHAOS_RABBIT_API point the runs that
    use the default at another broker than the machine's."""

    hosts: list[str] = field(default_factory=lambda: os.environ.get(
        "PEIXUN_CHAOS_AMQP", "127.0.0.1:5672").split(","))
    api: str = field(default_factory=lambda: os.environ.get(
        "PEIXUN_CHAOS_RABBIT_API", "http://127.0.0.1:15672/api"))
    user: str = "guest"
    password: str = "guest"

    def amqp_uri(self, vhost: str) -> str:
        """kombu's failover form for several nodes: `amqp://…@h1/vh;amqp://…@h2/vh`."""
        quoted = urllib.parse.quote(vhost, safe="")
        return ";".join(f"amqp://{self.user}:{self.password}@{host}/{quoted}"
                        for host in self.hosts)

    @property
    def auth(self) -> tuple[str, str]:
        return self.user, self.password


@dataclass
class Process:
    """One running (or dead) replica of a service, and the file its output goes to."""

    service: str
    slot: int
    popen: subprocess.Popen
    log: Path
    stopped: bool = False   # the harness killed or stopped it: not to be restarted for it

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


class System:
    """See the module's docstring. `prefix` names the databases (`<prefix>_<run>_<service>`)
    and the vhost (the same with dashes); PEIXUN_CHAOS_PREFIX sets its default."""

    def __init__(self, name: str, broker: Broker | None = None, postgres: str = "127.0.0.1:5432",
                 prefix: str | None = None, env: dict | None = None,
                 run_dir: str | Path | None = None):
        self.name = name
        self.broker = broker or Broker()
        self.postgres = postgres
        prefix = prefix or os.environ.get("PEIXUN_CHAOS_PREFIX", "peixun_chaos")
        run = uuid.uuid4().hex[:6]
        self.vhost = f"{prefix}_{run}".replace("_", "-")
        self.databases = {s: f"{prefix}_{run}_{s}" for s in SERVICES}
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix=f"chaos-{name}-"))
        self.extra_env = env or {}
        self.processes: dict[str, list[Process]] = {}
        self.notes: list[str] = []   # what a supervisor did (restarted a process that died)
        self._made_vhost = False
        self._made_databases: list[str] = []

    # -- where things are ----------------------------------------------------------------

    @property
    def amqp_uri(self) -> str:
        return self.broker.amqp_uri(self.vhost)

    def database_url(self, service: str) -> str:
        return f"postgresql://postgres@{self.postgres}/{self.databases[service]}"

    def env(self) -> dict:
        return {"AMQP_URI": self.amqp_uri, "PEIXUN_VAR_DIR": str(self.run_dir / "var"),
                "PEIXUN_LOG_LEVEL": "WARNING",
                **{f"{s.upper()}_DATABASE_URL": self.database_url(s) for s in SERVICES},
                # Replicas share the host: each takes a free port for its metrics.
                **{f"{s.upper()}_METRICS_PORT": "0" for s in SERVICES},
                **self.extra_env}

    # -- making and removing the run's vhost and databases -------------------------------

    def __enter__(self):
        try:
            self._make_vhost()
            self._make_databases()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _api(self, method: str, path: str, tries: int = 3, **kwargs):
        """The management API; asked again when it is slow to answer (a loaded broker)."""
        for attempt in range(1, tries + 1):
            try:
                response = requests.request(method, f"{self.broker.api}{path}",
                                            auth=self.broker.auth, timeout=30, **kwargs)
                break
            except (requests.ConnectionError, requests.Timeout):
                if attempt == tries:
                    raise
                time.sleep(1.0)
        response.raise_for_status()
        return response.json() if response.content else None

    def _quoted_vhost(self) -> str:
        return urllib.parse.quote(self.vhost, safe="")

    def _make_vhost(self):
        self._made_vhost = True   # before: a PUT that timed out may still have made it
        self._api("PUT", f"/vhosts/{self._quoted_vhost()}")
        self._api("PUT", f"/permissions/{self._quoted_vhost()}/{self.broker.user}",
                  json={"configure": ".*", "write": ".*", "read": ".*"})

    def admin(self):
        connection = psycopg2.connect(f"postgresql://postgres@{self.postgres}/postgres",
                                      connect_timeout=5)
        connection.autocommit = True
        return connection

    def _make_databases(self):
        connection = self.admin()
        try:
            with connection.cursor() as cursor:
                for name in self.databases.values():
                    cursor.execute(f'CREATE DATABASE "{name}"')
                    self._made_databases.append(name)
        finally:
            connection.close()

    def close(self):
        """Every process stopped, the vhost and the databases dropped (whatever failed)."""
        self.stop_all()
        if self._made_vhost:
            try:
                self._api("DELETE", f"/vhosts/{self._quoted_vhost()}")
            except requests.RequestException:
                pass
            self._made_vhost = False
        if self._made_databases:
            try:
                connection = self.admin()
                with connection.cursor() as cursor:
                    for name in self._made_databases:
                        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.close()
                self._made_databases = []
            except psycopg2.Error:
                pass   # PostgreSQL away (a scenario's own server): it goes with its data dir

    # -- processes -----------------------------------------------------------------------

    def _popen(self, service: str, slot: int) -> Process:
        log = self.run_dir / f"{service}-{slot}.log"
        argv = service_command(service)
        argv[0] = str(BIN / argv[0])   # the nameko of this virtualenv, as popen_service does
        with open(log, "ab") as out:
            out.write(f"--- started {time.strftime('%H:%M:%S')}\n".encode())
            out.flush()
            popen = subprocess.Popen(argv, cwd=config.ROOT, env={**os.environ, **self.env()},
                                     stdout=out, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        return Process(service, slot, popen, log)

    def start(self, service: str, replicas: int = 1, wait: bool = True) -> list[Process]:
        """Start `replicas` more processes of `service`. The first one of a service migrates
        its database alone before the others start."""
        started = self.processes.setdefault(service, [])
        for _ in range(replicas):
            started.append(self._popen(service, len(started)))
            if wait and len(started) == 1:
                self.wait_healthy([service])
        if wait:
            self.wait_healthy([service])
        return started

    def start_all(self, replicas: dict | None = None) -> None:
        """Every service: the first replicas side by side (each migrates its own database),
        then, once they answer, the other replicas `replicas` asks for (by service)."""
        for service in SERVICES:
            self.start(service, wait=False)
        self.wait_healthy(SERVICES)
        for service, count in (replicas or {}).items():
            if count > 1:
                self.start(service, count - 1)

    def alive(self, service: str) -> list[Process]:
        return [p for p in self.processes.get(service, []) if p.alive()]

    def process(self, service: str, index: int = 0) -> Process:
        """The `index`th live replica of `service`."""
        return self.alive(service)[index]

    def kill(self, service: str, index: int = 0) -> Process:
        """kill -9 one replica; answers it (dead)."""
        process = self.process(service, index)
        process.stopped = True
        os.kill(process.pid, signal.SIGCONT)
        process.popen.kill()
        process.popen.wait()
        return process

    def terminate(self, service: str, index: int = 0, timeout: float = 60.0) -> int | None:
        """SIGTERM one replica and wait for it to exit by itself: its exit status, or None if
        it had not exited within `timeout` (it is then killed)."""
        process = self.process(service, index)
        process.stopped = True
        process.popen.send_signal(signal.SIGTERM)
        try:
            return process.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()
            return None

    def terminate_all(self, services=None, timeout: float = 60.0) -> dict[str, int | None]:
        """SIGTERM every live replica of these services at once and wait for each to exit by
        itself: exit status by `service-slot` (None: killed at the timeout)."""
        processes = [p for s in (services or list(self.processes)) for p in self.alive(s)]
        for process in processes:
            process.stopped = True
            process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        statuses = {}
        for process in processes:
            try:
                statuses[f"{process.service}-{process.slot}"] = process.popen.wait(
                    max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
                statuses[f"{process.service}-{process.slot}"] = None
        return statuses

    def restart(self, process: Process, wait: bool = True) -> Process:
        """A new process in a dead one's place (the same log file)."""
        if process.alive():
            raise RuntimeError(f"{process.service}-{process.slot} is still running")
        fresh = self._popen(process.service, process.slot)
        replicas = self.processes[process.service]
        replicas[replicas.index(process)] = fresh
        if wait:
            self.wait_healthy([process.service])
        return fresh

    def pause(self, service: str, index: int = 0) -> Process:
        process = self.process(service, index)
        os.kill(process.pid, signal.SIGSTOP)
        return process

    def resume(self, process: Process) -> None:
        os.kill(process.pid, signal.SIGCONT)

    def stop_all(self, timeout: float = 30.0) -> None:
        processes = [p for ps in self.processes.values() for p in ps if p.alive()]
        for process in processes:
            process.stopped = True
            try:
                os.kill(process.pid, signal.SIGCONT)
                process.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.popen.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()

    def exited(self) -> list[str]:
        """Replicas that died without being told to: `service-slot (exit status)`."""
        return [f"{p.service}-{p.slot} ({p.popen.returncode})"
                for ps in self.processes.values() for p in ps if not p.alive()]

    # -- the broker ----------------------------------------------------------------------

    def queues(self) -> list[dict]:
        """The vhost's queues as the management API lists them (counts lag by seconds)."""
        return self._api("GET", f"/queues/{self._quoted_vhost()}?columns=name,messages,"
                                "consumers,exclusive,type,arguments")

    def declared(self, names: list[str]) -> dict[str, tuple[int, int]]:
        """Exact (ready messages, consumers) of each named queue, by a passive declare."""
        counts = {}
        with Connection(self.amqp_uri, connect_timeout=5) as connection:
            channel = connection.channel()
            for name in names:
                _, messages, consumers = channel.queue_declare(name, passive=True)
                counts[name] = (messages, consumers)
        return counts

    def dead_letters(self) -> int:
        try:
            return self.declared([DEAD_LETTERS])[DEAD_LETTERS][0]
        except Exception:  # noqa: BLE001 - no such queue yet: no dead letters
            return 0

    # -- health and drain ----------------------------------------------------------------

    def wait_healthy(self, services=None, timeout: float = 90.0) -> None:
        """Until each service's RPC queue has a consumer for every live replica (a passive
        declare counts them exactly) and the service answers health(); raises if a process
        died or time ran out."""
        from nameko.standalone.rpc import ClusterRpcProxy

        services = list(services or self.processes)
        deadline = time.monotonic() + timeout
        why = "not started"
        while True:
            self._supervise(services)
            why = self._unconsumed(services)
            if all(self.alive(s) for s in services) and not why:
                try:
                    with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=5) as rpc:
                        if all(getattr(rpc, s).health()["status"] == "ok" for s in services):
                            return
                except Exception as exc:  # noqa: BLE001 - not answering yet
                    why = f"health(): {type(exc).__name__}: {exc}"[:300]
            if time.monotonic() > deadline:
                exited = self.exited()
                raise RuntimeError(f"{', '.join(services)} not healthy in {timeout:.0f}s"
                                   + (f" ({', '.join(exited)} exited)" if exited else "")
                                   + f" (last: {why}); logs in {self.run_dir}")
            time.sleep(0.3)

    def _supervise(self, services, limit: int = 3) -> None:
        """Restart a replica that exited without being told to, as the deployment's
        `restart: unless-stopped` does (at most `limit` times per run), and note it."""
        for service in services:
            for process in list(self.processes.get(service, [])):
                if process.alive() or process.stopped:
                    continue
                restarts = sum(1 for note in self.notes if note.startswith(service))
                if restarts >= limit:
                    continue
                self.notes.append(f"{service}-{process.slot} exited by itself "
                                  f"({process.popen.returncode}) and was restarted; "
                                  f"see {process.log.name}")
                self.restart(process, wait=False)

    def _unconsumed(self, services) -> str:
        """What keeps a service's replicas from all consuming its RPC queue ("" when none)."""
        try:
            counts = self.declared([f"rpc-{s}" for s in services])
        except Exception as exc:  # noqa: BLE001 - queue not declared yet, broker away
            return f"rpc queues: {type(exc).__name__}: {exc}"[:300]
        # At least one consumer per live replica: a quorum queue keeps the consumers of a
        # connection on a dead node (suspected down, not gone) until that node is back.
        return ", ".join(f"rpc-{s} has {counts[f'rpc-{s}'][1]} consumers for "
                         f"{len(self.alive(s))} replicas" for s in services
                         if counts[f"rpc-{s}"][1] < len(self.alive(s)))

    def pending_outbox(self) -> dict[str, int]:
        """Unsent events in each service's outbox (a page row counts its events)."""
        pending = {}
        for service in self.processes:
            rows = self.sql(service, "SELECT coalesce(sum(coalesce(events, 1)), 0) FROM outbox "
                                     "WHERE sent_at IS NULL")
            pending[service] = int(rows[0][0])
        return pending

    def _work_queues(self) -> list[dict]:
        """Consumer and retry queues: not the dead letters, not RPC's."""
        return [q for q in self.queues() if not q.get("exclusive")
                and q["name"] != DEAD_LETTERS and not q["name"].startswith("rpc")]

    def ready(self) -> int:
        """Messages ready in the work queues (waiting to be retried included), exactly."""
        return sum(ready for ready, _consumers in self.declared(
            [q["name"] for q in self._work_queues()]).values())

    def busy(self) -> list[str]:
        """What still holds work: queues with messages (ready, unacked or waiting to be
        retried) and outboxes with unsent rows. Dead letters are not work."""
        listed = self._work_queues()
        exact = self.declared([q["name"] for q in listed])
        held = [f"{q['name']}={max(q.get('messages') or 0, exact[q['name']][0])}"
                for q in listed if (q.get("messages") or 0) or exact[q["name"]][0]]
        held += [f"outbox:{s}={n}" for s, n in self.pending_outbox().items() if n]
        return held

    def wait_drained(self, timeout: float = 300.0) -> list[str]:
        """Until nothing is busy twice in a row, further apart than the management API's
        counts lag. Answers what was still busy at the timeout ([] when drained)."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while True:
            try:
                held = self.busy()
            except Exception as exc:  # noqa: BLE001 - broker or database away for a moment
                held = [f"{type(exc).__name__}: {exc}"]
            now = time.monotonic()
            if held:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= STATS_INTERVAL:
                return []
            if now > deadline:
                return held or ["not quiet for long enough"]
            time.sleep(0.5)

    # -- the databases -------------------------------------------------------------------

    def sql(self, service: str, query: str, *args) -> list[tuple]:
        connection = psycopg2.connect(self.database_url(service), connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, args)
                rows = cursor.fetchall() if cursor.description else []
            connection.commit()
            return rows
        finally:
            connection.close()
