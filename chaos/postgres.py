"""A PostgreSQL server of a fault run's own (initdb in a temporary directory, its own port),
which the run may crash and start again without touching the machine's own server."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """`with Postgres() as pg:` a running server at `pg.address` (host:port), user postgres,
    trust auth; `pg.crash()` (pg_ctl stop -m immediate) and `pg.start()`; stopped and its
    directory removed at the end."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.home = Path(tempfile.mkdtemp(prefix="chaos-postgres-"))
        self.data = self.home / "data"
        self.log = self.home / "server.log"

    def _as_postgres(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=check,
                              capture_output=True, text=True, timeout=120)

    def __enter__(self):
        shutil.chown(self.home, "postgres", "postgres")
        try:
            self._as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                              "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()

    def start(self, timeout: float = 60.0) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} "
                   f"-c max_connections=300")
        self._as_postgres(str(BIN / "pg_ctl"), "start", "-w", "-t", str(int(timeout)),
                          "-D", str(self.data), "-l", str(self.log), "-o", options)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on {self.address} did not answer; see {self.log}")
            time.sleep(0.2)

    def crash(self) -> None:
        """Gone at once, as if the machine had lost it: no checkpoint, no goodbye to clients."""
        self._as_postgres(str(BIN / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.data))

    def answers(self) -> bool:
        try:
            psycopg2.connect(f"postgresql://postgres@{self.address}/postgres",
                             connect_timeout=2).close()
            return True
        except psycopg2.Error:
            return False

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(BIN / "pg_ctl"), "stop", "-m", "fast", "-D", str(self.data),
                              check=False)
        shutil.rmtree(self.home, ignore_errors=True)
