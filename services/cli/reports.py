"""`peixun report pull` (a report file over RPC) and `peixun replay` (reporting's rebuild of its
read models, run as a process of its own against reporting's database)."""

import base64
import json
import subprocess
import sys
from pathlib import Path

import click

from services.contracts.vocabulary import FORMATS, REPORTS
from services.kit import config

from . import launch


@click.group("report")
def report():
    """Reports (DESIGN §5), pulled from the reporting service."""


@report.command("pull")
@click.argument("name", type=click.Choice(REPORTS))
@click.option("--year", type=int, help="The program year (default: this year).")
@click.option("--class-id", help="class-record and class-plan: the class.")
@click.option("--member-no", help="personal-archive: the person.")
@click.option("--org", "org_code", help="Limit to this organisation's subtree.")
@click.option("--as-of", help="filing-status: the day overdue is judged on (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--section", help="csv: another table than the report's main one "
                                "(e.g. class-record: sessions; overview: the facts).")
@click.option("-o", "--output", help="Where to write it (default: the report's file name; "
                                     "- for standard output).")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait.")
def pull(name, year, class_id, member_no, org_code, as_of, fmt, section, output, timeout):
    """Pull report NAME and write the file."""
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - domain errors cross RPC as themselves

    if output not in (None, "-") and not Path(output).parent.is_dir():
        # Before the report is made, which may take a while, not after.
        raise click.BadParameter(f"the folder {Path(output).parent} does not exist",
                                 param_hint="'-o' / '--output'")
    params = {k: v for k, v in {"year": year, "class_id": class_id, "member_no": member_no,
                                "org_code": org_code, "as_of": as_of,
                                "section": section}.items() if v is not None}
    with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=timeout) as rpc:
        answer = rpc.reporting.report(name, params, fmt)
    content = base64.b64decode(answer["content_b64"])
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    path = Path(output or answer["file_name"])
    path.write_bytes(content)
    click.echo(f"{path}  {answer['size']} bytes  sha256 {answer['sha256']}  "
               f"{'stored earlier' if answer['cached'] else 'new'} (events up to "
               f"{answer['position']})", err=True)


@click.command("replay")
@click.option("--batch", default=50_000, show_default=True, help="Events applied per batch.")
@click.option("--jobs", default=2, show_default=True,
              help="Batches applied at once (PostgreSQL connections).")
def replay(batch, jobs):
    """Rebuild reporting's read models from its event log (the inbox).

    Live handlers wait while it runs; reports asked for meanwhile are refused (and after a
    replay that failed, until one finishes). Run it after upgrading reporting, or after fixing
    a projection."""
    launch.reach_database("reporting")
    argv = launch.module_command(launch.REPLAY_MODULE, "--batch", str(batch),
                                 "--jobs", str(jobs))
    # The rebuild tells its progress as JSON lines (the events to apply, each batch applied,
    # the result); its log and errors go straight to this terminal.
    process = subprocess.Popen(argv, cwd=config.ROOT, stdout=subprocess.PIPE, text=True)
    lines = (json.loads(line) for line in process.stdout)
    total = next(lines, {}).get("events")
    result = None
    if total is not None:
        with click.progressbar(length=total, label=f"replaying {total} events",
                               file=sys.stderr) as bar:
            for line in lines:
                if "applied" in line:
                    bar.update(line["applied"])
                else:
                    result = line
    if process.wait() != 0 or result is None:
        click.echo(f"replay failed (exit status {process.returncode})", err=True)
        sys.exit(1)
    click.echo(f"replayed {result['events']} events in {result['seconds']:.1f}s "
               f"({result['rate']:,.0f} events/s); read models at generation "
               f"{result['generation']}")
