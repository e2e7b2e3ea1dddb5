"""The one place where the command line turns a failure into `peixun: <message>` on stderr and an
exit code, never a traceback (PEIXUN_DEBUG=1 prints the traceback as well).

Exit codes, for every command: 0 done; 1 refused (a rule said no, something named does not
exist, a file cannot be written); 2 wrong arguments or configuration (click's own usage errors
too); 3 something the command needs did not answer (RabbitMQ, PostgreSQL, a service); 70 a
failure nobody foresaw (a bug: the message names the exception, so report it). `peixun import`
adds its own meanings of 1 and 2 (rows rejected, nothing read: importing.py).
"""

import os
import socket
import traceback

import click

REFUSED, USAGE, UNREACHABLE, BUG = 1, 2, 3, 70


class Failure(Exception):
    """A command's own way to stop with a message and an exit code."""

    def __init__(self, message: str, code: int = REFUSED):
        super().__init__(message)
        self.code = code


class PeixunGroup(click.Group):
    """The top-level group: every subcommand runs inside `explain`."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise   # click says these itself, with its own exit codes
        except KeyboardInterrupt:
            click.echo("peixun: interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one place every failure is explained
            if os.environ.get("PEIXUN_DEBUG"):
                traceback.print_exc()
            message, code = explain(exc)
            click.echo(f"peixun: {message}", err=True)
            raise click.exceptions.Exit(code) from None


def broker() -> str:
    """The broker the command talks to, its password masked."""
    from kombu import Connection

    from services.kit import config

    try:
        uri = Connection(config.amqp_uri()).as_uri()
        return uri[:-1] if uri.endswith("//") else uri   # kombu writes the vhost "/" as "//"
    except Exception:  # noqa: BLE001 - a URI kombu cannot even parse
        return "AMQP_URI"


def explain(exc: Exception) -> tuple[str, int]:
    """What went wrong, in the operator's words, and the exit code."""
    import amqp.exceptions
    import kombu.exceptions
    import sqlalchemy.exc
    from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

    from services.contracts.topology import MovedToQuorum
    from services.kit.errors import DomainError, InvalidInput, Unavailable

    if isinstance(exc, Failure):
        return str(exc), exc.code
    if isinstance(exc, DomainError):
        reasons = "; ".join(f"{field}: {', '.join(why)}" for field, why in exc.errors.items())
        code = USAGE if isinstance(exc, InvalidInput) else \
            UNREACHABLE if isinstance(exc, Unavailable) else REFUSED
        return exc.message + (f" ({reasons})" if reasons else ""), code
    if isinstance(exc, MovedToQuorum):
        return str(exc), REFUSED
    if isinstance(exc, RpcTimeout):
        return (f"a service did not answer within {exc} s: is it running? (`peixun status` "
                "shows which; `peixun run` starts them)", UNREACHABLE)
    if isinstance(exc, UnknownService):
        return (f"{exc}: that service has never run on {broker()} (`peixun run` starts it)",
                UNREACHABLE)
    if isinstance(exc, RemoteError):
        return f"the service failed: {exc.exc_type}: {exc.value}", REFUSED
    if isinstance(exc, amqp.exceptions.AccessRefused | amqp.exceptions.NotAllowed):
        return (f"RabbitMQ at {broker()} refused the connection ({exc.reply_text or exc}): "
                "check the user, password and vhost in AMQP_URI", UNREACHABLE)
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError
                  | kombu.exceptions.OperationalError | amqp.exceptions.ConnectionError):
        # Databases' errors come wrapped by SQLAlchemy (below): a bare socket error is the broker's.
        return f"RabbitMQ at {broker()} did not answer ({_first_line(exc)})", UNREACHABLE
    if isinstance(exc, sqlalchemy.exc.ArgumentError | sqlalchemy.exc.NoSuchModuleError):
        return f"a database URL is not valid: {_first_line(exc)}", USAGE
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return (f"the database did not answer ({_first_line(exc.orig or exc)}): is PostgreSQL "
                "running, and is <SERVICE>_DATABASE_URL right?", UNREACHABLE)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}", REFUSED
    return (f"unexpected {type(exc).__name__}: {_first_line(exc)} (a bug: PEIXUN_DEBUG=1 shows "
            "where; please report it)", BUG)


def _first_line(exc) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
