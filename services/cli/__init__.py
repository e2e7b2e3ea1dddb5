"""`peixun`: the operators' edge, as the gateway is the admins'. It talks to the services over
RPC and AMQP and runs their code only as processes (`launch`); the one service module it
imports is the gateway's tokens (`peixun token` and `peixun user`, in accounts.py)."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

import json
import signal
import subprocess
import sys
import time

import click

from services.kit import config
from services.kit import logging as _kit_logging  # noqa: F401 - its record factory and filters

from . import launch


@click.group()
def main():
    """peixun: the district's yearly mass training of secretaries and members."""


@main.command()
def run():
    """Run every service in the foreground (the same `nameko run` commands compose uses)."""
    from services.kit import processes

    running = {name: launch.popen_service(name) for name in config.SERVICES}
    click.echo(f"started {', '.join(running)}; Ctrl-C stops them", err=True)
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping:
            dead = [name for name, p in running.items() if p.poll() is not None]
            if dead:
                click.echo(f"{', '.join(dead)} exited; stopping the others", err=True)
                break
            time.sleep(0.5)
    finally:
        processes.stop(running)
    sys.exit(0 if stopping else 1)


@main.command()
@click.argument("service", type=click.Choice(config.SERVICES))
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for an answer.")
def health(service, timeout):
    """Ask SERVICE's own RPC health() (what the compose health checks run)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    try:
        with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=timeout) as rpc:
            answer = getattr(rpc, service).health()
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        click.echo(f"{service}: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(answer))


@main.group()
def dlq():
    """The dead-letter queue (peixun.dead_letters)."""


@dlq.command("list")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def dlq_list(limit, as_json):
    """Show dead letters with their reasons, leaving them in the queue."""
    from services.kit import dead_letters

    letters = dead_letters.peek(config.amqp_uri(), limit)
    for letter in letters:
        if as_json:
            click.echo(json.dumps(letter, ensure_ascii=False))
        else:
            click.echo(f"{letter['service']}  {letter['original_exchange']}/"
                       f"{letter['original_routing_key']}  {letter['reason']}")
    if not as_json:
        click.echo(f"{len(letters)} dead letters shown", err=True)


@dlq.command("replay")
@click.option("--limit", default=0, help="At most this many (0: all).")
def dlq_replay(limit):
    """Send dead letters back to the one queue that failed them."""
    from services.kit import dead_letters

    count = dead_letters.replay(config.amqp_uri(), limit or None)
    click.echo(f"replayed {count} dead letters")


@main.command()
@click.option("--small", is_flag=True, help="A tiny district in seconds (for tests).")
@click.option("--seed", default=2026, show_default=True, help="The district's random seed.")
def demo(small, seed):
    """Start every service, run a district's year through the events, write out/, stop."""
    from demo import year

    sys.exit(year.main(small=small, seed=seed))


@main.command()
@click.option("--small", is_flag=True, help="A tiny district instead of the full one.")
@click.option("--seed", "random_seed", default=2026, show_default=True,
              help="The district's random seed.")
def seed(small, random_seed):
    """Load a district and schedule its year into the running services (`make run`), nothing
    completed, to explore through the API and the admin pages."""
    from demo import year

    sys.exit(year.seed(small=small, seed=random_seed))


@main.command()
@click.argument("only", nargs=-1)
def bench(only):
    """Run the benchmarks (all, or the named bench_* modules), each beside its baseline; exits
    non-zero when a figure misses its goal."""
    # A process of its own: the benchmarks start and import the services themselves.
    sys.exit(subprocess.run(launch.module_command("bench.run", *only), cwd=config.ROOT).returncode)


from .accounts import token, user  # noqa: E402 - `peixun token …`, `peixun user …`
from .importing import import_group  # noqa: E402 - `peixun import orgs|members|hours`
from .reports import replay, report  # noqa: E402

main.add_command(import_group)
main.add_command(token)
main.add_command(user)
main.add_command(report)
main.add_command(replay)


if __name__ == "__main__":
    main()
