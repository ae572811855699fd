#!/bin/bash
# Stowaway entry point: WireGuard server (kernel module when present, else wireguard-go), forwarding with
# MASQUERADE into the cluster network, nginx for proxy routes, then the control API which restores stored peers.
# Keys live only in files of mode 600 under the state directory; nothing here prints them. Never `set -x`.
set -euo pipefail

ifname=${STOWAWAY_INTERFACE:-wg0}
state=${STOWAWAY_STATE:-/var/lib/stowaway}
subnet=${STOWAWAY_SUBNET:-100.87.0.0/24}
port=${STOWAWAY_LISTEN_PORT:-51820}
mtu=${STOWAWAY_MTU:-1420}
log() { echo "stowaway: $*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=../shared/wg-up.sh
source /usr/local/lib/gefyra/wg-up.sh

umask 077
mkdir -p "$state/peers" "$state/routes"
[ -s "$state/server.key" ] || wg genkey >"$state/server.key"

if [ "$mtu" = "auto" ]; then
  dev=$(ip -4 route show default | awk '{for(i=1;i<NF;i++) if($i=="dev") print $(i+1)}' | head -n1)
  mtu=$(( $(cat "/sys/class/net/$dev/mtu") - 80 ))
fi
export STOWAWAY_MTU=$mtu

pids=()
wg_up "$ifname" STOWAWAY_GOMAXPROCS
# wg's error messages quote the offending value (here: the server's private key): keep them out of the logs.
wg set "$ifname" listen-port "$port" private-key "$state/server.key" 2>/dev/null \
  || die "wg set failed: $state/server.key is not a valid WireGuard private key or the port $port is unusable (wg's message not shown: it quotes the key)"
# The server takes the first address of the tunnel subnet.
# The tunnel subnet must not overlap a network Stowaway is attached to: replies would never enter the tunnel.
connected=$(ip -4 -o address show | awk '{print $4}' | tr '\n' ' ')
server_ip=$(python3 - "$subnet" $connected <<'PY'
import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
for other in sys.argv[2:]:
    if ipaddress.ip_interface(other).network.overlaps(net):
        sys.exit(f"tunnel subnet {net} overlaps {other}: set STOWAWAY_SUBNET")
print(f"{next(net.hosts())}/{net.prefixlen}")
PY
) || die "bad tunnel subnet"
ip -4 address add "$server_ip" dev "$ifname"
ip link set dev "$ifname" mtu "$mtu" up
log "tunnel $ifname up on udp/$port ($server_ip, mtu $mtu)"

if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
  echo 1 >/proc/sys/net/ipv4/ip_forward 2>/dev/null || die "IP forwarding is off; run with --sysctl net.ipv4.ip_forward=1"
fi
iptables -t nat -A POSTROUTING -s "$subnet" ! -o "$ifname" -j MASQUERADE
iptables -t mangle -A FORWARD -o "$ifname" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
iptables -t mangle -A FORWARD -i "$ifname" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu

nginx -g 'daemon off;' &
pids+=($!)
python3 /usr/local/lib/stowaway/stowaway_api.py &
pids+=($!)

stop() { kill "${pids[@]}" 2>/dev/null || true; wait || true; exit 0; }
trap stop TERM INT
set +e
wait -n "${pids[@]}"
rc=$?
log "a daemon exited (rc $rc); stopping"
kill "${pids[@]}" 2>/dev/null
exit 1
