"""Accounts for the CLI (`peixun token …`, `peixun user …`), straight into the gateway's own
database: the one gateway module the CLI imports. Rows come back as plain dicts."""

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.kit import config, migrate
from services.kit.database import make_engine

from . import auth, users

STATES = {None: "active", auth.EXPIRED: "expired", auth.REVOKED: "revoked"}


def _in_gateway(work: Callable, database_url: str | None):
    """`work(session)` in one transaction on the gateway's database, brought up to date."""
    engine = make_engine(database_url or config.database_url("gateway"))
    try:
        migrate.upgrade(engine, "gateway")
        with Session(engine) as session, session.begin():
            return work(session)
    finally:
        engine.dispose()


def issue(role: str, org_code: str | None = None, class_ids: list[str] | None = None,
          expires_in_days: int | None = None, database_url: str | None = None
          ) -> tuple[str, str]:
    """A new token: (its id, the token itself, shown this once)."""
    return _in_gateway(lambda s: auth.create_token(s, role, org_code, class_ids,
                                                   expires_in_days), database_url)


def create(role: str, org_code: str | None = None, class_ids: list[str] | None = None,
           database_url: str | None = None, expires_in_days: int | None = None) -> str:
    return issue(role, org_code, class_ids, expires_in_days, database_url)[1]


def list_tokens(database_url: str | None = None) -> list[dict]:
    """Every token, never the token itself; `state` is active, expired or revoked."""
    now = auth.wall_clock()
    return _in_gateway(lambda s: [
        {"id": t.id, "role": t.role, "org_code": t.org_code, "class_ids": list(t.class_ids),
         "created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at,
         "state": STATES[auth.token_refusal(t.expires_at, t.revoked_at, now)]}
        for t in auth.list_tokens(s)], database_url)


def revoke(token_id: str, database_url: str | None = None) -> None:
    _in_gateway(lambda s: auth.revoke_token(s, token_id), database_url)


def create_user(username: str, role: str, org_code: str | None, password: str,
                database_url: str | None = None) -> str:
    """The new user's name, as stored (lower case)."""
    return _in_gateway(lambda s: users.create_user(s, username, role, org_code,
                                                   password).username, database_url)


def disable_user(username: str, database_url: str | None = None) -> None:
    _in_gateway(lambda s: users.set_disabled(s, username, True), database_url)


def list_users(database_url: str | None = None) -> list[dict]:
    return _in_gateway(lambda s: [
        {"username": u.username, "role": u.role, "org_code": u.org_code,
         "disabled": u.disabled, "created_at": u.created_at, "updated_at": u.updated_at}
        for u in users.list_users(s)], database_url)
