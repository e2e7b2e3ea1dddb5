"""People's accounts for the admin pages: user names with argon2id password hashes, signing in
with a lock-out after repeated failures, and server-side sessions that expire.

The rules, each a plain function of its inputs and a clock:
- a password has at least MIN_PASSWORD characters (and at most MAX_PASSWORD);
- a user name that failed LOCK_AFTER times within LOCK_WINDOW is locked for LOCK_FOR from the
  failure that made it so, whether or not such a user exists (the answer must not tell); while
  locked no password is tried, and a successful sign-in clears the failures;
- a session ends after IDLE_LIMIT without a request, and SESSION_LIMIT after signing in
  whatever happens (the cookie's Max-Age too); signing out, disabling the user or resetting
  their password ends it at once.
"""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update

from services.contracts.vocabulary import ACCESS_ROLES, ADMIN_ROLES
from services.kit.clock import as_utc
from services.kit.errors import DomainError, InvalidInput, NotFound, Unauthorized

from .auth import Principal, check_role, wall_clock
from .models import AdminSession, SignInFailure, User

MIN_PASSWORD = 10
MAX_PASSWORD = 128                       # argon2 takes any length; a page's form need not
USERNAME = re.compile(r"^[\w.\-]{2,64}$")
LOCK_AFTER = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
IDLE_LIMIT = timedelta(hours=1)
SESSION_LIMIT = timedelta(hours=12)      # a working day, then sign in again
USER_ROLES = ADMIN_ROLES                 # people use the pages; checkin and system are tokens'

hasher = PasswordHasher()                # argon2id with the library's recommended costs
# Verified when the user name is unknown, so that the answer takes as long as for a known one.
_NOBODY = hasher.hash(secrets.token_urlsafe(16))


class Locked(DomainError):
    """Too many failed sign-ins for this user name: `until` says when it may try again."""

    status = 429


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    session_token: str       # the cookie's value; only its hash is stored


# -- the rules -------------------------------------------------------------------------------------

def normal_username(username: str) -> str:
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    name = normal_username(username)
    if not USERNAME.match(name):
        raise InvalidInput("the user name is not valid", errors={
            "username": ["用户名为 2–64 个字母、数字、汉字或 _ . -"]})
    return name


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput("the password is too short", errors={
            "password": [f"密码至少 {MIN_PASSWORD} 个字符"]})
    if len(password) > MAX_PASSWORD:
        raise InvalidInput("the password is too long", errors={
            "password": [f"密码至多 {MAX_PASSWORD} 个字符"]})


def hash_password(password: str) -> str:
    return hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def locked_until(failures: list[datetime], now: datetime) -> datetime | None:
    """When the lock that `failures` (a user name's failed sign-ins) put on it lifts, or None
    when it is not locked at `now`."""
    failures = sorted(as_utc(f) for f in failures)
    until = None
    for i in range(LOCK_AFTER - 1, len(failures)):
        if until is not None and failures[i] < until:
            continue     # tried while locked: not a failure that counts
        if failures[i] - failures[i - LOCK_AFTER + 1] <= LOCK_WINDOW:
            until = failures[i] + LOCK_FOR
    return until if until is not None and until > now else None


def session_expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
    return now - as_utc(last_seen_at) >= IDLE_LIMIT or now - as_utc(created_at) >= SESSION_LIMIT


def hash_session(session_token: str) -> str:
    return hashlib.sha256(session_token.encode()).hexdigest()


# -- accounts --------------------------------------------------------------------------------------

def check_user_role(role: str, org_code: str | None) -> None:
    if role not in USER_ROLES:
        raise InvalidInput("not a role for people", errors={"role": [
            "可选：" + "、".join(f"{ACCESS_ROLES[r]}（{r}）" for r in USER_ROLES)]})
    check_role(role, org_code)
    if role == "district_admin" and org_code:
        raise InvalidInput("a district_admin is not limited to an organisation", errors={
            "org": ["区级管理员不限于某个组织，请留空"]})


def create_user(db, username: str, role: str, org_code: str | None, password: str,
                now: datetime | None = None) -> User:
    name = check_username(username)
    check_user_role(role, org_code)
    check_password(password)
    if db.execute(select(User.id).where(User.username == name)).first():
        raise DomainError(f"user {name} exists", rule="username_taken",
                          errors={"username": ["该用户名已被使用"]})
    now = now or wall_clock()
    user = User(id=str(uuid.uuid4()), username=name, password_hash=hash_password(password),
                role=role, org_code=org_code or None, disabled=False, created_at=now,
                updated_at=now)
    db.add(user)
    db.flush()
    return user


def find_user(db, username: str) -> User:
    user = db.execute(select(User).where(User.username == normal_username(username))
                      ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {normal_username(username)}", entity="user")
    return user


def list_users(db) -> list[User]:
    return list(db.execute(select(User).order_by(User.username)).scalars())


def set_disabled(db, username: str, disabled: bool, now: datetime | None = None) -> User:
    user = find_user(db, username)
    now = now or wall_clock()
    user.disabled, user.updated_at = disabled, now
    if disabled:
        end_sessions(db, user.id, now)
    return user


def reset_password(db, username: str, password: str, now: datetime | None = None) -> User:
    user = find_user(db, username)
    check_password(password)
    now = now or wall_clock()
    user.password_hash, user.updated_at = hash_password(password), now
    end_sessions(db, user.id, now)
    return user


# -- signing in and out ----------------------------------------------------------------------------

def sign_in(db, username: str, password: str, now: datetime | None = None) -> SignedIn:
    """A new session for the user, or Locked / Unauthorized naming no more than the rule: an
    unknown user name and a wrong password answer alike. A failure is recorded in `db`: the
    caller commits it whatever it answers."""
    now = now or wall_clock()
    name = normal_username(username)[:64]
    forgotten = now - LOCK_WINDOW - LOCK_FOR      # older failures can lock nothing any more
    db.execute(delete(SignInFailure).where(SignInFailure.username == name,
                                           SignInFailure.failed_at <= forgotten))
    failures = db.execute(select(SignInFailure.failed_at).where(
        SignInFailure.username == name)).scalars().all()
    until = locked_until(failures, now)
    if until is not None:
        raise Locked("too many failed sign-ins", until=until.isoformat(), rule="locked")
    user = db.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if not password_matches(user.password_hash if user else _NOBODY, password or "") \
            or user is None:
        db.add(SignInFailure(username=name, failed_at=now))
        raise Unauthorized("wrong user name or password", rule="credentials")
    if user.disabled:
        raise Unauthorized("the account is disabled", rule="disabled")
    db.execute(delete(SignInFailure).where(SignInFailure.username == name))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session_token = secrets.token_urlsafe(32)
    db.add(AdminSession(id=str(uuid.uuid4()), session_hash=hash_session(session_token),
                        user_id=user.id, created_at=now, last_seen_at=now))
    return SignedIn(principal_of(user), session_token)


def principal_of(user: User) -> Principal:
    return Principal(user.role, user.org_code, username=user.username)


def resume(db, session_token: str, now: datetime | None = None) -> Principal:
    """The principal of a session cookie that is still good (and its idle time restarted)."""
    now = now or wall_clock()
    row = db.execute(
        select(AdminSession, User).join(User, User.id == AdminSession.user_id)
        .where(AdminSession.session_hash == hash_session(session_token))).first()
    if row is None:
        raise Unauthorized("no such session")
    session, user = row
    if session.ended_at is not None or user.disabled or \
            session_expired(session.created_at, session.last_seen_at, now):
        raise Unauthorized("the session has ended")
    session.last_seen_at = now
    return principal_of(user)


def sign_out(db, session_token: str, now: datetime | None = None) -> None:
    db.execute(update(AdminSession)
               .where(AdminSession.session_hash == hash_session(session_token),
                      AdminSession.ended_at.is_(None))
               .values(ended_at=now or wall_clock()))


def end_sessions(db, user_id: str, now: datetime) -> None:
    db.execute(update(AdminSession)
               .where(AdminSession.user_id == user_id, AdminSession.ended_at.is_(None))
               .values(ended_at=now))
