"""`peixun status`: the whole system on one screen — each service's own health() (with its outbox
lag, and the gateway's push to an LRS), each queue's depth and consumers, the dead letters by
reason — or all of it as JSON.

Queues are read with passive declares over AMQP (no management API needed): the ones the
topology declares, each service's `rpc-<service>` and the dead letters."""

import json
from collections import Counter
from datetime import UTC, datetime

import click

from services.contracts import topology
from services.kit import config

from .failures import broker
from .text import short

DEAD_LETTERS_READ = 1000   # reasons are counted over at most this many dead letters
REASON_WIDTH = 90


def services_health(uri: str, timeout: float) -> dict[str, dict]:
    """Each service's health() answer, asked of all at once; one that cannot answer is
    `down` (no answer, never ran) or `failing` (answered with an error)."""
    from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
    from nameko.standalone.rpc import ClusterRpcProxy

    found: dict[str, dict] = {}
    with ClusterRpcProxy({"AMQP_URI": uri}, timeout=timeout) as rpc:
        asked = {}
        for name in config.SERVICES:
            try:
                asked[name] = getattr(rpc, name).health.call_async()
            except UnknownService:
                found[name] = {"status": "down", "error": "has never run on this broker"}
        for name, reply in asked.items():
            try:
                found[name] = reply.result()
            except UnknownService:
                found[name] = {"status": "down", "error": "has never run on this broker"}
            except RpcTimeout:
                found[name] = {"status": "down", "error": f"no answer within {timeout:g} s"}
            except RemoteError as exc:
                found[name] = {"status": "failing", "error": f"{exc.exc_type}: {exc.value}"}
    return {name: found[name] for name in config.SERVICES}


def _known_queues() -> list[tuple[str, str, str]]:
    """(queue, kind, service) for every queue peixun declares, in a reading order."""
    known = [(f"rpc-{s}", "rpc", s) for s in config.SERVICES]
    for service, pairs in topology.SUBSCRIPTIONS.items():
        for source, event_type in pairs:
            name = topology.queue_name(service, source, event_type)
            known += [(name, "consumer", service),
                      (topology.retry_queue_name(name), "retry", service)]
    known += [(topology.DEAD_LETTER_QUEUE, "dead_letters", None),
              (topology.DROPPED_QUEUE, "dropped", None)]
    return known


def queue_depths(uri: str) -> list[dict]:
    """Each known queue's ready messages and consumers; `missing` when the broker has no such
    queue (no service has started on this vhost yet)."""
    import amqp.exceptions
    from kombu import Connection

    found = []
    with Connection(uri) as connection:
        channel = connection.channel()
        for name, kind, service in _known_queues():
            row = {"name": name, "kind": kind, "service": service}
            try:
                _, messages, consumers = channel.queue_declare(name, passive=True)
                row.update(messages=messages, consumers=consumers)
            except amqp.exceptions.NotFound:
                row["missing"] = True
                channel = connection.channel()   # the broker closed the one that asked
            found.append(row)
        channel.close()
    return found


def dead_letter_reasons(uri: str) -> list[dict]:
    """How many dead letters each (service, reason) has, most first."""
    from services.kit import dead_letters

    counted = Counter((letter["service"], letter["reason"])
                      for letter in dead_letters.peek(uri, DEAD_LETTERS_READ))
    return [{"service": service, "reason": reason, "count": count}
            for (service, reason), count in counted.most_common()]


def gather(uri: str, timeout: float) -> dict:
    queues = queue_depths(uri)
    depth = {q["name"]: q.get("messages", 0) for q in queues}
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "broker": broker(),
        "services": services_health(uri, timeout),
        "queues": queues,
        "dead_letters": {
            "waiting": depth[topology.DEAD_LETTER_QUEUE],
            "dropped": depth[topology.DROPPED_QUEUE],
            "by_reason": dead_letter_reasons(uri) if depth[topology.DEAD_LETTER_QUEUE] else [],
            "reasons_read_from": min(depth[topology.DEAD_LETTER_QUEUE], DEAD_LETTERS_READ),
        },
    }


def healthy(state: dict) -> bool:
    return all(s.get("status") == "ok" for s in state["services"].values())


# -- the screen --------------------------------------------------------------------------------

def _outbox(answer: dict) -> str:
    if "outbox_pending" not in answer:
        return ""
    text = f"outbox {answer['outbox_pending']} waiting"
    age = answer.get("outbox_oldest_age_seconds")
    if answer["outbox_pending"] and age is not None:
        text += f", oldest {age:.1f} s"
    return text


def _utc(iso: str | None) -> str:
    return f"{iso[:19].replace('T', ' ')} UTC" if iso else "?"


def _xapi_push(answer: dict) -> str:
    """The gateway's push to an LRS, when one is configured."""
    push = answer.get("xapi_push")
    if not push:
        return ""
    text = f"xAPI push to {push['lrs_url']}: {push['pushed']} statements"
    if push["last_pushed_at"]:
        text += f", last at {_utc(push['last_pushed_at'])}"
    if push["failures"]:
        text += (f"; FAILING ({push['failures']} in a row, next try "
                 f"{_utc(push['next_attempt_at'])}): {short(push['last_error'], REASON_WIDTH)}")
    return text


def render(state: dict, every_queue: bool = False) -> str:
    lines = [f"peixun status  {state['broker']}  {state['at']}", "", "SERVICES"]
    for name, answer in state["services"].items():
        status = answer.get("status", "?")
        detail = "  ".join(filter(None, (_outbox(answer), _xapi_push(answer)))) \
            if status == "ok" else answer.get("error", "")
        lines.append(f"  {name:<12} {status.upper() if status != 'ok' else 'ok':<8} {detail}")

    retry_depth = {q["name"]: q.get("messages", 0) for q in state["queues"]
                   if q["kind"] == "retry"}
    shown, quiet = [], 0
    for q in state["queues"]:
        if q["kind"] in ("retry", "dead_letters", "dropped"):
            continue
        retry = retry_depth.get(topology.retry_queue_name(q["name"]))
        needs_eyes = q.get("missing") or q["messages"] or retry or not q["consumers"]
        if every_queue or needs_eyes:
            shown.append((q, retry))
        else:
            quiet += 1
    width = max([len(q["name"]) for q, _ in shown] + [40])
    lines += ["", f"QUEUES{' ' * (width - 4)}ready  retry  consumers"]
    for q, retry in shown:
        if q.get("missing"):
            lines.append(f"  {q['name']:<{width}}  missing (no service has declared it yet)")
            continue
        lines.append(f"  {q['name']:<{width}} {q['messages']:>6} "
                     f"{'-' if retry is None else retry:>6} {q['consumers']:>10}")
    if quiet:
        lines.append(f"  {quiet} more queues are empty and consumed (--all lists them)")

    dead = state["dead_letters"]
    lines += ["", f"DEAD LETTERS  {dead['waiting']} waiting, {dead['dropped']} dropped"
                  + ("  (`peixun dlq list`)" if dead["waiting"] else "")]
    for row in dead["by_reason"]:
        lines.append(f"  {row['count']:>6}  {row['service'] or '-':<12} "
                     f"{short(row['reason'], REASON_WIDTH)}")
    if dead["waiting"] > dead["reasons_read_from"]:
        lines.append(f"  (reasons counted over the first {dead['reasons_read_from']})")
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Everything as one JSON document.")
@click.option("--all", "every_queue", is_flag=True,
              help="List every queue, not only those with messages or without consumers.")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds each service has to answer health().")
def status(as_json, every_queue, timeout):
    """Each service's health and outbox lag, each queue's depth and consumers, dead letters by
    reason. Exits 1 when a service is not ok."""
    state = gather(config.amqp_uri(), timeout)
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(render(state, every_queue))
    raise SystemExit(0 if healthy(state) else 1)
