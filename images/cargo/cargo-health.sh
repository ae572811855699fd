#!/bin/bash
# Healthy when Cargo's own parts work: the tunnel interface exists and is UP, dnsmasq runs and the tunnel
# keeper reports. Whether Stowaway answers is not Cargo's health (replacing Cargo would not make it answer):
# the keeper re-handshakes on its own and reports a silent tunnel in /run/gefyra-notes/tunnel, which gefyra
# shows as drift (`gefyra status`, `plan`).
ifname=${CARGO_INTERFACE:-wg0}
report=/run/gefyra-notes/tunnel
[ -e /run/cargo/ready ] || { echo "starting"; exit 1; }
pidof dnsmasq >/dev/null || { echo "dnsmasq not running"; exit 1; }
# A recent handshake says nothing about the link: `ip link set wg0 down` keeps it but routes nothing.
ip link show "$ifname" 2>/dev/null | head -n1 | grep -qE '[<,]UP[,>]' || { echo "interface $ifname is not up"; exit 1; }
checked=$(sed -n 's/^checked=//p' "$report" 2>/dev/null)
[ -n "$checked" ] || { echo "tunnel keeper has not reported yet"; exit 1; }
age=$(( EPOCHSECONDS - checked ))
# The keeper reports every few seconds (a probe waits 1 s at most); a minute without one: it hangs.
[ "$age" -lt 60 ] || { echo "tunnel keeper has not reported for ${age}s"; exit 1; }
state=$(sed -n 's/^state=//p' "$report")
silent=$(sed -n 's/^silent_s=//p' "$report")
echo "tunnel ${state:-?} (last answer ${silent:-?}s ago)"
