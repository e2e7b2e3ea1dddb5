"""`peixun verify attendance [--class ID]`: the attendance log's hash chains, checked by the
enrollment service that keeps them (over RPC). Exit 0 with a one-line summary when every chain
holds; 1 naming the first entry that does not; 2 when the class is not known (a wrong
argument); 3 when enrollment did not answer (the exit codes of services/cli/failures.py)."""

import sys

import click

from services.kit import config


@click.group("verify")
def verify():
    """Check evidence that must not change behind the services' backs."""


@verify.command("attendance")
@click.option("--class", "class_id", help="Only this class's chain (its id).")
@click.option("--timeout", default=600.0, show_default=True,
              help="Seconds to wait for enrollment to walk the chains.")
def attendance(class_id, timeout):
    """Walk every class's attendance chain (or one class's) and name the first broken entry."""
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - domain errors cross RPC as themselves
    from services.kit.errors import DomainError

    try:
        with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=timeout) as rpc:
            answer = rpc.enrollment.verify_attendance(class_id)
    except DomainError as exc:
        click.echo(f"peixun: --class: {exc.message}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - no answer is not a verdict
        click.echo(f"peixun: enrollment did not answer ({type(exc).__name__}: {exc}): is it "
                   "running? (`peixun status`)", err=True)
        sys.exit(3)
    scope = f"class {class_id}" if class_id else f"{answer['classes']} classes"
    broken = answer["broken"]
    if broken is None:
        head = answer["heads"].get(class_id) if class_id else None
        click.echo(f"attendance log holds: {scope}, {answer['entries']} entries, every chain "
                   "intact" + (f" (head #{head[0]} {head[1]})" if head else ""))
        return
    place = f" (#{broken['chain_seq']} in its chain)" if broken["chain_seq"] else ""
    click.echo(f"attendance log BROKEN: class {broken['class_id']} entry {broken['entry_id']}"
               f"{place} member {broken['member_no']} session {broken['session_id']}: "
               f"{broken['what']}")
    sys.exit(1)
