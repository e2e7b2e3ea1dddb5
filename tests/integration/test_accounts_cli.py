"""`peixun user …` and `peixun token …` on the gateway's PostgreSQL database, as an operator runs
them: the password only on stdin, a message and an exit code (2 bad arguments, 1 a refusal) for
every mistake and never a traceback, tokens listed without the token and refused once revoked."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from services.cli import main
from services.enrollment.service import EnrollmentService
from services.gateway import auth, tokens
from services.kit import config
from services.kit.database import make_engine
from tests.support.databases import truncate_all

PASSWORD = "春季示范班 2026 密码"


@pytest.fixture
def gateway_db(database_urls, monkeypatch):
    url = database_urls["gateway"]
    tokens.list_users(database_url=url)          # brings the database to the newest revision
    truncate_all(url)
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    return url


@pytest.fixture
def tree(container_factory, service_config, rpc, monkeypatch):
    """Enrollment running with a committee CA and its organisation CA01: an account or token
    limited to a subtree names an organisation that exists."""
    container_factory(EnrollmentService, service_config).start()
    rpc.enrollment.import_orgs([
        {"row": 2, "org_code": "CA", "name": "某党工委", "parent_code": "", "kind": "committee",
         "sector": ""},
        {"row": 3, "org_code": "CA01", "name": "某村党支部", "parent_code": "CA",
         "kind": "grassroots", "sector": "village"}])
    monkeypatch.setenv("AMQP_URI", service_config["AMQP_URI"])
    return service_config["AMQP_URI"]


def peixun(*args, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_a_user_is_created_from_a_password_on_stdin_listed_and_disabled(gateway_db, tree):
    made = peixun("user", "create", "--username", "Li.Ming", "--role", "committee_admin",
                  "--org", "CA", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert made.stdout == "user li.ming created\n"
    listed = peixun("user", "list")
    assert listed.exit_code == 0
    assert "li.ming\tcommittee_admin\tCA\tactive\t" in listed.stdout and PASSWORD not in \
        listed.output
    assert peixun("user", "disable", "LI.MING").exit_code == 0
    assert "li.ming\tcommittee_admin\tCA\tdisabled\t" in peixun("user", "list").stdout


@pytest.mark.parametrize("args,stdin,code,says", [
    (["--username", "li", "--role", "district_admin"], None, 2, "--password-stdin"),
    (["--username", "li", "--role", "district_admin", "--password-stdin"], "\n", 2,
     "no password"),
    (["--username", "li", "--role", "district_admin", "--password-stdin"], "short\n", 2,
     "too short"),
    (["--username", "li", "--role", "org_admin", "--password-stdin"], PASSWORD, 2,
     "needs an organisation"),
    (["--username", "li", "--role", "checkin", "--password-stdin"], PASSWORD, 2,
     "Invalid value for '--role'"),
    (["--username", "l i", "--role", "district_admin", "--password-stdin"], PASSWORD, 2,
     "user name"),
])
def test_bad_arguments_to_user_create_say_why_and_exit_2(gateway_db, args, stdin, code, says):
    outcome = peixun("user", "create", *args, stdin=stdin)
    assert (outcome.exit_code, type(outcome.exception)) == (code, SystemExit), outcome.output
    assert says in outcome.stderr
    assert "Traceback" not in outcome.output
    assert tokens.list_users(database_url=gateway_db) == []


def test_a_taken_user_name_or_an_unknown_user_exits_1(gateway_db):
    tokens.create_user("wang", "district_admin", None, PASSWORD, database_url=gateway_db)
    taken = peixun("user", "create", "--username", "WANG", "--role", "district_admin",
                   "--password-stdin", stdin=PASSWORD)
    assert taken.exit_code == 1 and "peixun: user wang exists" in taken.stderr
    unknown = peixun("user", "disable", "nobody")
    assert unknown.exit_code == 1 and "no user nobody" in unknown.stderr


def test_tokens_are_listed_without_the_token_and_refused_once_revoked(gateway_db):
    made = peixun("token", "create", "--role", "system", "--expires-in", "30")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("px_") and "\n" not in token
    token_id = made.stderr.split()[2]
    listed = peixun("token", "list")
    assert listed.exit_code == 0 and token not in listed.output
    [line] = [row for row in listed.stdout.splitlines() if row.startswith(token_id)]
    role, org, _created, expires, state = line.split("\t")[1:]
    assert (role, org, state) == ("system", "-", "active") and expires != "-"

    revoked = peixun("token", "revoke", token_id)
    assert revoked.exit_code == 0, revoked.output
    [line] = [row for row in peixun("token", "list").stdout.splitlines()
              if row.startswith(token_id)]
    assert line.endswith("\trevoked")
    engine = make_engine(gateway_db)
    with Session(engine) as db, pytest.raises(auth.Unauthorized, match="revoked"):
        auth.authenticate(db, f"Bearer {token}")
    engine.dispose()


@pytest.mark.parametrize("args,code,says", [
    (["token", "revoke", "no-such-id"], 1, "no token no-such-id"),
    (["token", "create", "--role", "org_admin"], 2, "needs an organisation"),
    (["token", "create", "--role", "system", "--expires-in", "0"], 2, "--expires-in"),
    (["token", "create", "--role", "system", "--expires-in", "99999"], 2, "expiry"),
])
def test_bad_token_commands_say_why_with_their_exit_code(gateway_db, args, code, says):
    outcome = peixun(*args)
    assert (outcome.exit_code, type(outcome.exception)) == (code, SystemExit), outcome.output
    assert says in outcome.stderr and "Traceback" not in outcome.output


def test_the_real_command_reads_the_password_from_a_pipe(gateway_db, tree):
    command = [str(Path(sys.executable).parent / "peixun"), "user", "create", "--username", "zhao",
               "--role", "org_admin", "--org", "CA01", "--password-stdin"]
    env = {"GATEWAY_DATABASE_URL": gateway_db, "AMQP_URI": tree, "PATH": "/usr/bin:/bin"}
    short = subprocess.run(command, input="abc\n", capture_output=True, text=True, env=env,
                           cwd=config.ROOT, timeout=60)
    assert short.returncode == 2 and "too short" in short.stderr
    assert "Traceback" not in short.stderr
    made = subprocess.run(command, input=PASSWORD + "\n", capture_output=True, text=True,
                          env=env, cwd=config.ROOT, timeout=60)
    assert made.returncode == 0, made.stderr
    assert [u["username"] for u in tokens.list_users(database_url=gateway_db)] == ["zhao"]


@pytest.mark.parametrize("command", [
    ["token", "create", "--role", "committee_admin", "--org", "NOPE"],
    ["user", "create", "--username", "li", "--role", "org_admin", "--org", "NOPE",
     "--password-stdin"],
])
def test_an_organisation_that_does_not_exist_is_refused_and_nothing_is_made(gateway_db, tree,
                                                                            command):
    outcome = peixun(*command, stdin=PASSWORD + "\n")
    assert (outcome.exit_code, type(outcome.exception)) == (1, SystemExit), outcome.output
    assert outcome.stderr == "peixun: no organisation NOPE\n"
    assert tokens.list_tokens(database_url=gateway_db) == []
    assert tokens.list_users(database_url=gateway_db) == []
    made = peixun("token", "create", "--role", "committee_admin", "--org", "CA")
    assert made.exit_code == 0 and made.stdout.startswith("px_"), made.output
