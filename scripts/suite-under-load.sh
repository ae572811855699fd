#!/usr/bin/env bash
# The whole test suite ROUNDS times in a row (default 3) while a second copy of it runs on the same Docker engine.
#
#   bash scripts/suite-under-load.sh [ROUNDS] [-- PYTEST ARGS]
#
# The second copy is a clone of HEAD in a temporary folder, run in a loop until the last round here has ended; it is
# then stopped with SIGINT (pytest runs its fixture teardowns) and waited for. Prints one line per round of each copy
# and exits non-zero when any round of either copy failed. Logs: $GEFYRA_LOAD_LOGS (default a folder under /var/tmp).
set -euo pipefail
rounds=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then rounds=$1; shift; fi
[ "${1:-}" = "--" ] && shift
pytest_args=("$@")

top=$(git rev-parse --show-toplevel)
logs=${GEFYRA_LOAD_LOGS:-$(mktemp -d /var/tmp/gefyra-load.XXXXXX)}
copy="$logs/copy"
mkdir -p "$logs"
rm -rf "$copy"
git clone -q "$top" "$copy"
echo "suite-under-load: $rounds round(s) in $top, a second copy in $copy; logs in $logs"

run_suite() { # folder log -> pytest's exit code
  (cd "$1" && PYTHONPATH="$1" python3 -m pytest -q -p no:cacheprovider "${pytest_args[@]}" >"$2" 2>&1)
}

summary() { tail -n 1 "$1" | tr -d '='; }

stop_file="$logs/stop"
rm -f "$stop_file"
(
  n=0
  while [ ! -e "$stop_file" ]; do
    n=$((n + 1))
    (cd "$copy" && exec env PYTHONPATH="$copy" python3 -m pytest -q -p no:cacheprovider "${pytest_args[@]}") \
      >"$logs/copy-$n.log" 2>&1 &
    echo $! >"$logs/copy.pid"
    set +e
    wait $!
    rc=$?
    set -e
    if [ -e "$stop_file" ] && [ $rc -ne 0 ]; then
      echo "copy round $n: stopped early ($(summary "$logs/copy-$n.log"))"
      break
    fi
    echo "copy round $n: rc=$rc ($(summary "$logs/copy-$n.log"))"
    echo "$rc" >"$logs/copy-$n.rc"
  done
) &
background=$!

failed=0
for n in $(seq 1 "$rounds"); do
  set +e
  run_suite "$top" "$logs/main-$n.log"
  rc=$?
  set -e
  echo "main round $n: rc=$rc ($(summary "$logs/main-$n.log"))"
  [ $rc -eq 0 ] || failed=1
done

touch "$stop_file"
kill -INT "$(cat "$logs/copy.pid")" 2>/dev/null || true  # pytest runs its teardowns on SIGINT
wait "$background" || true
for rc_file in "$logs"/copy-*.rc; do
  [ -e "$rc_file" ] || continue
  [ "$(cat "$rc_file")" = "0" ] || failed=1
done
if [ $failed -eq 0 ]; then echo "suite-under-load: every round passed"; else echo "suite-under-load: FAILED"; fi
exit $failed
