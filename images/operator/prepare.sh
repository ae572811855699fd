#!/bin/bash
# Fill images/operator/build/ (gitignored) before `docker build`: wheels of the Python packages Debian lacks,
# downloaded on the host with pip (for CPython 3.11 on this machine's architecture, as bookworm's python3), and
# a copy of the Operator's code plus the pure gefyra modules it imports. The build itself fetches nothing but
# Debian packages. Wheels are downloaded again only when requirements.txt changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$here/build
arch=$(uname -m)
stamp=$(cat "$here/requirements.txt" | sha256sum | cut -c1-16)-$arch

if [ "$(cat "$build/wheels/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$build/wheels"
  mkdir -p "$build/wheels"
  python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 \
    --platform "manylinux_2_36_$arch" --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" \
    --platform "manylinux2014_$arch" --platform any \
    -d "$build/wheels" -r "$here/requirements.txt"
  echo "$stamp" >"$build/wheels/.stamp"
fi

rm -rf "$build/src"
mkdir -p "$build/src/gefyra"
cp -r "$repo/operator/gefyra_operator" "$build/src/"
cp "$repo/gefyra/__init__.py" "$repo/gefyra/errors.py" "$build/src/gefyra/"
cp -r "$repo/gefyra/cluster" "$repo/gefyra/dataplane" "$repo/gefyra/stowaway" "$build/src/gefyra/"
find "$build/src" -name __pycache__ -prune -exec rm -rf {} +
echo "$build"
