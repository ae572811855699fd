#!/usr/bin/env bash
# Install (Debian docker.io) and start the Docker engine, idempotently.
# Honours DOCKER_HOST: when it points at a remote or non-default socket we only wait for it.
# Logs to ${GEFYRA_DOCKERD_LOG:-/var/log/gefyra-dockerd.log}.
set -euo pipefail

log=${GEFYRA_DOCKERD_LOG:-/var/log/gefyra-dockerd.log}
timeout=${GEFYRA_ENGINE_TIMEOUT:-60}

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then
  echo "docker engine: running ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker engine: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
    apt-get update -q
  fi
  apt-get install -y -q --no-install-recommends docker.io iptables >/dev/null
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
  echo "docker engine: DOCKER_HOST=${DOCKER_HOST} is set; waiting for it instead of starting a local daemon"
else
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    echo "docker engine: starting dockerd (log: $log)"
    rm -f /var/run/docker.pid
    nohup dockerd >>"$log" 2>&1 </dev/null &
  fi
fi

deadline=$((SECONDS + timeout))
until answers; do
  if [ $SECONDS -ge $deadline ]; then
    echo "docker engine: no answer after ${timeout}s; last log lines:" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
  sleep 0.3
done
echo "docker engine: running ($(docker version --format '{{.Server.Version}}'))"
