"""Bearer tokens: made once, shown once, stored only as their SHA-256."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from services.contracts.vocabulary import ACCESS_ROLES, ROLES_WITH_ORG
from services.kit.errors import Forbidden, InvalidInput, Unauthorized

from .models import ApiToken

ROLES = tuple(ACCESS_ROLES)


@dataclass(frozen=True)
class Principal:
    role: str
    org_code: str | None = None
    class_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def within(self) -> str | None:
        """The subtree the principal is limited to (None: a district_admin, unlimited)."""
        return None if self.role == "district_admin" else self.org_code

    @property
    def who(self) -> str:
        """How filings and reviews name who acted."""
        return f"{self.role}:{self.org_code or '-'}"

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"the {self.role} role may not do this", rule="role")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session, role: str, org_code: str | None = None,
                 class_ids: list[str] | None = None) -> str:
    """Store a new token's hash and return the token itself, which is never stored."""
    if role not in ROLES:
        raise InvalidInput("unknown role", errors={"role": [f"must be one of {', '.join(ROLES)}"]})
    if role in ROLES_WITH_ORG and not org_code:
        raise InvalidInput("this role needs an organisation",
                           errors={"org": [f"{role} is limited to an organisation's subtree"]})
    if role == "checkin" and not class_ids:
        raise InvalidInput("a checkin token names its classes",
                           errors={"class": ["give at least one class id"]})
    token = "px_" + secrets.token_urlsafe(32)
    session.add(ApiToken(id=str(uuid.uuid4()), token_hash=hash_token(token), role=role,
                         org_code=org_code, class_ids=list(class_ids or []),
                         created_at=datetime.now(UTC)))
    return token


def authenticate(session, authorization: str | None) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    ).scalar_one_or_none()
    if row is None:
        raise Unauthorized("the token is not known")
    return Principal(row.role, row.org_code, tuple(row.class_ids or ()))
