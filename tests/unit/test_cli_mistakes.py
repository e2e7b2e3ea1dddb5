"""Every `peixun` command answers a mistake with one line and an exit code, never a traceback:
each subcommand tried with bad arguments, and with RabbitMQ and PostgreSQL unreachable where it
needs them (services/cli/failures.py: 1 refused, 2 wrong arguments, 3 did not answer).

No server is needed: the broker and the databases are addresses where nothing listens."""

import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from services.cli import main
from services.cli.failures import BUG, REFUSED, UNREACHABLE, USAGE, explain
from services.kit import config

ORG_ROWS = "org_code,name,parent_code,kind,sector\nFX,奉贤区委,,党(工)委,\n"
MEMBER_ROWS = ("member_no,name,org_code,joined_on,employment\n"
               "M1,张三,FX,2015-07-01,企业\n")


def nothing_listens() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def files(tmp_path, monkeypatch):
    """The command's working folder, with a good file of each kind and an empty one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEIXUN_VAR_DIR", str(tmp_path / "var"))
    (tmp_path / "orgs.csv").write_text(ORG_ROWS, encoding="utf-8")
    (tmp_path / "members.csv").write_text(MEMBER_ROWS, encoding="utf-8")
    (tmp_path / "hours.csv").write_text("member_no,year,hours,source,title,on\n"
                                        "M1,2026,2,unit,支部学习,2026-03-02\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text(MEMBER_ROWS.splitlines()[0] + "\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def unreachable(files, monkeypatch):
    """RabbitMQ and every service's database at addresses where nothing listens."""
    monkeypatch.setenv("AMQP_URI", f"amqp://guest:guest@127.0.0.1:{nothing_listens()}/")
    dead = f"postgresql://postgres@127.0.0.1:{nothing_listens()}/peixun"
    for service in config.SERVICES:
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", dead)
    return files


def peixun(*args, stdin=None):
    return CliRunner().invoke(main, list(args), input=stdin)


def assert_told(outcome, code, says):
    """One `peixun:`-style message (or click's usage error), the exit code, no traceback, and
    nothing left unexplained (an exception CliRunner caught would be a traceback outside)."""
    assert "Traceback" not in outcome.output
    assert type(outcome.exception) is SystemExit, repr(outcome.exception)
    assert (outcome.exit_code, says in outcome.stderr) == (code, True), outcome.output


# (command words, the rest of the arguments, stdin, exit code, what stderr says)
BAD_ARGUMENTS = [
    ("run", ["--now"], None, USAGE, "No such option"),
    ("health", ["nowhere"], None, USAGE, "'nowhere' is not one of"),
    ("status", ["--timeout", "0"], None, USAGE, "--timeout"),
    ("dlq list", ["--limit", "0"], None, USAGE, "--limit"),
    ("dlq show", [], None, USAGE, "Missing argument 'LETTER_ID'"),
    ("dlq drop", ["0123456789ab"], None, USAGE, "Missing option '--reason'"),
    ("dlq drop", ["0123456789ab", "--reason", "  "], None, USAGE, "reason: give a reason"),
    ("dlq dropped", ["--limit", "many"], None, USAGE, "--limit"),
    ("dlq replay", ["--limit", "-1"], None, USAGE, "--limit"),
    ("demo", ["--seed", "x"], None, USAGE, "--seed"),
    ("seed", ["--year", "next"], None, USAGE, "--year"),
    ("seed", ["--year", "1999"], None, USAGE, "--year"),
    ("bench", ["bench_nothing"], None, USAGE, "no benchmark bench_nothing"),
    ("import orgs", ["missing.csv"], None, USAGE, "nothing could be read"),
    ("import members", ["empty.csv"], None, USAGE, "nothing could be read: no rows"),
    ("import hours", ["."], None, USAGE, "is a directory"),
    ("report pull", ["annual-report"], None, USAGE, "'annual-report' is not one of"),
    ("report pull", ["annual-summary", "-o", "missing/annual.json"], None, USAGE,
     "the folder missing does not exist"),
    ("replay", ["--jobs", "two"], None, USAGE, "--jobs"),
    ("token create", ["--role", "committee_admin"], None, USAGE, "needs an organisation"),
    ("token create", ["--role", "root"], None, USAGE, "Invalid value for '--role'"),
    ("token list", ["--all"], None, USAGE, "No such option"),
    ("token revoke", [], None, USAGE, "Missing argument 'TOKEN_ID'"),
    ("user create", ["--username", "li", "--role", "org_admin", "--password-stdin"],
     "a long enough password\n", USAGE, "needs an organisation"),
    ("user create", ["--username", "li", "--role", "district_admin"], None, USAGE,
     "--password-stdin"),
    ("user disable", [], None, USAGE, "Missing argument 'USERNAME'"),
    ("user list", ["extra"], None, USAGE, "unexpected extra argument"),
    ("verify attendance", ["--timeout", "soon"], None, USAGE, "--timeout"),
]

# What each command says when RabbitMQ or its database does not answer.
UNREACHABLE_CASES = [
    ("run", [], None, UNREACHABLE, "RabbitMQ at amqp://guest:**@127.0.0.1:"),
    ("health", ["scheduling"], None, REFUSED, "scheduling: "),   # compose's health check
    ("status", [], None, UNREACHABLE, "did not answer"),
    ("dlq list", [], None, UNREACHABLE, "RabbitMQ at "),
    ("dlq show", ["0123456789ab"], None, UNREACHABLE, "RabbitMQ at "),
    ("dlq drop", ["0123456789ab", "--reason", "a test"], None, UNREACHABLE, "RabbitMQ at "),
    ("dlq dropped", [], None, UNREACHABLE, "RabbitMQ at "),
    ("dlq replay", [], None, UNREACHABLE, "RabbitMQ at "),
    ("demo", ["--small"], None, UNREACHABLE, "RabbitMQ at "),
    ("seed", ["--small"], None, UNREACHABLE, "RabbitMQ at "),
    ("import orgs", ["orgs.csv"], None, UNREACHABLE, "import stopped"),
    ("import members", ["members.csv"], None, UNREACHABLE, "import stopped"),
    ("import hours", ["hours.csv"], None, UNREACHABLE, "import stopped"),
    ("report pull", ["annual-summary", "--year", "2026"], None, UNREACHABLE, "RabbitMQ at "),
    ("replay", [], None, UNREACHABLE, "the database did not answer"),
    ("token create", ["--role", "system"], None, UNREACHABLE, "the database did not answer"),
    ("token create", ["--role", "committee_admin", "--org", "FX01"], None, UNREACHABLE,
     "RabbitMQ at "),
    ("token list", [], None, UNREACHABLE, "the database did not answer"),
    ("token revoke", ["some-id"], None, UNREACHABLE, "the database did not answer"),
    ("user create", ["--username", "li", "--role", "district_admin", "--password-stdin"],
     "a long enough password\n", UNREACHABLE, "the database did not answer"),
    ("user disable", ["li"], None, UNREACHABLE, "the database did not answer"),
    ("user list", [], None, UNREACHABLE, "the database did not answer"),
    ("verify attendance", [], None, UNREACHABLE, "enrollment did not answer"),
]
# Reaches nothing itself: its benchmarks run as a process of their own (test below).
NEEDS_NOTHING = {"bench"}


def _ids(cases):
    return [f"{words} {' '.join(args)}".strip() for words, args, *_ in cases]


def leaf_commands(group=main, prefix=()) -> set[str]:
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= leaf_commands(command, (*prefix, name))
        else:
            found.add(" ".join((*prefix, name)))
    return found


def test_every_subcommand_is_tried_with_bad_arguments_and_with_nothing_answering():
    commands = leaf_commands()
    assert {words for words, *_ in BAD_ARGUMENTS} == commands
    assert {words for words, *_ in UNREACHABLE_CASES} | NEEDS_NOTHING == commands


@pytest.mark.parametrize("words,args,stdin,code,says", BAD_ARGUMENTS, ids=_ids(BAD_ARGUMENTS))
def test_bad_arguments_get_a_message_and_an_exit_code(unreachable, words, args, stdin, code,
                                                      says):
    assert_told(peixun(*words.split(), *args, stdin=stdin), code, says)


@pytest.mark.parametrize("words,args,stdin,code,says", UNREACHABLE_CASES,
                         ids=_ids(UNREACHABLE_CASES))
def test_with_the_broker_and_databases_away_every_command_says_so(unreachable, words, args,
                                                                 stdin, code, says):
    assert_told(peixun(*words.split(), *args, stdin=stdin), code, says)


def test_a_wrong_password_or_vhost_is_named_not_a_traceback(files, monkeypatch):
    from amqp.exceptions import AccessRefused, NotAllowed

    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/no-such-vhost")

    said, code = explain(NotAllowed(reply_text="NOT_ALLOWED - vhost no-such-vhost not found"))
    assert code == UNREACHABLE and "check the user, password and vhost in AMQP_URI" in said
    said, code = explain(AccessRefused(reply_text="ACCESS_REFUSED - Login was refused"))
    assert code == UNREACHABLE and "amqp://guest:**@127.0.0.1:5672/no-such-vhost" in said


def test_a_failure_nobody_foresaw_is_one_line_naming_it_with_exit_70(files, monkeypatch):
    def broken(*_):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("services.kit.dead_letters.peek", broken)
    outcome = peixun("dlq", "list")
    assert_told(outcome, BUG, "peixun: unexpected ZeroDivisionError: division by zero (a bug")


def test_the_real_command_prints_no_traceback_where_a_child_process_would(unreachable):
    """`peixun replay` runs reporting's rebuild as a process of its own: the database is
    checked first, so the child never starts to print one."""
    peixun_bin = str(Path(sys.executable).parent / "peixun")
    for args in (["replay"], ["dlq", "list"], ["token", "list"]):
        done = subprocess.run([peixun_bin, *args], capture_output=True, text=True, timeout=60,
                              cwd=config.ROOT)
        assert done.returncode == UNREACHABLE, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.startswith("peixun: "), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_bench_asks_for_the_management_plugin_in_one_line(monkeypatch):
    monkeypatch.setenv("PEIXUN_BENCH_RABBIT_API", f"http://127.0.0.1:{nothing_listens()}/api")
    done = subprocess.run([sys.executable, "-m", "bench.run", "bench_kit"], capture_output=True,
                          text=True, timeout=60, cwd=config.ROOT)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("peixun bench: RabbitMQ's management API at http://127.0.0.1:")
    assert "enable it with `rabbitmq-plugins enable rabbitmq_management`" in line


# -- set-up that explains itself -------------------------------------------------------------------

def settings_read_by_the_code() -> set[str]:
    """Every environment variable services/ and deploy/nameko.yaml read."""
    import re

    from services.contracts.rules import QUOTA_SETTINGS

    found = set(QUOTA_SETTINGS.values())
    for path in (config.ROOT / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"environ(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\"", text))
        if 'f"{service.upper()}_' in text:
            suffixes = re.findall(r"f\"\{service\.upper\(\)\}(_[A-Z_]+)\"", text)
            found |= {f"{s.upper()}{suffix}" for s in config.SERVICES for suffix in suffixes}
    nameko = (config.ROOT / "deploy" / "nameko.yaml").read_text(encoding="utf-8")
    return found | set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", nameko))


def test_every_setting_the_code_reads_is_in_the_operators_table():
    guide = (config.ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    table = guide.split("## Settings", 1)[1].split("\n## ", 1)[0]
    read = settings_read_by_the_code()
    assert {"AMQP_URI", "GATEWAY_DATABASE_URL", "REPORTING_METRICS_PORT", "PEIXUN_HTTP_PORT",
            "PEIXUN_QUOTA_MEMBER_HOURS", "XAPI_LRS_URL"} <= read   # the scan finds them
    assert sorted(name for name in read if f"`{name}`" not in table) == []


def test_run_says_where_the_pages_the_api_docs_and_the_metrics_are(monkeypatch):
    from services.cli.launch import addresses

    monkeypatch.setenv("PEIXUN_HTTP_PORT", "8080")
    monkeypatch.setenv("REPORTING_METRICS_PORT", "0")
    monkeypatch.delenv("SCHEDULING_METRICS_PORT", raising=False)
    where = addresses()
    assert "http://localhost:8080/admin" in where
    assert "http://localhost:8080/api/v1/docs" in where
    assert "scheduling  http://localhost:9101/metrics" in where
    assert "reporting   a free port (`peixun health reporting` names it)" in where
    monkeypatch.setenv("GATEWAY_METRICS_PORT", "ninety")
    assert_told(peixun("run"), USAGE, "GATEWAY_METRICS_PORT: not a port number")
