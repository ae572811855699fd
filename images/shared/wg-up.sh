# Sourced by the entry points of Cargo and Stowaway (installed as /usr/local/lib/gefyra/wg-up.sh): bring up
# WireGuard interface $1 with the kernel module when present, else with wireguard-go. $2 names the variable
# that overrides wireguard-go's GOMAXPROCS (CARGO_GOMAXPROCS, STOWAWAY_GOMAXPROCS). The caller defines
# `log` and `die` and an array `pids`, to which the wireguard-go process is added.
wg_up() {
  local ifname=$1 procs_var=$2 procs
  if ip link add "$ifname" type wireguard 2>/dev/null; then
    log "using the kernel WireGuard module"
    return 0
  fi
  log "using wireguard-go (userspace)"
  # Go runtime of wireguard-go: half the CPUs this container may use, at least 1 ($procs_var overrides).
  # On a machine that also runs the traffic's other end (apps, the peer, the kernel's forwarding), one P per
  # CPU lets idle Ps spin and bounce goroutines between CPUs; on 2 CPUs one P moved 20-30 % more
  # (docs/dataplane.md).
  procs=${!procs_var:-$(( $(nproc) / 2 ))}
  [[ "$procs" =~ ^[0-9]+$ ]] || die "$procs_var must be a whole number, not '$procs'"
  (( procs >= 1 )) || procs=1
  log "wireguard-go with GOMAXPROCS=$procs"
  # A SIGKILLed wireguard-go leaves its socket in the container layer: without this, the wait below would
  # pass at once and `wg` would talk to a dead socket after `docker kill` + `docker start`.
  rm -f "/var/run/wireguard/$ifname.sock"
  GOMAXPROCS=$procs WG_PROCESS_FOREGROUND=1 wireguard-go "$ifname" >/dev/null 2>&1 &
  pids+=($!)
  # Wait until the control socket is *listening*, not merely present: wireguard-go binds the path before it
  # listens, and a `wg` that connects in between is refused, unlinks the socket and falls back to the kernel
  # ("Protocol not supported"). `ss` only reads, so the wait itself cannot cause that.
  local sock="/var/run/wireguard/$ifname.sock"
  for _ in $(seq 200); do wg_listening "$sock" && return 0; sleep 0.05; done
  die "wireguard-go did not start within 10 s (is /dev/net/tun passed in?)"
}

# True when a Unix socket at path $1 is in LISTEN state.
wg_listening() {
  ss -Hxl 2>/dev/null | grep -qF " $1 "
}
