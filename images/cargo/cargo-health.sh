#!/bin/bash
# Healthy when the tunnel interface exists and is UP, dnsmasq runs and the last handshake is younger than 180 s.
ifname=${CARGO_INTERFACE:-wg0}
[ -e /run/cargo/ready ] || { echo "starting"; exit 1; }
pidof dnsmasq >/dev/null || { echo "dnsmasq not running"; exit 1; }
# A recent handshake says nothing about the link: `ip link set wg0 down` keeps it but routes nothing.
ip link show "$ifname" 2>/dev/null | head -n1 | grep -qE '[<,]UP[,>]' || { echo "interface $ifname is not up"; exit 1; }
last=$(wg show "$ifname" latest-handshakes 2>/dev/null | awk '{print $2}' | sort -n | tail -n1)
[ -n "$last" ] && [ "$last" -gt 0 ] || { echo "no handshake yet"; exit 1; }
age=$(( $(date +%s) - last ))
[ "$age" -lt 180 ] || { echo "last handshake ${age}s ago"; exit 1; }
echo "handshake ${age}s ago"
