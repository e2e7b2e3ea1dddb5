"""The demo year end to end at full scale (`make demo`'s job: 60,000 members, 148 classes, the
year's check-ins, viewings, completions, filings and report pulls), on PostgreSQL as every
bench, and each service's peak memory at that scale.

The baseline is what the trivial nameko handler of the same run would need just to drain the
messages the year published: the ratio says how many bare drains the whole year costs."""

import os
import tempfile
import urllib.parse
from pathlib import Path

import requests

from demo import year

from .harness import AUTH, RABBIT_API, bench_line, databases, vhost

GOAL_SECONDS = 180
RSS_GOAL = 200   # MB


def published(amqp_uri: str) -> int:
    """Messages published into the vhost so far (the management API's count)."""
    name = urllib.parse.unquote(urllib.parse.urlparse(amqp_uri).path.lstrip("/"))
    stats = requests.get(f"{RABBIT_API}/vhosts/{urllib.parse.quote(name, safe='')}",
                         auth=AUTH, timeout=10).json().get("message_stats", {})
    return int(stats.get("publish", 0))


def run(ctx) -> None:
    with vhost() as amqp_uri, databases() as urls, tempfile.TemporaryDirectory() as tmp:
        env = {"AMQP_URI": amqp_uri, "PEIXUN_VAR_DIR": str(Path(tmp) / "var"),
               "PEIXUN_LOG_LEVEL": "WARNING",
               **{f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()}}
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            result = year.run(out=Path(tmp) / "out")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if not result.agreed:
            raise RuntimeError("bench_year: the year's figures did not add up")
        drain = published(amqp_uri) / ctx.baselines["nameko_drain"]
        bench_line("demo_year", result.seconds, "s", drain, f"≤{GOAL_SECONDS}s",
                   result.seconds <= GOAL_SECONDS)
        for name, mb in result.peak_rss_mb.items():
            bench_line(f"rss_year_{name}", mb, "MB", RSS_GOAL, f"≤{RSS_GOAL}MB", mb <= RSS_GOAL)
