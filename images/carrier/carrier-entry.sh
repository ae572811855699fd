#!/bin/bash
# Carrier entry point: fetch the nginx config (retrying until it is served), then run nginx, the rsync daemon and
# the control endpoint (POST /reload re-fetches and reloads; SIGHUP to it does the same). Never `set -x`.
set -euo pipefail
log() { echo "carrier: $*" >&2; }

# The config comes from CARRIER_CONFIG_URL, or by default from the Operator (carrier_ctl.py: config_source);
# carrier_ctl.py also writes the rsync daemon's config (/run/carrier/rsyncd.conf; `hosts allow` from the
# fetched config, else CARRIER_RSYNC_HOSTS_ALLOW, else 127.0.0.1).
rsync_port=${CARRIER_RSYNC_PORT:-873}
mkdir -p /run/carrier/nginx
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
