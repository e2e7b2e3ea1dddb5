"""The demo year end to end at full scale (`make demo`'s job: 60,000 members, 148 classes, the
year's check-ins, viewings, completions, filings and report pulls), twice: as `make demo` runs
it (each service on its SQLite file) and on PostgreSQL as a deployment runs it, with each
service's peak memory at that scale (and the renderer process reporting draws PDFs in).

The baseline is what the trivial nameko handler of the same run would need just to drain the
messages the year published: the ratio says how many bare drains the whole year costs."""

import os
import tempfile
import urllib.parse
from pathlib import Path

import requests

from demo import year
from services.kit import config

from .harness import AUTH, RABBIT_API, bench_line, databases, vhost

GOAL_SECONDS = 180
RSS_GOAL = 200   # MB


def published(amqp_uri: str) -> int:
    """Messages published into the vhost so far (the management API's count)."""
    name = urllib.parse.unquote(urllib.parse.urlparse(amqp_uri).path.lstrip("/"))
    stats = requests.get(f"{RABBIT_API}/vhosts/{urllib.parse.quote(name, safe='')}",
                         auth=AUTH, timeout=10).json().get("message_stats", {})
    return int(stats.get("publish", 0))


def a_year(amqp_uri: str, urls: dict | None) -> year.YearRun:
    """One demo year on a vhost of its own, on these databases (None: SQLite files)."""
    with tempfile.TemporaryDirectory() as tmp:
        saved = dict(os.environ)
        for service in config.SERVICES:
            os.environ.pop(f"{service.upper()}_DATABASE_URL", None)
        os.environ.update({"AMQP_URI": amqp_uri, "PEIXUN_VAR_DIR": str(Path(tmp) / "var"),
                           "PEIXUN_LOG_LEVEL": "WARNING",
                           **{f"{s.upper()}_DATABASE_URL": url
                              for s, url in (urls or {}).items()}})
        try:
            result = year.run(out=Path(tmp) / "out")
        finally:
            os.environ.clear()
            os.environ.update(saved)
    if not result.agreed:
        raise RuntimeError("bench_year: the year's figures did not add up")
    return result


def run(ctx) -> None:
    for label, on_postgresql in (("demo_year", False), ("demo_year_postgresql", True)):
        with vhost() as amqp_uri, databases() as urls:
            result = a_year(amqp_uri, urls if on_postgresql else None)
            drain = published(amqp_uri) / ctx.baselines["nameko_drain"]
        bench_line(label, result.seconds, "s", drain, f"≤{GOAL_SECONDS}s",
                   result.seconds <= GOAL_SECONDS)
    for name, mb in result.peak_rss_mb.items():   # the PostgreSQL year's
        bench_line(f"rss_year_{name}", mb, "MB", RSS_GOAL, f"≤{RSS_GOAL}MB", mb <= RSS_GOAL)
