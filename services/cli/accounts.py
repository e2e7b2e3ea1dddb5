"""`peixun token …` (API tokens for systems) and `peixun user …` (people who sign in to the admin
pages), written straight into the gateway's database through services.gateway.tokens.

Exit codes: 0 done; 2 the arguments are wrong (a short password, a role without its
organisation); 1 a rule refused (the user name is taken, no such token or user, no such
organisation); 3 the database, or enrollment when an organisation is named, did not answer. A
refusal is one line on stderr, never a traceback (the rest: failures.py)."""

import sys

import click

from services.contracts.vocabulary import ACCESS_ROLES, ADMIN_ROLES, ROLES_WITH_ORG
from services.kit import config
from services.kit.clock import local


def _known_organisation(role: str, org_code: str | None) -> None:
    """A token or account limited to an organisation's subtree names one (checked here, before
    any database is opened) that exists: asked of enrollment, which keeps the tree (its
    NotFound says `no organisation X`)."""
    if role in ROLES_WITH_ORG and not org_code:
        raise click.BadParameter(f"{role} is limited to an organisation's subtree: this role "
                                 "needs an organisation (--org CODE)", param_hint="'--org'")
    if not org_code:
        return
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - domain errors cross RPC as themselves

    with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=10) as rpc:
        rpc.enrollment.get_organisation(org_code)


def _moment(value) -> str:
    return "-" if value is None else f"{local(value):%Y-%m-%d %H:%M}"


# -- tokens ----------------------------------------------------------------------------------------

@click.group()
def token():
    """API tokens for systems and scripts (people sign in with `peixun user`)."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(tuple(ACCESS_ROLES)))
@click.option("--org", "org_code", help="The organisation whose subtree the token is limited to.")
@click.option("--class", "class_ids", multiple=True, help="A class a checkin token may record.")
@click.option("--expires-in", "expires_in", type=click.IntRange(min=1),
              help="Days until the token stops working (default: until revoked).")
def token_create(role, org_code, class_ids, expires_in):
    """Print a new token, alone on its line (its id goes to stderr). Only its hash is stored."""
    from services.gateway.tokens import issue

    _known_organisation(role, org_code)
    token_id, secret = issue(role, org_code, list(class_ids), expires_in)
    click.echo(f"token id {token_id} (for `peixun token revoke`)", err=True)
    click.echo(secret)


@token.command("list")
def token_list():
    """Every token: id, role, organisation, created, expires, state. Never the token itself."""
    from services.gateway.tokens import list_tokens

    rows = list_tokens()
    click.echo("id\trole\torg\tcreated\texpires\tstate")
    for t in rows:
        click.echo("\t".join([t["id"], t["role"], t["org_code"] or "-", _moment(t["created_at"]),
                              _moment(t["expires_at"]), t["state"]]))
    click.echo(f"{len(rows)} tokens", err=True)


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id):
    """Stop the token TOKEN_ID working at once (it stays listed, as revoked)."""
    from services.gateway.tokens import revoke

    revoke(token_id)
    click.echo(f"token {token_id} revoked")


# -- people ----------------------------------------------------------------------------------------

@click.group()
def user():
    """People's accounts for the admin pages (user name and password)."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ADMIN_ROLES))
@click.option("--org", "org_code", help="The organisation whose subtree the user is limited to "
                                        "(committee_admin, org_admin).")
@click.option("--password-stdin", "password_stdin", is_flag=True,
              help="Read the password from standard input (its first line).")
def user_create(username, role, org_code, password_stdin):
    """Open an account. The password comes on stdin, never as an argument (which `ps` and the
    shell's history would show)."""
    from services.gateway.tokens import create_user

    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("no password came on standard input")
    _known_organisation(role, org_code)
    name = create_user(username, role, org_code, password)
    click.echo(f"user {name} created")


@user.command("disable")
@click.argument("username")
def user_disable(username):
    """Stop USERNAME signing in; their open sessions end at once."""
    from services.gateway.tokens import disable_user

    disable_user(username)
    click.echo(f"user {username.strip().lower()} disabled")


@user.command("list")
def user_list():
    """Every account: user name, role, organisation, state, created."""
    from services.gateway.tokens import list_users

    rows = list_users()
    click.echo("username\trole\torg\tstate\tcreated")
    for u in rows:
        click.echo("\t".join([u["username"], u["role"], u["org_code"] or "-",
                              "disabled" if u["disabled"] else "active",
                              _moment(u["created_at"])]))
    click.echo(f"{len(rows)} users", err=True)
