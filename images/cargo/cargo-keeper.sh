#!/bin/bash
# Cargo's tunnel keeper: a WireGuard tunnel gives no sign when the other end is gone (a replaced Stowaway Pod
# knows none of our sessions; a stale NAT/conntrack entry of the NodePort sends our packets to its old
# address). So it pings Stowaway's tunnel address every CARGO_PROBE_INTERVAL seconds - there is always
# something to answer - and watches the bytes that come back:
# - nothing back for CARGO_REHANDSHAKE_AFTER seconds: `wg setconf` again from the config file, which makes
#   WireGuard bind a new source port (a fresh NAT/conntrack flow to wherever the NodePort points now) and
#   start a new handshake at once; repeated every CARGO_REHANDSHAKE_AFTER seconds while it stays silent;
# - nothing back for CARGO_SILENT_AFTER seconds: the tunnel is reported silent (gefyra's status and plan).
# The report is /run/gefyra-notes/tunnel (key=value lines), which gefyra reads with Cargo's other notes.
#   cargo-keeper.sh keep          the loop (started by cargo-entry.sh, supervised like dnsmasq)
#   cargo-keeper.sh rehandshake   one re-handshake from a new source port now (gefyra's repair)
#   cargo-keeper.sh wait S N      exit 0 once there is a handshake newer than unix time S (N seconds at most)
# Never `set -x`: the config holds the private key.
set -uo pipefail

conf=${CARGO_WG_CONFIG:-/etc/gefyra/wg0.conf}
ifname=${CARGO_INTERFACE:-wg0}
run=/run/cargo
report=/run/gefyra-notes/tunnel
server=""
log() { echo "cargo: $*" >&2; }
# shellcheck source=cargo-lib.sh
source /usr/local/lib/gefyra/cargo-lib.sh

number() { # name default: a whole number from the environment, or stop with a clear message
  local value=${!1:-$2}
  [[ "$value" =~ ^[0-9]+$ ]] && (( value >= 1 )) || { log "error: $1 must be a whole number >= 1, not '$value'"; exit 1; }
  echo "$value"
}
interval=$(number CARGO_PROBE_INTERVAL 2)
rehandshake_after=$(number CARGO_REHANDSHAKE_AFTER 5)
silent_after=$(number CARGO_SILENT_AFTER 10)

port() { wg show "$ifname" listen-port 2>/dev/null || echo "?"; }
received() { wg show "$ifname" transfer 2>/dev/null | awk '{s += $2} END {print s + 0}'; }
handshake() { wg show "$ifname" latest-handshakes 2>/dev/null | awk '$2 > m {m = $2} END {print m + 0}'; }

rehandshake() {
  # One at a time (the loop and gefyra's exec may meet). The stripped copy holds the private key: mode 600,
  # removed right after; wg's messages quote values, so they are not shown.
  (
    flock -w 10 9 || exit 1
    umask 077
    setconf_text >"$run/rehandshake.conf" && wg setconf "$ifname" "$run/rehandshake.conf" 2>/dev/null
    rc=$?
    rm -f "$run/rehandshake.conf"
    exit $rc
  ) 9>"$run/rehandshake.lock"
}

write_report() { # state silent_s last_rx rehandshakes
  local now=$EPOCHSECONDS
  printf 'state=%s\nsilent_s=%s\nlast_rx=%s\nhandshake=%s\nrehandshakes=%s\nchecked=%s\nport=%s\nprobe=%s\n' \
    "$1" "$2" "$3" "$(handshake)" "$4" "$now" "$(port)" "$server" >"$report.new"
  # A rename within one filesystem: readers see the former report or this one, never a part ($run is a
  # tmpfs, the notes folder is not: a `mv` between them copies).
  mv -f "$report.new" "$report"
}

keep() {
  local last_rx=-1 rx seen=$EPOCHSECONDS silent state=ok reset_at=0 resets=0 before started rest
  server=${CARGO_PROBE_ADDRESS:-$(server_address "$(iface_field Address)" $(field peer allowedips | tr ',' ' '))}
  [ -n "$server" ] || { log "error: no tunnel address of Stowaway to probe (set CARGO_PROBE_ADDRESS)"; exit 1; }
  log "keeper: probing $server every ${interval}s; re-handshake after ${rehandshake_after}s of silence"
  while true; do
    started=${EPOCHREALTIME/./}
    ping -c 1 -W 1 -n -q "$server" >/dev/null 2>&1
    rx=$(received)
    if (( last_rx >= 0 && rx > last_rx )); then  # a re-handshake resets the counter: only growth counts
      if [ "$state" != ok ] || (( resets > 0 )); then
        log "keeper: tunnel answers again after $(( EPOCHSECONDS - seen ))s of silence ($resets re-handshakes)"
      fi
      seen=$EPOCHSECONDS state=ok resets=0
    fi
    last_rx=$rx
    silent=$(( EPOCHSECONDS - seen ))
    if (( silent >= silent_after )) && [ "$state" = ok ]; then
      state=silent
      log "keeper: tunnel silent for ${silent}s: nothing came back from Stowaway ($server)"
    fi
    if (( silent >= rehandshake_after && EPOCHSECONDS - reset_at >= rehandshake_after )); then
      before=$(port)
      if rehandshake; then
        resets=$(( resets + 1 ))
        log "keeper: silent for ${silent}s: new handshake from a new source port ($before -> $(port))"
      else
        log "keeper: re-handshake failed (wg setconf; message not shown: it quotes the config)"
      fi
      reset_at=$EPOCHSECONDS last_rx=$(received)
    fi
    write_report "$state" "$silent" "$seen" "$resets"
    # One probe per interval, however long this round took (a lost ping waits 1 s).
    rest=$(( interval * 1000000 - (${EPOCHREALTIME/./} - started) ))
    (( rest > 0 )) && sleep "$(( rest / 1000000 )).$(printf '%06d' $(( rest % 1000000 )))"
  done
}

# A handshake newer than $1 (unix time) within $2 seconds, once the entry point is ready: one `docker exec`
# instead of gefyra polling from outside (each poll costs a few engine calls).
wait_handshake() {
  [[ "${1:-}" =~ ^[0-9]+$ && "${2:-}" =~ ^[0-9]+$ ]] || { echo "usage: $0 wait SINCE SECONDS" >&2; exit 2; }
  local until=$(( EPOCHSECONDS + $2 ))
  while (( EPOCHSECONDS < until )); do
    [ -e "$run/ready" ] && (( $(handshake) > $1 )) && exit 0
    sleep 0.05
  done
  exit 1
}

case "${1:-}" in
  keep) keep ;;
  rehandshake)
    # Never `wg` before the entry point is ready: wireguard-go may not listen yet (docs/dataplane.md).
    [ -e "$run/ready" ] || { log "re-handshake failed: Cargo is still starting"; exit 1; }
    rehandshake || { log "re-handshake failed"; exit 1; }; echo "port $(port)" ;;
  wait) wait_handshake "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 keep|rehandshake|wait SINCE SECONDS" >&2; exit 2 ;;
esac
