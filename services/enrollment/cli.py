"""`peixun import orgs|members FILE`: read a CSV or XLSX file here, send its rows to the
enrollment service over RPC (which validates and keeps them), print every bad row."""

import sys

import click

from services.kit import config

from . import importers

CHUNK = 5000


def _proxy(timeout: float):
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - domain errors cross RPC as themselves

    return ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=timeout)


def read(path: str, headers: dict, required) -> list[dict]:
    return importers.records(importers.read_rows(path), headers, required)


def send(rows: list[dict], method: str, chunk: int, timeout: float, label: str,
         show_progress: bool = True) -> tuple[int, list[dict]]:
    """Send rows in chunks; the kept count and the bad rows, in row order."""
    kept, bad = 0, []
    with _proxy(timeout) as rpc, click.progressbar(
            length=len(rows), label=label, file=sys.stderr,
            hidden=not show_progress) as bar:
        call = getattr(rpc.enrollment, method)
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            answer = call(part)
            kept += answer["kept"]
            bad.extend(answer["bad"])
            bar.update(len(part))
    bad.sort(key=lambda b: b["row"])
    return kept, bad


def run_import(kind: str, path: str, chunk: int = CHUNK, timeout: float = 120.0,
               echo=click.echo, show_progress: bool = True) -> int:
    """The import; returns the exit status (1 only when nothing could be read)."""
    headers, required, method = {
        "orgs": (importers.ORG_HEADERS, importers.ORG_REQUIRED, "import_orgs"),
        "members": (importers.MEMBER_HEADERS, importers.MEMBER_REQUIRED, "import_members"),
    }[kind]
    try:
        rows = read(path, headers, required)
    except importers.FileUnreadable as exc:
        echo(f"{path}: nothing could be read: {exc}", err=True)
        return 1
    if not rows:
        echo(f"{path}: nothing could be read: no rows below the header", err=True)
        return 1
    if kind == "orgs":
        chunk = max(chunk, len(rows))   # a parent may be anywhere in the file
    try:
        kept, bad = send(rows, method, chunk, timeout, f"{kind:<8}", show_progress)
    except Exception as exc:  # noqa: BLE001 - the service away, a timeout: say so, plainly
        echo(f"import stopped: the enrollment service did not take the rows "
             f"({type(exc).__name__}: {exc}); rows already sent are kept, run it again",
             err=True)
        return 1
    for b in bad:
        echo(f"row {b['row']}: {b['field']}: {b['reason']}")
    echo(f"{kept} rows kept, {len(bad)} bad, of {len(rows)} read from {path}")
    return 0 if kept else 1


@click.group("import")
def import_group():
    """Load organisations or members from a CSV or XLSX file (English or Chinese headers)."""


@import_group.command("orgs")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per RPC call.")
def import_orgs(path, timeout):
    """The organisation tree: org_code/党组织编码, name/名称, parent_code/上级党组织编码,
    kind/类型, sector/领域. Rows in any order; re-importing updates."""
    sys.exit(run_import("orgs", path, timeout=timeout))


@import_group.command("members")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--chunk", default=CHUNK, show_default=True, help="Rows per RPC call.")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per RPC call.")
def import_members(path, chunk, timeout):
    """Members: member_no/党员编号, name/姓名, org_code/党组织编码, joined_on/入党日期,
    employment/人员类别, optional secretary_of/任书记的党组织编码. Re-importing updates."""
    sys.exit(run_import("members", path, chunk=chunk, timeout=timeout))
