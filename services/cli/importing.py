"""`peixun import orgs|members|hours FILE`: read a CSV or XLSX file here, send its rows to the
enrollment service over RPC (which validates and keeps them), print every bad row.

Exit codes, so that scripts can tell (DESIGN §4): 0 every row kept; 1 some rows were rejected
(the good ones are kept; `--allow-rejects` exits 0 then, unless no row at all was kept);
2 nothing could be read; 3 the import stopped part way (the enrollment service did not answer;
what was sent is kept)."""

import sys
from itertools import chain
from pathlib import Path

import click

from services.contracts import imports
from services.contracts.imports import SEP
from services.kit import config

CHUNK = 20000   # member rows per RPC call: a few calls for a district, each ≈ 1.5 MB
FIRST_CHUNK = 5000   # the first call's: the service starts while the rest is read
HOURS_CHUNK = 5000   # study-hour rows per RPC call
WHO = "peixun import"   # who recorded what an import keeps
DONE, REJECTS, UNREADABLE, STOPPED = 0, 1, 2, 3


def _proxy(timeout: float):
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - domain errors cross RPC as themselves

    return ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=timeout)


def send_orgs(rows: list[dict], timeout: float, show_progress: bool) -> tuple[int, list[dict]]:
    """The whole organisation file in one call: a row's parent may be anywhere in it."""
    with _proxy(timeout) as rpc, click.progressbar(
            length=len(rows), label="orgs    ", file=sys.stderr,
            hidden=not show_progress) as bar:
        answer = rpc.enrollment.import_orgs(rows)
        bar.update(len(rows))
    return answer["kept"], sorted(answer["bad"], key=lambda b: b["row"])


def send_hours(rows: list[dict], timeout: float, show_progress: bool
               ) -> tuple[int, list[dict]]:
    """Study-hour rows in chunks: each row stands alone."""
    kept, bad = 0, []
    with _proxy(timeout) as rpc, click.progressbar(
            length=len(rows), label="hours   ", file=sys.stderr,
            hidden=not show_progress) as bar:
        for start in range(0, len(rows), HOURS_CHUNK):
            chunk = rows[start:start + HOURS_CHUNK]
            answer = rpc.enrollment.import_study_hours(chunk, WHO)
            kept += answer["kept"]
            bad.extend(answer["bad"])
            bar.update(len(chunk))
    return kept, sorted(bad, key=lambda b: b["row"])


def send_members(chunks, timeout: float, show_progress: bool, total: int
                 ) -> tuple[int, list[dict], int]:
    """Member rows in chunks, column by column (`import_member_columns`): each field's text
    joined by the unit separator, or, when a cell holds that character, a list per row. One
    chunk is in the service while the next is read here; the service takes them one after
    another, in file order (a later row about the same person wins, as in a file read top
    down). Answers the rows kept, the bad ones and how many were read."""
    kept, bad, read = 0, [], 0
    with _proxy(timeout) as rpc, click.progressbar(
            length=total, label="members ", file=sys.stderr, hidden=not show_progress) as bar:
        in_flight = None   # (the reply to come, how many rows it is about)
        for numbers, texts in chain(chunks, [(None, None)]):
            call = _chunk_call(rpc.enrollment, numbers, texts) if numbers else None
            if in_flight is not None:
                reply, size = in_flight
                answer = reply.result()
                kept += answer["kept"]
                bad.extend(answer["bad"])
                bar.update(size)
                in_flight = None
            if call is not None:
                in_flight = (call(), len(numbers))
                read += len(numbers)
    bad.sort(key=lambda b: b["row"])
    return kept, bad, read


def _chunk_call(service, numbers: list[int], texts: dict[str, list[str]]):
    """The call that sends this chunk (made when the chunk before has been answered)."""
    joined = {field: SEP.join(column) for field, column in texts.items()}
    if all(text.count(SEP) == len(numbers) - 1 for text in joined.values()):
        return lambda: service.import_member_columns.call_async(numbers, joined)
    rows = [list(row) for row in zip(numbers, *texts.values(), strict=True)]
    return lambda: service.import_members.call_async(rows, ["row", *texts])


def run_import(kind: str, path: str, chunk: int = CHUNK, timeout: float = 120.0,
               echo=click.echo, show_progress: bool = True, allow_rejects: bool = True) -> int:
    """The import; returns the exit status (the module's docstring). Rejected rows fail it
    only when `allow_rejects` is off (the command's default; the demo's and the bench's files
    carry bad rows on purpose) or when no row at all was kept."""
    headers, required = {
        "orgs": (imports.ORG_HEADERS, imports.ORG_REQUIRED),
        "members": (imports.MEMBER_HEADERS, imports.MEMBER_REQUIRED),
        "hours": (imports.HOURS_HEADERS, imports.HOURS_REQUIRED),
    }[kind]
    try:
        rows = imports.iter_rows(path)
        if kind in ("orgs", "hours"):
            records = imports.records(list(rows), headers, required)
            first = records[:1]
        else:
            chunks = imports.column_chunks(rows, headers, required, chunk,
                                             min(chunk, FIRST_CHUNK))
            first = next(chunks, None)
    except imports.FileUnreadable as exc:
        echo(f"{path}: nothing could be read: {exc}", err=True)
        return UNREADABLE
    if not first:
        echo(f"{path}: nothing could be read: no rows below the header", err=True)
        return UNREADABLE
    try:
        if kind in ("orgs", "hours"):
            send = send_orgs if kind == "orgs" else send_hours
            kept, bad = send(records, timeout, show_progress)
            read = len(records)
        else:
            kept, bad, read = send_members(chain([first], chunks), timeout, show_progress,
                                           _size(path))
    except imports.FileUnreadable as exc:
        echo(f"import stopped: {exc}; the rows above it are kept", err=True)
        return STOPPED
    except Exception as exc:  # noqa: BLE001 - the service away, a timeout: say so, plainly
        echo(f"import stopped: the enrollment service did not take the rows "
             f"({type(exc).__name__}: {exc}); rows already sent are kept, run it again",
             err=True)
        return STOPPED
    for b in bad:
        echo(f"row {b['row']}: {b['field']}: {b['reason']}")
    echo(f"{kept} rows kept, {len(bad)} bad, of {read} read from {path}")
    return REJECTS if bad and (not allow_rejects or not kept) else DONE


def _size(path: str) -> int:
    """About how many rows a file has, for the progress bar (a line is about 60 bytes)."""
    try:
        return max(1, Path(path).stat().st_size // 60)
    except OSError:
        return 1


ALLOW_REJECTS = click.option(
    "--allow-rejects", is_flag=True,
    help="Exit 0 even when rows were rejected (the good rows are kept either way).")


@click.group("import")
def import_group():
    """Load organisations, members or study hours from a CSV or XLSX file (English or Chinese
    headers)."""


@import_group.command("orgs")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per RPC call.")
@ALLOW_REJECTS
def import_orgs(path, timeout, allow_rejects):
    """The organisation tree: org_code/党组织编码, name/名称, parent_code/上级党组织编码,
    kind/类型, sector/领域. Rows in any order; re-importing updates."""
    sys.exit(run_import("orgs", path, timeout=timeout, allow_rejects=allow_rejects))


@import_group.command("members")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--chunk", default=CHUNK, show_default=True, help="Rows per RPC call.")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per RPC call.")
@ALLOW_REJECTS
def import_members(path, chunk, timeout, allow_rejects):
    """Members: member_no/党员编号, name/姓名, org_code/党组织编码, joined_on/入党日期,
    employment/人员类别, optional secretary_of/任书记的党组织编码. Re-importing updates."""
    sys.exit(run_import("members", path, chunk=chunk, timeout=timeout,
                        allow_rejects=allow_rejects))


@import_group.command("hours")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per RPC call.")
@ALLOW_REJECTS
def import_hours(path, timeout, allow_rejects):
    """Study hours earned elsewhere (其他学时): member_no/党员编号, year/年度, hours/学时,
    source/来源 (unit, online, party_school, other or their Chinese labels), title/名称,
    on/日期. Re-importing the same rows records nothing twice."""
    sys.exit(run_import("hours", path, timeout=timeout, allow_rejects=allow_rejects))
