"""Who is asking: bearer tokens for systems (made once, shown once, stored only as their SHA-256;
they may expire and be revoked) and the principal a request acts as.

Token and session times are the wall clock's, not the services' clock (which a demo runs
faster than the year): a token or a sign-in must not age with a simulated year."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.contracts.vocabulary import ACCESS_ROLES, ROLES_WITH_ORG
from services.kit.clock import as_utc
from services.kit.errors import Forbidden, InvalidInput, NotFound, Unauthorized

from .models import ApiToken

ROLES = tuple(ACCESS_ROLES)
MAX_TOKEN_DAYS = 3650
REVOKED, EXPIRED = "the token has been revoked", "the token has expired"


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    role: str
    org_code: str | None = None
    class_ids: tuple[str, ...] = field(default_factory=tuple)
    username: str | None = None      # a person signed in to the pages
    token_id: str | None = None      # a system's token

    @property
    def within(self) -> str | None:
        """The subtree the principal is limited to (None: a district_admin, unlimited)."""
        return None if self.role == "district_admin" else self.org_code

    @property
    def who(self) -> str:
        """How filings, reviews and study hours name who acted: a person by user name, a
        system by its token's role and organisation."""
        return self.username or f"{self.role}:{self.org_code or '-'}"

    @property
    def actor(self) -> str:
        """Who the audit trail names: the person, or the token by its id."""
        return self.username or f"token:{self.token_id}"

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"the {self.role} role may not do this", rule="role")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(role: str, org_code: str | None) -> None:
    """A role that exists, with an organisation when it is limited to one's subtree."""
    if role not in ROLES:
        raise InvalidInput("unknown role",
                           errors={"role": [f"must be one of {', '.join(ROLES)}"]})
    if role in ROLES_WITH_ORG and not org_code:
        raise InvalidInput("this role needs an organisation",
                           errors={"org": [f"{role} is limited to an organisation's subtree"]})


def token_refusal(expires_at, revoked_at, now: datetime) -> str | None:
    """Why a stored token may no longer be used, or None when it may."""
    if revoked_at is not None:
        return REVOKED
    if expires_at is not None and as_utc(expires_at) <= now:
        return EXPIRED
    return None


def create_token(session, role: str, org_code: str | None = None,
                 class_ids: list[str] | None = None, expires_in_days: int | None = None,
                 now: datetime | None = None) -> tuple[str, str]:
    """Store a new token's hash; answer (its id, the token itself, which is never stored)."""
    check_role(role, org_code)
    if role == "checkin" and not class_ids:
        raise InvalidInput("a checkin token names its classes",
                           errors={"class": ["give at least one class id"]})
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidInput("the expiry is out of range",
                           errors={"expires-in": [f"between 1 and {MAX_TOKEN_DAYS} days"]})
    now = now or wall_clock()
    token, token_id = "px_" + secrets.token_urlsafe(32), str(uuid.uuid4())
    session.add(ApiToken(
        id=token_id, token_hash=hash_token(token), role=role, org_code=org_code,
        class_ids=list(class_ids or []), created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None))
    return token_id, token


def list_tokens(session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.created_at)).scalars())


def revoke_token(session, token_id: str, now: datetime | None = None) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}", entity="token")
    if row.revoked_at is None:
        row.revoked_at = now or wall_clock()
    return row


def authenticate(session, authorization: str | None, now: datetime | None = None) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    ).scalar_one_or_none()
    if row is None:
        raise Unauthorized("the token is not known")
    refusal = token_refusal(row.expires_at, row.revoked_at, now or wall_clock())
    if refusal:
        raise Unauthorized(refusal)
    return Principal(row.role, row.org_code, tuple(row.class_ids or ()), token_id=row.id)
