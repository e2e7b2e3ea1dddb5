"""People's accounts, sign-in and the audit trail, as plain rules with a clock: argon2id hashes,
the lock-out after repeated failures, sessions that expire (idle and absolute), tokens that
expire or are revoked, and an audit trail that the database keeps append-only."""

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from services.gateway import audit, auth, users
from services.gateway.models import AuditEntry, SignInFailure, User
from services.kit import migrate
from services.kit.errors import DomainError, InvalidInput, NotFound, Unauthorized
from tests.support.databases import BACKENDS, fresh_engine, fresh_session

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PASSWORD = "长江黄河 2026 春"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def db(sqlite_db):
    return sqlite_db("gateway")


def clerk(db, name="Zhang.San", role="org_admin", org="CA01", password=PASSWORD):
    user = users.create_user(db, name, role, org, password, now=T0)
    db.commit()
    return user


# -- passwords and accounts ----------------------------------------------------------------------

def test_a_password_is_stored_only_as_an_argon2id_hash(db):
    user = clerk(db)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert users.password_matches(user.password_hash, PASSWORD)
    assert not users.password_matches(user.password_hash, PASSWORD + "x")
    assert not users.password_matches("not a hash", PASSWORD)
    # Salted: the same password twice gives two hashes.
    assert users.hash_password(PASSWORD) != users.hash_password(PASSWORD)


@pytest.mark.parametrize("password", ["", "short", "x" * (users.MIN_PASSWORD - 1),
                                      "x" * (users.MAX_PASSWORD + 1)])
def test_a_password_too_short_or_too_long_is_refused(db, password):
    with pytest.raises(InvalidInput) as refused:
        users.create_user(db, "li", "district_admin", None, password)
    assert list(refused.value.errors) == ["password"]
    users.check_password("x" * users.MIN_PASSWORD)


def test_user_names_are_one_per_person_whatever_their_case(db):
    assert clerk(db).username == "zhang.san"
    with pytest.raises(DomainError, match="exists") as taken:
        users.create_user(db, " ZHANG.san ", "district_admin", None, PASSWORD)
    assert taken.value.info["rule"] == "username_taken"
    for bad in ("a", "has space", "x/y", "x" * 65):
        with pytest.raises(InvalidInput, match="user name"):
            users.create_user(db, bad, "district_admin", None, PASSWORD)
    assert users.create_user(db, "王芳", "district_admin", None, PASSWORD).username == "王芳"


@pytest.mark.parametrize("role,org,field", [
    ("checkin", None, "role"), ("system", None, "role"), ("root", None, "role"),
    ("committee_admin", None, "org"), ("org_admin", "", "org"),
    ("district_admin", "CA", "org")])
def test_people_are_admins_and_a_subtree_admin_names_an_organisation(db, role, org, field):
    with pytest.raises(InvalidInput) as refused:
        users.create_user(db, "li", role, org, PASSWORD)
    assert field in refused.value.errors


# -- signing in and the lock-out -----------------------------------------------------------------

def test_signing_in_gives_a_session_that_names_the_person(db):
    clerk(db)
    signed = users.sign_in(db, "Zhang.San", PASSWORD, now=T0)
    assert (signed.principal.username, signed.principal.role, signed.principal.org_code) == (
        "zhang.san", "org_admin", "CA01")
    assert signed.principal.who == signed.principal.actor == "zhang.san"
    stored = db.execute(text("SELECT session_hash FROM admin_sessions")).scalar_one()
    assert signed.session_token not in stored and stored == users.hash_session(
        signed.session_token)
    assert users.resume(db, signed.session_token, now=T0 + MINUTE).username == "zhang.san"


def test_an_unknown_user_name_and_a_wrong_password_answer_alike(db):
    clerk(db)
    answers = []
    for name, password in (("nobody", PASSWORD), ("zhang.san", "wrong password")):
        with pytest.raises(Unauthorized) as refused:
            users.sign_in(db, name, password, now=T0)
        answers.append((refused.value.message, refused.value.info))
    assert answers[0] == answers[1]


def test_five_failures_within_fifteen_minutes_lock_the_user_name_for_fifteen_minutes():
    failures = [T0 + i * 3 * MINUTE for i in range(4)]
    assert users.locked_until(failures, T0 + 10 * MINUTE) is None
    fifth = T0 + 14 * MINUTE
    failures.append(fifth)
    assert users.locked_until(failures, fifth) == fifth + users.LOCK_FOR
    assert users.locked_until(failures, fifth + users.LOCK_FOR - MINUTE) is not None
    assert users.locked_until(failures, fifth + users.LOCK_FOR) is None
    # Five failures spread over more than the window lock nothing.
    spread = [T0 + i * 4 * MINUTE for i in range(5)]
    assert users.locked_until(spread, spread[-1]) is None
    # After the lock, one more failure does not lock again.
    assert users.locked_until(failures + [fifth + users.LOCK_FOR + MINUTE],
                              fifth + users.LOCK_FOR + MINUTE) is None


@pytest.mark.parametrize("name", ["zhang.san", "nobody"])
def test_a_locked_user_name_is_refused_even_with_the_right_password(db, name):
    clerk(db)
    for i in range(users.LOCK_AFTER):
        with pytest.raises(Unauthorized):
            users.sign_in(db, name, "wrong password", now=T0 + i * MINUTE)
    last = T0 + (users.LOCK_AFTER - 1) * MINUTE
    with pytest.raises(users.Locked) as locked:
        users.sign_in(db, name, PASSWORD, now=last + MINUTE)
    assert locked.value.status == 429
    assert locked.value.info["until"] == (last + users.LOCK_FOR).isoformat()
    if name == "zhang.san":
        assert users.sign_in(db, name, PASSWORD, now=last + users.LOCK_FOR).principal


def test_a_successful_sign_in_clears_the_failures(db):
    clerk(db)
    for i in range(users.LOCK_AFTER - 1):
        with pytest.raises(Unauthorized):
            users.sign_in(db, "zhang.san", "wrong password", now=T0 + i * MINUTE)
    users.sign_in(db, "zhang.san", PASSWORD, now=T0 + 5 * MINUTE)
    assert db.execute(select(SignInFailure)).first() is None
    with pytest.raises(Unauthorized):
        users.sign_in(db, "zhang.san", "wrong password", now=T0 + 6 * MINUTE)
    assert users.sign_in(db, "zhang.san", PASSWORD, now=T0 + 7 * MINUTE)


def test_a_disabled_account_cannot_sign_in(db):
    clerk(db)
    users.set_disabled(db, "zhang.san", True, now=T0)
    with pytest.raises(Unauthorized) as refused:
        users.sign_in(db, "zhang.san", PASSWORD, now=T0 + MINUTE)
    assert refused.value.info["rule"] == "disabled"
    users.set_disabled(db, "zhang.san", False, now=T0 + MINUTE)
    assert users.sign_in(db, "zhang.san", PASSWORD, now=T0 + 2 * MINUTE)
    with pytest.raises(NotFound):
        users.set_disabled(db, "nobody", True)


# -- sessions ------------------------------------------------------------------------------------

def test_a_session_expires_when_idle_and_after_a_working_day_whatever_happens():
    assert not users.session_expired(T0, T0, T0 + users.IDLE_LIMIT - MINUTE)
    assert users.session_expired(T0, T0, T0 + users.IDLE_LIMIT)
    late = T0 + users.SESSION_LIMIT
    assert users.session_expired(T0, late - MINUTE, late)
    assert not users.session_expired(T0, late - 2 * MINUTE, late - MINUTE)


def test_using_a_session_keeps_it_alive_until_its_absolute_limit(db):
    clerk(db)
    token = users.sign_in(db, "zhang.san", PASSWORD, now=T0).session_token
    moment = T0
    while moment + users.IDLE_LIMIT / 2 < T0 + users.SESSION_LIMIT:
        moment += users.IDLE_LIMIT / 2
        users.resume(db, token, now=moment)
    with pytest.raises(Unauthorized):
        users.resume(db, token, now=T0 + users.SESSION_LIMIT)


def test_an_idle_session_ends(db):
    clerk(db)
    token = users.sign_in(db, "zhang.san", PASSWORD, now=T0).session_token
    with pytest.raises(Unauthorized):
        users.resume(db, token, now=T0 + users.IDLE_LIMIT)


@pytest.mark.parametrize("end", ["sign_out", "disable", "reset_password"])
def test_signing_out_disabling_or_a_new_password_ends_the_session_at_once(db, end):
    clerk(db)
    token = users.sign_in(db, "zhang.san", PASSWORD, now=T0).session_token
    if end == "sign_out":
        users.sign_out(db, token, now=T0 + MINUTE)
    elif end == "disable":     # and enabled again: the old session stays ended
        users.set_disabled(db, "zhang.san", True, now=T0 + MINUTE)
        users.set_disabled(db, "zhang.san", False, now=T0 + MINUTE)
    else:
        users.reset_password(db, "zhang.san", "一个全新的密码 2026", now=T0 + MINUTE)
    with pytest.raises(Unauthorized):
        users.resume(db, token, now=T0 + 2 * MINUTE)
    with pytest.raises(Unauthorized):
        users.resume(db, "a made-up session", now=T0)


# -- tokens --------------------------------------------------------------------------------------

def test_an_expired_or_revoked_token_is_refused(db):
    token_id, token = auth.create_token(db, "system", expires_in_days=30, now=T0)
    header = f"Bearer {token}"
    assert auth.authenticate(db, header, now=T0 + timedelta(days=30) - MINUTE).role == "system"
    with pytest.raises(Unauthorized, match="expired"):
        auth.authenticate(db, header, now=T0 + timedelta(days=30))
    _, forever = auth.create_token(db, "system", now=T0)
    assert auth.authenticate(db, f"Bearer {forever}", now=T0 + timedelta(days=9999))
    auth.revoke_token(db, token_id, now=T0 + MINUTE)
    with pytest.raises(Unauthorized, match="revoked"):
        auth.authenticate(db, header, now=T0 + 2 * MINUTE)
    with pytest.raises(NotFound):
        auth.revoke_token(db, "no-such-id")


@pytest.mark.parametrize("days", [0, -1, auth.MAX_TOKEN_DAYS + 1])
def test_a_token_expiry_out_of_range_is_refused(db, days):
    with pytest.raises(InvalidInput, match="expiry"):
        auth.create_token(db, "system", expires_in_days=days)


# -- the audit trail -----------------------------------------------------------------------------

def test_an_entry_names_the_person_or_the_token_and_the_route_not_its_ids():
    person = auth.Principal("org_admin", "CA01", username="zhang.san")
    system = auth.Principal("system", token_id="t-1")
    url = "/api/v1/enrolments/<string:enrollment_id>/withdraw"
    one = audit.entry(person, "post", url, "/api/v1/enrolments/e-9/withdraw", 403, at=T0)
    assert (one.actor, one.actor_kind, one.role, one.org_code, one.method, one.route,
            one.path, one.status) == (
        "zhang.san", "user", "org_admin", "CA01", "POST",
        "/api/v1/enrolments/{enrollment_id}/withdraw", "/api/v1/enrolments/e-9/withdraw", 403)
    assert audit.entry(system, "PUT", url, "/x", 200).actor == "token:t-1"
    assert system.who == "system:-"          # how services name a system that acted


@pytest.mark.parametrize("method,path,kept", [
    ("POST", "/api/v1/classes", True), ("PATCH", "/api/v1/classes/x", True),
    ("POST", "/admin/filings/x/return", True), ("GET", "/api/v1/classes", False),
    ("HEAD", "/admin", False), ("POST", "/health", False)])
def test_writes_to_the_api_and_the_pages_are_audited_and_reads_are_not(method, path, kept):
    assert audit.audited(method, path) is kept


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_audit_trail_is_append_only(backend, tmp_path, request):
    with fresh_session(backend, "gateway", tmp_path, request) as db:
        db.add(audit.entry(auth.Principal("district_admin", username="admin"), "POST",
                           "/api/v1/classes", "/api/v1/classes", 201, at=T0))
        db.commit()
        for statement in ("UPDATE audit_log SET actor = 'someone else'",
                          "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.execute(text(statement))
            db.rollback()
        assert db.execute(select(AuditEntry.actor)).scalars().all() == ["admin"]


def test_the_trail_is_read_newest_first_by_person_and_by_shanghai_day(db):
    people = {"admin": auth.Principal("district_admin", username="admin"),
              "clerk": auth.Principal("org_admin", "CA01", username="clerk")}
    # 2026-03-01 23:30 in Shanghai is 15:30 UTC; 2026-03-02 00:30 there is 16:30 UTC.
    moments = [datetime(2026, 3, 1, 15, 30, tzinfo=UTC), datetime(2026, 3, 1, 16, 30, tzinfo=UTC),
               datetime(2026, 3, 2, 16, 30, tzinfo=UTC)]
    for at in moments:
        for who in people.values():
            db.add(audit.entry(who, "POST", "/api/v1/classes", "/api/v1/classes", 201, at=at))
    db.commit()
    everyone = audit.page_of(db, None, None, None, 1, 4)
    assert everyone["total"] == 6 and len(everyone["items"]) == 4
    assert everyone["items"][0].at > everyone["items"][-1].at
    clerk_on_2nd = audit.page_of(db, "clerk", audit.day_start(date(2026, 3, 2)),
                                 audit.day_after(date(2026, 3, 2)), 1, 50)
    assert [clerk.at.replace(tzinfo=UTC) for clerk in clerk_on_2nd["items"]] == [moments[1]]


# -- the migration -------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_tokens_made_before_accounts_keep_working(backend, tmp_path, request):
    with fresh_engine(backend, "gateway", tmp_path, request) as engine:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config("gateway", connection), "gateway_0001")
            connection.execute(text(
                "INSERT INTO api_tokens (id, token_hash, role, org_code, class_ids, created_at) "
                "VALUES ('t-1', :hash, 'committee_admin', 'CA', '[]', '2026-01-05 08:00:00')"),
                {"hash": auth.hash_token("px_old")})
        migrate.upgrade(engine, "gateway")
        with Session(engine) as db:
            principal = auth.authenticate(db, "Bearer px_old")
            assert (principal.role, principal.org_code, principal.token_id) == (
                "committee_admin", "CA", "t-1")
            assert db.execute(select(User)).first() is None
