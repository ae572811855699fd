#!/bin/bash
# Healthy when the tunnel is up, dnsmasq runs and the last handshake is younger than 180 s.
ifname=${CARGO_INTERFACE:-wg0}
[ -e /run/cargo/ready ] || { echo "starting"; exit 1; }
pidof dnsmasq >/dev/null || { echo "dnsmasq not running"; exit 1; }
last=$(wg show "$ifname" latest-handshakes 2>/dev/null | awk '{print $2}' | sort -n | tail -n1)
[ -n "$last" ] && [ "$last" -gt 0 ] || { echo "no handshake yet"; exit 1; }
age=$(( $(date +%s) - last ))
[ "$age" -lt 180 ] || { echo "last handshake ${age}s ago"; exit 1; }
echo "handshake ${age}s ago"
