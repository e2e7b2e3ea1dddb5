"""The gateway's tables: API tokens for systems and people's accounts (both stored only as
hashes), the admin pages' sessions, failed sign-ins for the lock-out, the audit trail, and
where the xAPI push to a learning record store has got to."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    org_code: Mapped[str | None] = mapped_column(String(64))
    class_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at = mapped_column(DateTime(timezone=True))      # None: until revoked
    revoked_at = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who signs in to the admin pages."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)   # kept in lower case
    password_hash: Mapped[str] = mapped_column(String(200))          # argon2id, salted
    role: Mapped[str] = mapped_column(String(20))
    org_code: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at = mapped_column(DateTime(timezone=True), nullable=False)


class AdminSession(Base):
    """A signed-in browser: the cookie holds a random id, the table only its SHA-256."""

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)    # as typed, lower case
    failed_at = mapped_column(DateTime(timezone=True), nullable=False)


class AuditEntry(Base):
    """One write through the gateway: append-only (the migration's triggers refuse changes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)   # user name or token:<id>
    actor_kind: Mapped[str] = mapped_column(String(10))           # user | token
    role: Mapped[str | None] = mapped_column(String(20))
    org_code: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))               # the path template
    path: Mapped[str] = mapped_column(String(500))                # the path asked for
    status: Mapped[int] = mapped_column(Integer)


# One row per learning record store (XAPI_LRS_URL): its cursor, backoff and last error
# (xapi_push.py).
xapi_push = Table(
    "xapi_push", Base.metadata,
    Column("lrs_url", String(500), primary_key=True),
    Column("cursor", String(20)),
    Column("pushed", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("last_pushed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
