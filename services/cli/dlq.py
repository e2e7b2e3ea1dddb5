"""`peixun dlq list|show|drop|dropped|replay`: the dead letters (peixun.dead_letters), straight on
the broker. A dropped letter is gone from the dead letters for good but kept, with who dropped
it, when and why, in peixun.dead_letters.dropped (`dlq dropped` lists them)."""

import getpass
import json
import os
from datetime import datetime

import click

from services.kit import config
from services.kit.clock import local

from .text import short

REASON_WIDTH = 70


def _moment(text: str | None) -> str:
    """An ISO time as Shanghai's clock shows it, to the second."""
    if not text:
        return "-" + " " * 18
    try:
        return f"{local(datetime.fromisoformat(text)):%Y-%m-%d %H:%M:%S}"
    except (TypeError, ValueError):
        return str(text)[:19]


def _operator() -> str:
    """Who is dropping: the OS user running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):   # a container's uid without a name
        return f"uid {os.getuid()}"


@click.group()
def dlq():
    """The dead letters (peixun.dead_letters): list, show, drop, replay."""


@dlq.command("list")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with the body.")
def dlq_list(limit, as_json):
    """Each dead letter: id, time, service, event (exchange/routing key) and reason. They stay
    in the queue."""
    from services.kit import dead_letters

    _print_letters(dead_letters.peek(config.amqp_uri(), limit), as_json, lambda letter: (
        f"{letter['id']}  {_moment(letter['time'])}  {letter['service'] or '-':<11} "
        f"{letter['original_exchange']}/{letter['original_routing_key']}  "
        f"{short(letter['reason'], REASON_WIDTH)}"),
        "dead letters shown (`peixun dlq show ID` for one)")


@dlq.command("show")
@click.argument("letter_id")
def dlq_show(letter_id):
    """One dead letter (or a dropped one) by its id: everything, with its headers and body."""
    from services.kit import dead_letters

    letter = dead_letters.find(config.amqp_uri(), letter_id)
    body = letter.pop("body")
    headers = letter.pop("headers")
    for key, value in letter.items():
        if value is not None:
            click.echo(f"{key}: {value}")
    click.echo("headers:")
    for key, value in sorted(headers.items()):
        click.echo(f"  {key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    click.echo("body:")
    try:
        click.echo(json.dumps(json.loads(body), ensure_ascii=False, indent=2))
    except (TypeError, ValueError):
        click.echo(body)   # not JSON: as it came


@dlq.command("drop")
@click.argument("letter_id")
@click.option("--reason", required=True, help="Why it is dropped (kept with it).")
@click.option("--by", help="Who drops it (default: the OS user).")
def dlq_drop(letter_id, reason, by):
    """Remove dead letter LETTER_ID for good. It is kept, with who, when and why, in
    peixun.dead_letters.dropped (`peixun dlq dropped`); it is never replayed."""
    from services.kit import dead_letters

    letter = dead_letters.drop(config.amqp_uri(), letter_id, reason, by or _operator())
    click.echo(f"dropped {letter['id']} ({letter['service'] or '-'}, "
               f"{letter['original_exchange']}/{letter['original_routing_key']}) by "
               f"{letter['dropped_by']} at {_moment(letter['dropped_at'])}: "
               f"{letter['dropped_reason']}")


@dlq.command("dropped")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with the body.")
def dlq_dropped(limit, as_json):
    """Dead letters dropped for good: id, when, by whom, why, and the reason it had died."""
    from services.kit import dead_letters

    _print_letters(dead_letters.dropped(config.amqp_uri(), limit), as_json, lambda letter: (
        f"{letter['id']}  {_moment(letter['dropped_at'])}  {letter['dropped_by']:<10} "
        f"{short(letter['dropped_reason'], 40)}  "
        f"(was: {letter['service'] or '-'}: {short(letter['reason'], 40)})"),
        "dropped letters shown")


def _print_letters(letters: list[dict], as_json: bool, line, shown: str) -> None:
    """One JSON object a letter, or one line each and how many (on standard error)."""
    for letter in letters:
        click.echo(json.dumps(letter, ensure_ascii=False, default=str) if as_json
                   else line(letter))
    if not as_json:
        click.echo(f"{len(letters)} {shown}", err=True)


@dlq.command("replay")
@click.option("--limit", default=0, type=click.IntRange(min=0), help="At most this many (0: all).")
def dlq_replay(limit):
    """Send dead letters back to the one queue that failed them."""
    from services.kit import dead_letters

    count = dead_letters.replay(config.amqp_uri(), limit or None)
    click.echo(f"replayed {count} dead letters")
