#!/usr/bin/env bash
# What a fresh machine adds to the demo, measured piece by piece on a machine that is not fresh: the apt
# packages (installed in a bookworm container), the dev extra into a new venv without pip's cache, the
# Operator's wheels, the base image by debootstrap (under a throwaway tag), the data-plane and example images
# without Docker's build cache. Prints one line per piece; removes what it made (tags gefyra-fresh-probe:*).
#   bash scripts/fresh-cost.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
logs=$(mktemp -d /var/tmp/gefyra-fresh.XXXXXX)
timed() { # name command...
  local name=$1 start rc; shift
  start=$(date +%s.%N)
  "$@" >"$logs/$name.log" 2>&1; rc=$?
  printf '%-10s %6.1f s%s\n' "$name" "$(echo "$(date +%s.%N) - $start" | bc)" "$([ $rc = 0 ] || echo "  FAILED (rc $rc, $logs/$name.log)")"
}
apt_step() { docker run --rm debian:bookworm-slim bash -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io iptables iproute2 conntrack debootstrap wireguard-tools wireguard-go rsync curl openssl make python3-pip python3-venv'; }
pip_step() { python3 -m venv "$logs/venv" && "$logs/venv/bin/pip" install -q --no-cache-dir -e "$repo[dev]"; }
wheels_step() { python3 -m pip download -q --no-cache-dir --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 --platform "manylinux_2_36_$(uname -m)" --platform "manylinux_2_28_$(uname -m)" --platform "manylinux_2_17_$(uname -m)" --platform "manylinux2014_$(uname -m)" --platform any -d "$logs/wheels" -r "$repo/images/operator/requirements.txt"; }
base_step() { GEFYRA_BASE_TAG=gefyra-fresh-probe:base bash "$repo/images/base/build.sh"; }
images_step() {
  for n in cargo stowaway; do docker build -q --no-cache -f "$repo/images/$n/Dockerfile" -t "gefyra-fresh-probe:$n" "$repo/images" || return 1; done
  docker build -q --no-cache -t gefyra-fresh-probe:carrier "$repo/images/carrier" || return 1
  bash "$repo/images/operator/prepare.sh" && docker build -q --no-cache -t gefyra-fresh-probe:operator "$repo/images/operator"
}
shop_step() { for n in backend frontend prices; do docker build -q --no-cache -t "gefyra-fresh-probe:shop-$n" "$repo/examples/shop/$n" || return 1; done; }
timed apt apt_step
timed pip pip_step
timed wheels wheels_step
timed base base_step
timed images images_step
timed shop shop_step
docker images --format '{{.Repository}}:{{.Tag}}' | grep '^gefyra-fresh-probe:' | xargs -r docker rmi -f >/dev/null
rm -rf "$logs/venv" "$logs/wheels"
