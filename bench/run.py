"""`peixun bench` (`python -m bench.run [bench_…]`): baselines first, then every benchmark
module, all in one run; the exit status is 1 when any figure misses its goal."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()   # first, as in every peixun process: nameko runs in this one

import importlib
import os
import pkgutil
import platform
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.kit import logging as _kit_logging  # noqa: F401 - its record factory and filters

from . import baselines
from .harness import bench_line, databases, vhost


@dataclass
class Context:
    amqp_uri: str
    urls: dict
    baselines: dict = field(default_factory=dict)


def machine() -> str:
    return (f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.platform()}")


class Misses:
    """Standard output passed through, with the BENCH lines that end in MISS kept on the way:
    every benchmark prints its figures there (harness.bench_line), whichever module it is."""

    def __init__(self, out):
        self.out, self.lines, self._partial = out, [], ""

    def write(self, text: str) -> int:
        self.out.write(text)
        *complete, self._partial = (self._partial + text).split("\n")
        self.lines += [line for line in complete
                       if line.startswith("BENCH ") and line.endswith(" MISS")]
        return len(text)

    def __getattr__(self, name):   # flush, isatty, fileno …: the real stream's
        return getattr(self.out, name)


def main(only: tuple[str, ...] = ()) -> int:
    misses = Misses(sys.stdout)
    with redirect_stdout(misses):
        run(only)
    if misses.lines:
        print(f"{len(misses.lines)} figures missed their goal: "
              + ", ".join(line.split()[1] for line in misses.lines), file=sys.stderr)
        return 1
    return 0


def run(only: tuple[str, ...]) -> None:
    print(f"# peixun bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    with vhost() as amqp_uri, databases() as urls:
        ctx = Context(amqp_uri, urls)
        ctx.baselines = {
            "broker_publish": baselines.broker_publish_rate(amqp_uri),
            "nameko_drain": baselines.trivial_nameko_drain_rate(amqp_uri),
            "quorum_publish": baselines.quorum_publish_rate(amqp_uri),
            "quorum_drain": baselines.quorum_drain_rate(amqp_uri),
            "pg_insert": baselines.pg_insert_rate(urls["reporting"]),
            "pg_copy": baselines.pg_copy_rate(urls["reporting"]),
            "pg_commit_per_row": baselines.pg_commit_per_row_rate(urls["reporting"]),
        }
        for name, value in ctx.baselines.items():
            unit = "rows/s" if name.startswith("pg") else "msg/s"
            bench_line(f"baseline_{name}", value, unit, value, "-", True)
        for module in sorted(m.name for m in pkgutil.iter_modules([os.path.dirname(__file__)])):
            if not module.startswith("bench_") or (only and module not in only):
                continue
            bench = importlib.import_module(f"bench.{module}")
            if hasattr(bench, "run"):
                print(f"## {module}", flush=True)
                bench.run(ctx)


if __name__ == "__main__":
    sys.exit(main(tuple(sys.argv[1:])))
