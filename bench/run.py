"""`peixun bench`: baselines first, then every benchmark module, all in one run."""

import importlib
import os
import pkgutil
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime

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


def main(only: tuple[str, ...] = ()) -> int:
    print(f"# peixun bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    with vhost() as amqp_uri, databases() as urls:
        ctx = Context(amqp_uri, urls)
        ctx.baselines = {
            "broker_publish": baselines.broker_publish_rate(amqp_uri),
            "nameko_drain": baselines.trivial_nameko_drain_rate(amqp_uri),
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
    return 0
