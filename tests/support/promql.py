"""Metric names for the deploy/ checks: which names a PromQL expression reads, which names the
services export, which RabbitMQ's rabbitmq_prometheus plugin exports, and a real Prometheus
(Debian's package) a test can start on a free port."""

import re
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")

# PromQL's aggregations, functions and keywords: words that are not metric names.
_NOT_NAMES = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "offset", "inf", "nan",
}
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:$.])([A-Za-z_:][\w:]*)\b(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (not its functions, labels, strings or ranges)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = _GROUPING.sub("", expr)
    return {name for name in _NAME.findall(expr) if name.lower() not in _NOT_NAMES}


def dashboard_queries(dashboard: dict) -> list[str]:
    """Every PromQL expression of a Grafana dashboard: its panels' (rows' too) and its
    variables' `label_values(expr, label)`."""
    queries = []

    def walk(panels):
        for panel in panels:
            queries.extend(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", text)
        if match:
            queries.append(match.group(1))
    return queries


def grafana_to_promql(expr: str) -> str:
    """A dashboard expression as plain PromQL: Grafana's variables given values."""
    expr = re.sub(r"\$__(?:rate_)?interval|\$__range", "5m", expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def exported_names(families) -> set[str]:
    """The sample names a registry's metric families expose (prometheus_client's families,
    from `collect()` or a collector's `describe()`)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
                "summary": ("_count", "_sum", ""), "gauge": ("",), "unknown": ("",),
                "info": ("_info",)}
    return {family.name + suffix for family in families for suffix in suffixes[family.type]}


# What rabbitmq_prometheus exports (RabbitMQ 3.13, compose's image), read from the plugin's
# own sources: deps/rabbitmq_prometheus/metrics.md and src/collectors/
# prometheus_rabbitmq_core_metrics_collector.erl (`rabbitmq_` on /metrics, `rabbitmq_detailed_`
# on /metrics/detailed) and prometheus_rabbitmq_alarm_metrics_collector.erl.
_RABBITMQ_CORE = """
connections_opened_total connections_closed_total channels_opened_total channels_closed_total
queues_declared_total queues_created_total queues_deleted_total
process_open_fds process_open_tcp_sockets process_resident_memory_bytes
disk_space_available_bytes erlang_processes_used erlang_gc_runs_total
erlang_gc_reclaimed_bytes_total erlang_scheduler_context_switches_total
process_max_fds process_max_tcp_sockets resident_memory_limit_bytes
disk_space_available_limit_bytes erlang_processes_limit erlang_scheduler_run_queue
erlang_net_ticktime_seconds erlang_uptime_seconds
raft_term_total raft_log_snapshot_index raft_log_last_applied_index raft_log_commit_index
raft_log_last_written_index raft_entry_commit_latency_seconds
queue_messages_ready queue_messages_unacked queue_messages queue_process_reductions_total
queue_consumers queue_consumer_capacity queue_consumer_utilisation queue_process_memory_bytes
queue_messages_ram queue_messages_ready_ram queue_messages_unacked_ram queue_messages_persistent
queue_messages_bytes queue_messages_ready_bytes queue_messages_unacked_bytes
queue_messages_paged_out queue_disk_reads_total queue_disk_writes_total
channel_consumers channel_messages_unacked channel_messages_unconfirmed
channel_messages_uncommitted channel_acks_uncommitted consumer_prefetch channel_prefetch
channel_messages_published_total channel_messages_confirmed_total
channel_messages_unroutable_returned_total channel_messages_unroutable_dropped_total
channel_process_reductions_total channel_get_ack_total channel_get_total
channel_messages_delivered_ack_total channel_messages_delivered_total
channel_messages_redelivered_total channel_messages_acked_total channel_get_empty_total
connection_incoming_bytes_total connection_outgoing_bytes_total
connection_process_reductions_total connection_incoming_packets_total
connection_outgoing_packets_total connection_pending_packets connection_channels
queue_messages_published_total
""".split()
_RABBITMQ_TOTALS = "connections channels consumers queues build_info identity_info".split()
_RABBITMQ_ALARMS = ("alarms_file_descriptor_limit alarms_free_disk_space_watermark "
                    "alarms_memory_used_watermark").split()
RABBITMQ_METRICS = frozenset(
    [f"rabbitmq_{name}" for name in _RABBITMQ_CORE + _RABBITMQ_TOTALS + _RABBITMQ_ALARMS]
    + [f"rabbitmq_detailed_{name}" for name in _RABBITMQ_CORE])
# Prometheus' own series for every target.
SCRAPE_METRICS = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})


@contextmanager
def prometheus_server(tmp_path: Path, port: int, targets: dict[str, str], interval="1s"):
    """A real Prometheus on 127.0.0.1:`port` scraping `targets` ({service: "host:port"}) as
    job `peixun`, each with its `service` label; yields its base URL."""
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [{
            "job_name": "peixun",
            "static_configs": [{"targets": [target], "labels": {"service": service}}
                               for service, target in targets.items()],
        }],
    }
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [str(PROMETHEUS), f"--config.file={config_file}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/-/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Prometheus did not start: "
                                   + (tmp_path / "prometheus.log").read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def query(base: str, promql: str) -> list[dict]:
    """An instant query's result vector."""
    answer = requests.get(f"{base}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]
