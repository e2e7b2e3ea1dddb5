"""The three-node RabbitMQ cluster for `docker compose` (deploy/docker-compose.cluster.yml on top
of docker-compose.yml), checked without Docker: the file, and the two merged as compose merges
them, hold to the Compose Specification schema, and the cluster is one (three nodes, one cookie,
each node's peers named, quorum members on every node, services that know all three)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema.validators import validator_for

from services.kit.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
MAIN_FILE = ROOT / "docker-compose.yml"
CLUSTER_FILE = ROOT / "deploy" / "docker-compose.cluster.yml"
CLUSTER_CONF = ROOT / "deploy" / "rabbitmq" / "cluster" / "rabbitmq.conf"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = ROOT / "tests" / "data" / "compose_spec.json"

NODES = ("rabbitmq", "rabbitmq-2", "rabbitmq-3")
REQUIRED_REF = re.compile(r"\$\{(?P<var>[A-Z][A-Z0-9_]*):\?[^}]+\}")


def merge(base, override, key: str = ""):
    """Compose's merge of an override file, for what these files use: mappings key by key,
    `volumes` by the path mounted in the container, any other list replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else value
        return merged
    if key == "volumes" and isinstance(base, list):
        by_target = {v.split(":")[1]: v for v in base}
        by_target.update({v.split(":")[1]: v for v in override})
        return list(by_target.values())
    return override


def settings(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def cluster_file() -> dict:
    return yaml.safe_load(CLUSTER_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def merged(cluster_file) -> dict:
    return merge(yaml.safe_load(MAIN_FILE.read_text(encoding="utf-8")), cluster_file)


def schema_errors(document: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = validator_for(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    return [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors]


def test_the_cluster_file_and_the_merged_compose_validate_against_the_schema(cluster_file,
                                                                             merged):
    assert not schema_errors(cluster_file)
    assert not schema_errors(merged)


def test_three_rabbitmq_nodes_of_one_version_each_with_its_own_data_and_the_cluster_conf(merged):
    services = merged["services"]
    hostnames = {services[name]["hostname"] for name in NODES}
    assert hostnames == set(NODES)
    assert {services[name]["image"] for name in NODES} == {"rabbitmq:3.10-management"}
    data = set()
    for name in NODES:
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert mounts["/etc/rabbitmq/rabbitmq.conf"] == "./deploy/rabbitmq/cluster/rabbitmq.conf"
        assert mounts["/var/lib/rabbitmq"] in merged["volumes"]
        data.add(mounts["/var/lib/rabbitmq"])
    assert len(data) == 3, "each node keeps its data in a volume of its own"


def test_every_node_has_the_same_erlang_cookie_from_env_and_no_default(merged):
    cookies = {merged["services"][name]["environment"]["RABBITMQ_ERLANG_COOKIE"]
               for name in NODES}
    assert len(cookies) == 1
    assert REQUIRED_REF.fullmatch(cookies.pop()).group("var") == "RABBITMQ_ERLANG_COOKIE"


def test_rabbitmq_conf_names_all_three_peers_and_keeps_the_raft_wal_small():
    conf = settings(CLUSTER_CONF)
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    peers = {v for k, v in conf.items() if k.startswith("cluster_formation.classic_config.nodes.")}
    assert peers == {f"rabbit@{node}" for node in NODES}
    assert int(conf["raft.wal_max_size_bytes"]) <= 64_000_000
    assert conf["cluster_partition_handling"] == "pause_minority"
    assert not [k for k in conf if "load_definitions" in k or k.startswith("definitions.")]


def test_the_other_nodes_join_the_first_once_it_is_healthy(merged):
    for name in NODES[1:]:
        assert merged["services"][name]["depends_on"]["rabbitmq"] == {
            "condition": "service_healthy"}


def test_definitions_are_imported_once_every_node_is_in_the_cluster(merged):
    # A quorum queue's members are the nodes in the cluster when it is declared.
    depends_on = merged["services"]["rabbitmq-definitions"]["depends_on"]
    for name in NODES:
        assert depends_on[name] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", SERVICES)
def test_service_amqp_uri_names_all_three_nodes_for_failover(merged, name):
    environment = merged["services"][name]["environment"]
    uris = environment["AMQP_URI"].split(";")
    hosts = [re.fullmatch(r"amqp://peixun:\$\{RABBITMQ_PASSWORD:\?[^}]+\}@([\w-]+):5672/peixun",
                          uri).group(1) for uri in uris]
    assert hosts == list(NODES)
    assert environment[f"{name.upper()}_DATABASE_URL"].endswith(f"/peixun_{name}")


def test_env_example_lists_every_variable_the_cluster_file_requires():
    required = {m.group("var") for m in REQUIRED_REF.finditer(CLUSTER_FILE.read_text())}
    listed = {line.partition("=")[0].strip()
              for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.lstrip().startswith("#")}
    assert "RABBITMQ_ERLANG_COOKIE" in required
    assert not required - listed, f"missing from .env.example: {required - listed}"
