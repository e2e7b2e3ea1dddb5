#!/usr/bin/env bash
# Outside Docker (a laptop, CI): make sure the broker and, for the tests, PostgreSQL answer on
# their usual ports — installed from Debian's packages when missing, started when not answering —
# with the RabbitMQ plugins peixun uses (the management API makes the tests' vhosts).
# Usage: ensure-infra.sh rabbitmq [postgres]
set -euo pipefail

apt_install() {
  (apt-get update -qq || true)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Every quorum queue reserves file handles in RabbitMQ's file handle cache (about 18 each, DESIGN
# §3). A node started under the usual soft limit of 1,024 open files allows about 900: one run's
# sixty queues take them all, and from then on every new connection and vhost waits for a handle
# that never comes. Lift the running node's limit to its hard limit and tell the cache (Docker's
# image starts with a high limit already).
raise_file_limit() {
  local pid hard
  pid=$(rabbitmqctl -q eval 'list_to_integer(os:getpid()).')
  hard=$(runuser -u rabbitmq -- sh -c 'ulimit -Hn')
  [ "$hard" = unlimited ] && hard=65536
  runuser -u rabbitmq -- prlimit --pid "$pid" --nofile="$hard:$hard" ||
    echo "could not raise RabbitMQ's open-file limit; quorum queues may exhaust it" >&2
  rabbitmqctl -q eval "file_handle_cache:set_limit($(grep -E '^Max open files' \
    "/proc/$pid/limits" | awk '{print $4}') - 100)." >/dev/null
}

ensure_rabbitmq() {
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  if ! rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; then
    echo "starting RabbitMQ" >&2
    rabbitmq-server -detached
    for _ in $(seq 90); do
      rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  rabbitmq-plugins enable --quiet rabbitmq_management rabbitmq_prometheus >/dev/null
  raise_file_limit
  for _ in $(seq 60); do
    curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null && return 0
    sleep 1
  done
  echo "RabbitMQ's management API on 127.0.0.1:15672 did not answer" >&2
  return 1
}

ensure_postgres() {
  local version
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
    # A cluster installed here for tests only: local connections as postgres, no password.
    version=$(ls /etc/postgresql | sort -n | tail -1)
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' \
      "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 && return 0
  version=$(ls /etc/postgresql | sort -n | tail -1)
  echo "starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  echo "PostgreSQL on 127.0.0.1:5432 did not answer" >&2
  return 1
}

for what in "$@"; do
  case "$what" in
    rabbitmq) ensure_rabbitmq ;;
    postgres) ensure_postgres ;;
    *) echo "ensure-infra.sh: unknown service $what (rabbitmq, postgres)" >&2; exit 2 ;;
  esac
done
