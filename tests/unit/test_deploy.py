"""The deployment files, checked without Docker: docker-compose.yml, deploy/ and .env.example.

There is no Docker engine where the tests run, so these read the files and hold them to the
Compose Specification schema and to the code they must agree with (service argv, topology,
databases). The schema is docker-compose 1.29.2's `compose/config/compose_spec.json`, committed
as tests/data/compose_spec.json so no network is needed.
"""

import json
import re
import shlex
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml
from jsonschema.validators import validator_for

from services.cli.launch import service_command
from services.contracts.definitions import rabbitmq_definitions, render
from services.kit.config import SERVICES
from services.kit.metrics import DEFAULT_PORTS, Figures, OutboxCollector
from tests.support.promql import (
    PROMTOOL,
    RABBITMQ_METRICS,
    SCRAPE_METRICS,
    dashboard_queries,
    exported_names,
    grafana_to_promql,
    metric_names,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = ROOT / "tests" / "data" / "compose_spec.json"
DEFINITIONS = DEPLOY / "rabbitmq" / "definitions.json"
RABBITMQ_CONF = DEPLOY / "rabbitmq" / "rabbitmq.conf"
POSTGRES_INIT = DEPLOY / "postgres" / "init.sql"
DOCKERFILE = DEPLOY / "Dockerfile"

# `${VAR:?message}`: compose refuses to start while VAR is unset or empty.
REQUIRED_REF = re.compile(r"\$\{(?P<var>[A-Z][A-Z0-9_]*):\?[^}]+\}")
# `$VAR` / `$$VAR` / `${VAR}` inside a container's shell command, expanded from its environment.
CONTAINER_REF = re.compile(r"\$\$?\{?(?P<var>[A-Z][A-Z0-9_]*)\}?")
BACKEND_SERVICES = [s for s in SERVICES if s != "gateway"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, args = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def _password_files() -> list[Path]:
    files = [COMPOSE_FILE, ENV_EXAMPLE]
    files += sorted(p for p in DEPLOY.rglob("*") if p.is_file())
    return files


# -- (1) the compose file is valid ------------------------------------------------------------

def test_compose_file_validates_against_the_compose_specification_schema(compose):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors)


def test_compose_runs_the_four_services_and_the_infrastructure(compose):
    assert set(SERVICES) | {"rabbitmq", "postgres"} <= set(compose["services"])


# -- (2) one argv per service, shared with `peixun run` -----------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_service_command_is_the_one_launch_gives_peixun_run_in_exec_form(compose, name):
    command = compose["services"][name]["command"]
    assert isinstance(command, list), "exec form, so nameko (not a shell) receives SIGTERM"
    assert command == service_command(name)


@pytest.mark.parametrize("name", SERVICES)
def test_services_are_built_from_the_one_image_and_run_under_an_init(compose, name):
    service = compose["services"][name]
    assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    assert service["init"] is True
    # service_command's `deploy/nameko.yaml` is relative: run from the image's WORKDIR.
    assert "working_dir" not in service and "entrypoint" not in service


# -- (3) start order and health ----------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_service_waits_for_healthy_rabbitmq_and_postgres(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    for infrastructure in ("rabbitmq", "postgres"):
        assert depends_on[infrastructure] == {"condition": "service_healthy"}
    assert depends_on["rabbitmq-definitions"] == {
        "condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", SERVICES)
def test_service_healthcheck_runs_peixun_health_for_that_service(compose, name):
    assert compose["services"][name]["healthcheck"]["test"] == ["CMD", "peixun", "health", name]


def test_gateway_waits_for_the_other_services_to_be_healthy_and_publishes_8000(compose):
    gateway = compose["services"]["gateway"]
    for name in BACKEND_SERVICES:
        assert gateway["depends_on"][name] == {"condition": "service_healthy"}
    assert gateway["ports"] == ["8000:8000"]
    assert gateway["environment"]["PEIXUN_HTTP_PORT"] == "8000"


@pytest.mark.parametrize("name", BACKEND_SERVICES)
def test_backend_service_can_scale_no_container_name_and_no_host_ports(compose, name):
    service = compose["services"][name]
    assert "container_name" not in service
    assert "ports" not in service


def test_no_service_has_a_fixed_container_name(compose):
    assert not [n for n, s in compose["services"].items() if "container_name" in s]


def test_infrastructure_has_healthchecks_and_named_volumes(compose):
    services = compose["services"]
    assert services["rabbitmq"]["healthcheck"]["test"] == [
        "CMD", "rabbitmq-diagnostics", "-q", "ping"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    named = set(compose["volumes"])
    for name, target in (("rabbitmq", "/var/lib/rabbitmq"),
                         ("postgres", "/var/lib/postgresql/data")):
        mounts = dict(v.split(":")[:2][::-1] for v in services[name]["volumes"])
        assert mounts[target] in named, f"{name} keeps its data in a named volume"


@pytest.mark.parametrize("name", SERVICES)
def test_service_reads_its_own_database_and_the_peixun_vhost(compose, name):
    environment = compose["services"][name]["environment"]
    url = environment[f"{name.upper()}_DATABASE_URL"]
    assert url.startswith("postgresql://peixun:") and url.endswith(f"@postgres:5432/peixun_{name}")
    assert environment["AMQP_URI"].startswith("amqp://peixun:")
    assert environment["AMQP_URI"].endswith("@rabbitmq:5672/peixun")
    others = [s for s in SERVICES if s != name]
    assert not [k for k in environment if k in {f"{o.upper()}_DATABASE_URL" for o in others}]


# -- (4) no password in any file ---------------------------------------------------------------

# The one password-looking literal allowed: nameko.yaml's laptop default for AMQP_URI, RabbitMQ's
# built-in guest account, which the broker accepts from localhost only. Compose always sets
# AMQP_URI, so it is never used there.
LAPTOP_DEFAULT = "amqp://guest:guest@localhost:5672/"


def _mask_references(text: str) -> tuple[str, list[str]]:
    """`${…}` references replaced by placeholders, so URLs with them parse as plain URLs."""
    found: list[str] = []

    def keep(match):
        found.append(match.group(0))
        return f"\x00{len(found) - 1}\x00"

    return re.sub(r"\$\{[^}]*\}", keep, text), found


def _unmask(text: str, found: list[str]) -> str:
    return re.sub("\x00(\\d+)\x00", lambda m: found[int(m.group(1))], text)


def _password_values(text: str) -> list[tuple[str, str]]:
    """(what, value) for every URL password and every `…pass…: value` / `…pass…=value`."""
    masked, found = _mask_references(text.replace(LAPTOP_DEFAULT, ""))
    values = []
    for match in re.finditer(r"[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@", masked):
        values.append(("URL password", _unmask(match.group(1), found)))
    assignment = re.compile(
        r"(?i)([\w.-]*pass(?:word|wd)?)[\"']?[ \t]*[:=][ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[^\s,]*)")
    for match in assignment.finditer(masked):
        values.append((match.group(1), _unmask(match.group(2), found).strip("\"'")))
    return values


def _is_reference(value: str) -> bool:
    return (value == "" or REQUIRED_REF.fullmatch(value) is not None
            or CONTAINER_REF.fullmatch(value) is not None)


@pytest.mark.parametrize("path", _password_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_password_in_deploy_files_is_a_required_env_reference(path):
    values = _password_values(path.read_text(encoding="utf-8"))
    literal = [f"{what} = {value!r}" for what, value in values if not _is_reference(value)]
    assert not literal, f"{path.relative_to(ROOT)}: use ${{VAR:?message}}, not {literal}"


def test_compose_password_values_are_required_references_not_defaults(compose):
    checked = 0
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if re.search(r"(?i)pass", key):
                checked += 1
                assert REQUIRED_REF.fullmatch(value), f"{name}.{key} must be ${{VAR:?…}}"
        # A password a shell command reads from the container must come from such a variable.
        for ref in CONTAINER_REF.finditer(" ".join(service.get("command") or [])):
            if "PASS" in ref.group("var"):
                checked += 1
                assert REQUIRED_REF.fullmatch(environment.get(ref.group("var"), ""))
    assert checked >= 3


def test_env_example_lists_every_required_variable_with_an_empty_value():
    required = set(m.group("var") for m in REQUIRED_REF.finditer(COMPOSE_FILE.read_text()))
    listed = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            listed[key.strip()] = value.strip()
    missing = required - set(listed)
    assert required and not missing, f"missing from .env.example: {missing}"
    assert all(value == "" for value in listed.values()), ".env.example holds no values"


# -- (5) RabbitMQ: definitions from the topology, users from the environment --------------------

def test_rabbitmq_definitions_json_is_generated_from_the_topology():
    regenerate = ("deploy/rabbitmq/definitions.json is stale; regenerate it with\n"
                  "  .venv/bin/python -m services.contracts.definitions"
                  " > deploy/rabbitmq/definitions.json")
    assert json.loads(DEFINITIONS.read_text(encoding="utf-8")) == rabbitmq_definitions(), regenerate
    assert DEFINITIONS.read_text(encoding="utf-8") == render(), regenerate


def test_rabbitmq_definitions_hold_no_users_permissions_or_passwords():
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    assert not {"users", "permissions", "topic_permissions"} & set(definitions)
    assert "password" not in DEFINITIONS.read_text(encoding="utf-8").lower()


def test_rabbitmq_definitions_declare_the_events_exchanges_and_the_dead_letter_queue():
    definitions = rabbitmq_definitions()
    exchanges = {e["name"]: e["type"] for e in definitions["exchanges"]}
    assert exchanges["peixun.dlx"] == "direct"
    for source in ("scheduling", "enrollment", "reporting", "live_platform", "member_registry"):
        assert exchanges[f"{source}.events"] == "topic"
    assert {"source": "peixun.dlx", "destination": "peixun.dead_letters"}.items() <= next(
        b for b in definitions["bindings"] if b["destination"] == "peixun.dead_letters").items()
    assert {q["vhost"] for q in definitions["queues"]} == {"peixun"}
    assert all(q["durable"] for q in definitions["queues"])


def test_rabbitmq_conf_does_not_load_definitions_at_boot():
    # With definitions to import at boot RabbitMQ does not create RABBITMQ_DEFAULT_USER, and the
    # broker would start with no user at all; compose imports them after boot instead.
    settings = [line.split("=")[0].strip() for line in RABBITMQ_CONF.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert not [s for s in settings if "load_definitions" in s or s.startswith("definitions.")]


def test_rabbitmq_user_and_vhost_come_from_the_environment(compose):
    rabbitmq = compose["services"]["rabbitmq"]
    environment = rabbitmq["environment"]
    assert environment["RABBITMQ_DEFAULT_USER"] not in ("", "guest")
    assert environment["RABBITMQ_DEFAULT_VHOST"] == "peixun"
    assert REQUIRED_REF.fullmatch(environment["RABBITMQ_DEFAULT_PASS"]).group("var") == (
        "RABBITMQ_PASSWORD")
    assert rabbitmq["image"] == "rabbitmq:3.13-management"
    assert "./deploy/rabbitmq/rabbitmq.conf:/etc/rabbitmq/rabbitmq.conf:ro" in rabbitmq["volumes"]


def test_definitions_are_imported_after_boot_by_a_one_shot_service(compose):
    importer = compose["services"]["rabbitmq-definitions"]
    assert importer["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
    mounts = {v.split(":")[0]: v.split(":")[1] for v in importer["volumes"]}
    target = mounts["./deploy/rabbitmq/definitions.json"]
    script = importer["command"][0]
    assert f"import {target}" in script and "--host=rabbitmq" in script
    assert f"--username={compose['services']['rabbitmq']['environment']['RABBITMQ_DEFAULT_USER']}" \
        in script


# -- (6) PostgreSQL: one database per service ---------------------------------------------------

def test_postgres_init_creates_exactly_one_database_per_service(compose):
    sql = re.sub(r"--[^\n]*", "", POSTGRES_INIT.read_text(encoding="utf-8"))
    created = re.findall(r"(?i)\bCREATE\s+DATABASE\s+\"?(\w+)\"?", sql)
    assert sorted(created) == sorted(f"peixun_{name}" for name in SERVICES)
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    assert any(v.startswith("./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/")
               for v in postgres["volumes"])


# -- (7) the image -----------------------------------------------------------------------------

def _image_paths(instructions, repo_file: str) -> list[PurePosixPath]:
    """Where the COPY instructions put `repo_file` (a path relative to the build context)."""
    workdir, landed = PurePosixPath("/"), []
    target = PurePosixPath(repo_file)
    for keyword, args in instructions:
        if keyword == "WORKDIR":
            workdir = workdir / args
        if keyword not in ("COPY", "ADD"):
            continue
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        if any(p.startswith("--from") for p in shlex.split(args)):
            continue
        *sources, dest = parts
        dest_path = workdir / dest
        for source in sources:
            src = PurePosixPath(source.rstrip("/") or ".")
            if src == PurePosixPath("."):
                landed.append(dest_path / target)
            elif target == src:
                landed.append(dest_path / target.name if dest.endswith("/") else dest_path)
            elif src in target.parents:
                # A directory's contents are copied into dest, not the directory itself.
                landed.append(dest_path / target.relative_to(src))
    return landed


def test_image_contains_deploy_nameko_yaml_under_its_workdir(dockerfile):
    workdirs = [args for keyword, args in dockerfile if keyword == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/app"
    assert PurePosixPath("/app/deploy/nameko.yaml") in _image_paths(dockerfile,
                                                                     "deploy/nameko.yaml")
    assert (ROOT / "deploy" / "nameko.yaml").is_file()
    # A .dockerignore (if any) must not leave it out of the build context.
    ignore = ROOT / ".dockerignore"
    if ignore.exists():
        patterns = [p.strip() for p in ignore.read_text().splitlines()
                    if p.strip() and not p.startswith("#")]
        assert not [p for p in patterns if PurePosixPath("deploy/nameko.yaml").match(p)
                    or p.rstrip("/") in ("deploy", "deploy/nameko.yaml")]


def test_image_copies_the_packages_and_installs_the_project(dockerfile):
    for package_file in ("pyproject.toml", "services/kit/config.py", "demo/__init__.py"):
        assert _image_paths(dockerfile, package_file), f"{package_file} is not in the image"
    runs = " ".join(args for keyword, args in dockerfile if keyword == "RUN")
    assert "pip install --no-cache-dir ." in runs


def test_image_installs_the_chinese_font_without_recommends_and_cleans_apt_lists(dockerfile):
    run = next(args for keyword, args in dockerfile
               if keyword == "RUN" and "fonts-wqy-microhei" in args)
    assert "apt-get install" in run and "--no-install-recommends" in run
    assert "rm -rf /var/lib/apt/lists/*" in run


def test_image_is_python_311_slim_runs_as_non_root_and_defaults_to_help(dockerfile):
    assert dockerfile[0] == ("FROM", "python:3.11-slim")
    users = [args for keyword, args in dockerfile if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert [args for keyword, args in dockerfile if keyword == "CMD"][-1] == '["peixun", "--help"]'
    env = " ".join(args for keyword, args in dockerfile if keyword == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert re.search(r"MPLCONFIGDIR=(\S+)", env), "matplotlib needs a writable config dir"
    mpl_dir = re.search(r"MPLCONFIGDIR=(\S+)", env).group(1)
    owned = " ".join(args for keyword, args in dockerfile if keyword == "RUN" and "chown" in args)
    assert any(mpl_dir.startswith(p) for p in re.findall(r"chown -R \S+ (\S+)", owned)), \
        "MPLCONFIGDIR must be owned by the service user"


# -- (8) metrics: Prometheus, alert rules and Grafana ----------------------------------------

PROMETHEUS_DIR = DEPLOY / "prometheus"
GRAFANA_DIR = DEPLOY / "grafana"
DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))


def _promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess:
    assert PROMTOOL.exists(), "promtool is missing: `make test` installs Debian's prometheus"
    return subprocess.run([str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def _service_figure_names() -> set[str]:
    """Every sample name a peixun service can export, from a registry of its figures."""
    figures = Figures()
    return (exported_names(figures.registry.collect())
            | exported_names(OutboxCollector(None).describe()))


def test_prometheus_configuration_passes_promtool_check_config():
    checked = _promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alert_rules_pass_promtool_check_rules_and_their_own_unit_tests():
    checked = _promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_alerts_cover_outbox_lag_dead_letters_consumers_queue_depth_and_rpc_errors():
    rules = {rule["alert"]: rule["expr"]
             for group in yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
             for rule in group["rules"]}
    reads = {alert: metric_names(expr) for alert, expr in rules.items()}
    assert "peixun_outbox_oldest_age_seconds" in reads["PeixunOutboxLagGrowing"]
    assert "peixun_dead_letters_total" in reads["PeixunDeadLettersArriving"]
    assert "rabbitmq_detailed_queue_consumers" in reads["PeixunConsumerGone"]
    assert "rabbitmq_detailed_queue_messages" in reads["PeixunQueueDepthGrowing"]
    assert "peixun_rpc_errors_total" in reads["PeixunRpcErrors"]
    known = _service_figure_names() | RABBITMQ_METRICS | SCRAPE_METRICS
    unknown = {alert: names - known for alert, names in reads.items() if names - known}
    assert not unknown, f"alerts read metrics nobody exports: {unknown}"


def test_prometheus_scrapes_every_service_on_its_metrics_port_and_rabbitmq(compose):
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    scraped = {sd["names"][0]: sd["port"] for sd in jobs["peixun"]["dns_sd_configs"]}
    assert scraped == DEFAULT_PORTS
    for name, port in DEFAULT_PORTS.items():
        environment = compose["services"][name]["environment"]
        assert environment[f"{name.upper()}_METRICS_PORT"] == str(port)
    assert jobs["rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]
    assert jobs["rabbitmq-queues"]["metrics_path"] == "/metrics/detailed"


def test_rabbitmq_runs_the_prometheus_plugin_in_compose_and_on_a_laptop(compose):
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["rabbitmq"]["volumes"]}
    plugins_file = ROOT / mounts["/etc/rabbitmq/enabled_plugins"]
    assert "rabbitmq_prometheus" in plugins_file.read_text()
    assert "rabbitmq_management" in plugins_file.read_text()
    infra = (DEPLOY / "local" / "ensure-infra.sh").read_text()
    assert re.search(r"rabbitmq-plugins enable .*rabbitmq_prometheus", infra)


def test_compose_runs_pinned_prometheus_and_grafana_with_the_deploy_files(compose):
    prometheus, grafana = compose["services"]["prometheus"], compose["services"]["grafana"]
    for service in (prometheus, grafana):
        image, _, tag = service["image"].partition(":")
        assert tag and tag != "latest", f"{image} is pinned to a version"
        assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "peixun.yml")
                              .read_text())["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    source = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")
                            .read_text())["datasources"][0]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"


def test_there_is_a_peixun_dashboard_and_a_rabbitmq_one():
    assert {path.stem for path in DASHBOARDS} == {"peixun", "rabbitmq-overview"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_json_naming_only_metrics_that_exist(path):
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"]
    queries = dashboard_queries(dashboard)
    assert len(queries) >= 10
    source_uid = json.dumps(dashboard).count('"uid": "prometheus"')
    assert source_uid >= len(queries), "every panel reads the provisioned data source"
    known = _service_figure_names() | RABBITMQ_METRICS | SCRAPE_METRICS
    unknown = {expr: metric_names(expr) - known for expr in queries if metric_names(expr) - known}
    assert not unknown, f"{path.name} names metrics nobody exports: {unknown}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_queries_are_promql_that_promtool_accepts(path, tmp_path):
    queries = dashboard_queries(json.loads(path.read_text(encoding="utf-8")))
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}", "expr": grafana_to_promql(expr)}
        for i, expr in enumerate(queries)]}]}
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    checked = _promtool("check", "rules", "queries.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
