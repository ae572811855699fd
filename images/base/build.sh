#!/usr/bin/env bash
# Build a local `debian:bookworm-slim` when that tag is missing, so the Dockerfiles under images/
# stay ordinary `FROM debian:bookworm-slim` files here (no registry) and elsewhere (pulled as usual).
# debootstrap (minbase) + `docker import`; idempotent; nothing is rebuilt when the tag exists.
set -euo pipefail

tag=${GEFYRA_BASE_TAG:-debian:bookworm-slim}
mirror=${GEFYRA_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image: $tag present"
  exit 0
fi
if docker pull -q "$tag" >/dev/null 2>&1; then
  echo "base image: $tag pulled"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
    apt-get update -q
  fi
  apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

root=$(mktemp -d /var/tmp/gefyra-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "base image: debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Slim it like the official -slim image: no docs, man pages or apt lists; keep apt working.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/* \
       "$root"/usr/share/info/* "$root"/var/log/*.log
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
tar -C "$root" -c . | docker import \
  --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --message "gefyra offline base (debootstrap minbase bookworm)" - "$tag" >/dev/null
echo "base image: $tag built"
