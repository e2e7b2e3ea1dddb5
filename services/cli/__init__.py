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
from .failures import PeixunGroup


@click.group(cls=PeixunGroup)
def main():
    """peixun: the district's yearly mass training of secretaries and members.

    Mistakes and failures are one line, `peixun: …`, and an exit code: 1 refused, 2 wrong
    arguments, 3 RabbitMQ, PostgreSQL or a service did not answer (docs/operators.md)."""


@main.command()
def run():
    """Run every service in the foreground (the same `nameko run` commands compose uses)."""
    from services.kit import processes

    where = launch.addresses()
    launch.reach_broker()
    running = {name: launch.popen_service(name) for name in config.SERVICES}
    click.echo(f"started {', '.join(running)}; Ctrl-C stops them", err=True)
    click.echo(where, err=True)
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


@main.command()
@click.option("--small", is_flag=True, help="A tiny district in seconds (for tests).")
@click.option("--seed", default=2026, show_default=True, help="The district's random seed.")
def demo(small, seed):
    """Start every service, run a district's year through the events, write out/, stop."""
    from demo import year

    launch.reach_broker()
    sys.exit(year.main(small=small, seed=seed))


@main.command()
@click.option("--small", is_flag=True, help="A tiny district instead of the full one.")
@click.option("--seed", "random_seed", default=2026, show_default=True,
              help="The district's random seed.")
@click.option("--year", "program_year", type=click.IntRange(2018, 2100),
              help="The program year to plan (default: this year; a later one lies wholly "
                   "ahead of the clock).")
def seed(small, random_seed, program_year):
    """Load a district and schedule a year into the running services (`make run`), nothing
    completed, to explore through the API and the admin pages."""
    from demo import year
    from services.kit import clock

    launch.reach_broker()
    sys.exit(year.seed(small=small, seed=random_seed, year=program_year or clock.today().year))


@main.command()
@click.argument("only", nargs=-1)
def bench(only):
    """Run the benchmarks (all, or the named bench_* modules), each beside its baseline; exits
    non-zero when a figure misses its goal."""
    known = sorted(p.stem for p in (config.ROOT / "bench").glob("bench_*.py"))
    unknown = [name for name in only if name not in known]
    if unknown:
        raise click.BadParameter(f"no benchmark {', '.join(unknown)} (there are "
                                 f"{', '.join(known)})", param_hint="ONLY")
    # A process of its own: the benchmarks start and import the services themselves.
    sys.exit(subprocess.run(launch.module_command("bench.run", *only), cwd=config.ROOT).returncode)


from .accounts import token, user  # noqa: E402 - `peixun token …`, `peixun user …`
from .dlq import dlq  # noqa: E402 - `peixun dlq list|show|drop|dropped|replay`
from .importing import import_group  # noqa: E402 - `peixun import orgs|members|hours`
from .reports import replay, report  # noqa: E402
from .status import status  # noqa: E402
from .verify import verify  # noqa: E402 - `peixun verify attendance`

main.add_command(import_group)
main.add_command(token)
main.add_command(user)
main.add_command(report)
main.add_command(replay)
main.add_command(dlq)
main.add_command(status)
main.add_command(verify)


if __name__ == "__main__":
    main()
