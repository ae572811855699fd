#!/bin/bash
# Carrier entry point: fetch the nginx config (retrying until it is served), then run nginx, the rsync daemon and
# the control endpoint (POST /reload re-fetches and reloads; SIGHUP to it does the same). Never `set -x`.
set -euo pipefail
log() { echo "carrier: $*" >&2; }

# The config comes from CARRIER_CONFIG_URL, or by default from the Operator (carrier_ctl.py: config_source).
rsync_port=${CARRIER_RSYNC_PORT:-873}
# name=path pairs separated by ';' - every module is read-only.
modules=${CARRIER_RSYNC_MODULES:-serviceaccount=/var/run/secrets/kubernetes.io/serviceaccount}

mkdir -p /run/carrier/nginx
{
  echo "# rendered by carrier-entry.sh from CARRIER_RSYNC_MODULES"
  echo "port = $rsync_port"
  echo "use chroot = yes"
  echo "uid = root"
  echo "gid = root"
  echo "read only = yes"
  echo "list = yes"
  # The modules hold the service-account token: loopback only unless widened (e.g. to Stowaway's address).
  echo "hosts allow = ${CARRIER_RSYNC_HOSTS_ALLOW:-127.0.0.1}"
  IFS=';' read -ra pairs <<<"$modules"
  for pair in "${pairs[@]}"; do
    [ -n "$pair" ] || continue
    echo "[${pair%%=*}]"
    echo "    path = ${pair#*=}"
    echo "    read only = yes"
  done
} >/run/carrier/rsyncd.conf

python3 /usr/local/lib/carrier/carrier_ctl.py fetch
pids=()
nginx -g 'daemon off;' &
pids+=($!)
rsync --daemon --no-detach --config=/run/carrier/rsyncd.conf &
pids+=($!)
python3 /usr/local/lib/carrier/carrier_ctl.py serve &
pids+=($!)
log "running (rsync on tcp/$rsync_port, control on tcp/${CARRIER_CONTROL_PORT:-10001})"

stop() { kill "${pids[@]}" 2>/dev/null || true; wait || true; exit 0; }
trap stop TERM INT
set +e
wait -n "${pids[@]}"
rc=$?
log "a daemon exited (rc $rc); stopping"
kill "${pids[@]}" 2>/dev/null
exit 1
