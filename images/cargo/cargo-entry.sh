#!/bin/bash
# Cargo entry point: WireGuard client (kernel module when present, else wireguard-go), IP forwarding with
# MASQUERADE toward the tunnel, and dnsmasq forwarding every query to the cluster DNS through the tunnel.
# The WireGuard config is a mounted wg-quick style file (mode 600); it is never printed. Never `set -x` here.
set -euo pipefail

conf=${CARGO_WG_CONFIG:-/etc/gefyra/wg0.conf}
ifname=${CARGO_INTERFACE:-wg0}
run=/run/cargo
log() { echo "cargo: $*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=../shared/wg-up.sh
source /usr/local/lib/gefyra/wg-up.sh
# shellcheck source=cargo-lib.sh
source /usr/local/lib/gefyra/cargo-lib.sh

[ -r "$conf" ] || die "WireGuard config $conf is not mounted"
# The config holds the private key: refuse one that others than its owner may read or write.
conf_mode=$(stat -L -c %a "$conf")
(( (8#$conf_mode & 8#077) == 0 )) || die "WireGuard config $conf has mode $conf_mode; it holds the private key and must be mode 600 (or tighter)"
mkdir -p "$run" && chmod 700 "$run"
# The stripped copy for `wg setconf` holds the private key: gone on every exit (a failed setconf included).
trap 'rm -f "$run/setconf"' EXIT
# gefyra mounts a tmpfs on $run and /run/wireguard (empty on every start); without one (a container made by
# hand) a restarted container keeps /run: the marker must mean "this start", and a copy left by a SIGKILL goes.
rm -f "$run/ready" "$run/setconf"

key_name() { case $1 in privatekey) echo PrivateKey ;; publickey) echo PublicKey ;; *) echo PresharedKey ;; esac; }
# wg quotes values as `value': keep what precedes the quote; blank anything key-like that is left.
redact_wg() { printf '%s\n' "$1" | sed -E "s/[\`'].*//; s/[A-Za-z0-9+\/]{20,}=*/<redacted>/g; s/:?[[:space:]]*\$//" | paste -sd ';' -; }
address=$(iface_field Address)
dns=$(iface_field DNS)
mtu=${CARGO_MTU:-$(iface_field MTU)}
mtu=${mtu:-1420}
[ -n "$address" ] || die "[Interface] Address missing in the config"
[ -n "$dns" ] || die "[Interface] DNS missing in the config"
allowed=$(field peer allowedips | tr ',' ' ')
endpoint_host=$(field peer endpoint | head -n1 | sed 's/:[0-9]*$//; s/^\[//; s/\]$//')

# Network safety: every tunnelled range gets a blackhole route under its tunnel route (higher metric), first
# thing. Before the tunnel is up, while wg0 is down or after wireguard-go died, a packet for the cluster (an
# app's, or dnsmasq's query to the cluster DNS) is dropped here instead of leaving through Docker's bridge.
for cidr in $allowed; do ip -4 route replace blackhole "$cidr" metric 4242; done

# Network safety: what comes out of the tunnel is forwarded to the project network only (the subnets of the
# interface holding the default route, eth0), never through Docker's gateway to the host's LAN or elsewhere.
uplink=$(ip -4 route show default | awk '{for(i=1;i<NF;i++) if($i=="dev") print $(i+1)}' | head -n1)
[ -n "$uplink" ] || die "no default route: Cargo must sit on the project network"
project_nets=$(ip -4 -o route show dev "$uplink" proto kernel scope link | awk '{print $1}')
[ -n "$project_nets" ] || die "no subnet on $uplink: Cargo must sit on the project network"
# The endpoint itself may lie in a tunnelled range (a node address inside the Pod range, as in the test
# sandbox): keep it on the uplink with a host route (more specific than the blackhole and the tunnel
# route), or the tunnel's own packets would enter the tunnel.
if endpoint_in_tunnel "$endpoint_host" $allowed; then
  gateway=$(ip -4 route show default | awk '{for(i=1;i<NF;i++) if($i=="via") print $(i+1)}' | head -n1)
  ip -4 route replace "$endpoint_host/32" via "$gateway" dev "$uplink"
  log "endpoint $endpoint_host lies in a tunnelled range: kept on $uplink"
fi
iptables -N CARGO-FROM-TUNNEL
for net in $project_nets; do iptables -A CARGO-FROM-TUNNEL -o "$uplink" -d "$net" -j RETURN; done
iptables -A CARGO-FROM-TUNNEL -j DROP
iptables -I FORWARD 1 -i "$ifname" -j CARGO-FROM-TUNNEL

# The stripped config holds the private key: write it with mode 600 before the content goes in.
umask 077
setconf_text >"$run/setconf"

if [ "$mtu" = "auto" ]; then
  dev=$(ip -4 route get "$endpoint_host" | awk '{for(i=1;i<NF;i++) if($i=="dev") print $(i+1)}' | head -n1)
  mtu=$(( $(cat "/sys/class/net/$dev/mtu") - 80 ))
fi

pids=()
wg_up "$ifname" CARGO_GOMAXPROCS
# wg's error messages quote the offending value (a key, say): never let them reach the logs, which end up
# in user-visible errors. Name the malformed key field instead; otherwise pass wg's message with values cut.
wg_error=$(wg setconf "$ifname" "$run/setconf" 2>&1 >/dev/null) || {
  for key in privatekey publickey presharedkey; do  # 32 bytes in base64: the last digit carries 4 bits
    field "" "$key" | grep -qvE '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$' \
      && die "$(key_name "$key") in the WireGuard config is not a valid key (44 characters of base64); value not shown"
  done
  die "wg setconf rejected the WireGuard config: $(redact_wg "$wg_error") (values not shown)"
}
rm -f "$run/setconf"
ip -4 address add "$address" dev "$ifname"
ip link set dev "$ifname" mtu "$mtu" up
for cidr in $allowed; do ip -4 route replace "$cidr" dev "$ifname"; done
log "tunnel $ifname up (mtu $mtu, routes: ${allowed})"

if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
  echo 1 >/proc/sys/net/ipv4/ip_forward 2>/dev/null || die "IP forwarding is off; run with --sysctl net.ipv4.ip_forward=1"
fi
iptables -t nat -A POSTROUTING -o "$ifname" -j MASQUERADE
# App containers keep MTU 1500: clamp TCP MSS so their connections fit the tunnel without fragmentation.
iptables -t mangle -A FORWARD -o "$ifname" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
iptables -t mangle -A FORWARD -i "$ifname" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu

# A constant DNS address on Cargo (default 100.87.255.53): app containers name it before Cargo or its subnet
# exist; their default route (Cargo) brings the queries here. Local delivery wins over every route.
dns_address=${CARGO_DNS_ADDRESS:-100.87.255.53}
ip -4 address add "$dns_address/32" dev lo

dns_args=()
for server in ${dns//,/ }; do dns_args+=("--server=$server"); done
dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --except-interface="$ifname" \
  --user=root --cache-size=1000 --log-facility=- "${dns_args[@]}" &
pids+=($!)
log "dnsmasq forwarding to ${dns}"
# The keeper pings Stowaway through the tunnel, re-handshakes from a new source port when nothing comes back
# and reports the tunnel's state (cargo-keeper.sh); supervised like dnsmasq.
rm -f /run/gefyra-notes/tunnel
/usr/local/bin/cargo-keeper.sh keep &
pids+=($!)
touch "$run/ready"

stop() { kill "${pids[@]}" 2>/dev/null || true; wait || true; exit 0; }
trap stop TERM INT
# Exit (and let the engine restart or report us) as soon as one of the daemons dies.
set +e
wait -n "${pids[@]}"
rc=$?
log "a daemon exited (rc $rc); stopping"
kill "${pids[@]}" 2>/dev/null
exit 1
