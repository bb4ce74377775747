#!/bin/sh
# Run every libFuzzer target for SECONDS each (default 60) and fail on any crash,
# leak, sanitizer report or timeout. Prints one line per target:
#   fuzz <target>: OK <runs> runs in <s> s (<runs/s>/s), corpus <n> inputs, cov <edges>
#   fuzz <target>: FAILED (exit <rc>), log: <file>
#
# Configures its own build dir (CC=clang, -Dfuzzing=enabled, everything heavy off)
# so the plain build is never touched:  $EDGEFAAS_FUZZ_BUILD_DIR or <src>/build-fuzz.
# The committed seeds (tests/fuzz/corpus/<target>/) are read, never written: new
# inputs found in this run go to a temporary directory that is removed afterwards
# (kept when a target failed, with its crash reproducer in the log directory).
set -u

SECONDS_PER_TARGET=${1:-60}
case "$SECONDS_PER_TARGET" in
  ''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${EDGEFAAS_FUZZ_BUILD_DIR:-$SRC/build-fuzz}
TARGETS="frame_event detection_event frameref spool_record"

command -v clang >/dev/null 2>&1 || { echo "fuzz: FAILED, clang not found (scripts/deps.txt)" >&2; exit 1; }

OPTS="-Dfuzzing=enabled -Dtests=enabled -Damqp=disabled -Dopencv=disabled -Ddarknet=disabled -Db_lundef=false"
if [ ! -f "$BUILD/build.ninja" ]; then
  # shellcheck disable=SC2086
  CC=clang meson setup "$BUILD" "$SRC" $OPTS >"$BUILD.setup.log" 2>&1 || {
      echo "fuzz: FAILED to configure $BUILD (see $BUILD.setup.log)" >&2; exit 1; }
else
  # an existing dir: make sure the options are ours (it must have been set up with clang)
  # shellcheck disable=SC2086
  meson configure "$BUILD" $OPTS >"$BUILD.setup.log" 2>&1 || {
      echo "fuzz: FAILED to reconfigure $BUILD (see $BUILD.setup.log)" >&2; exit 1; }
  grep -q "\"clang " "$BUILD/compile_commands.json" || {
      echo "fuzz: FAILED, $BUILD was not configured with clang (remove it)" >&2; exit 1; }
fi

exes=""
for t in $TARGETS; do exes="$exes tests/fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
ninja -C "$BUILD" -j2 $exes >"$BUILD/fuzz-build.log" 2>&1 || {
  tail -30 "$BUILD/fuzz-build.log" >&2
  echo "fuzz: FAILED to build the targets (see $BUILD/fuzz-build.log)" >&2; exit 1; }

LOGDIR="$BUILD/fuzz-logs"
mkdir -p "$LOGDIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgefaas-fuzz-XXXXXX")
failed=0

for t in $TARGETS; do
  exe="$BUILD/tests/fuzz/fuzz_$t"
  seeds="$SRC/tests/fuzz/corpus/$t"
  log="$LOGDIR/$t.log"
  if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    echo "fuzz $t: FAILED, no seed corpus in $seeds"
    failed=1
    continue
  fi
  mkdir -p "$WORK/$t"
  case $t in frameref) dict="$SRC/tests/fuzz/frameref.dict" ;; *) dict="$SRC/tests/fuzz/events.dict" ;; esac
  # -timeout: one input taking > 10 s is a failure; -rss_limit_mb bounds memory.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$exe" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -dict="$dict" -print_final_stats=1 -artifact_prefix="$LOGDIR/$t-" \
      "$WORK/$t" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$WORK/$t" | wc -l)
  if [ $rc -eq 0 ] && [ -n "$runs" ]; then
    rate=$(awk -v r="$runs" -v s="${secs:-0}" 'BEGIN { if (s > 0) printf "%d", r / s; else print "n/a" }')
    echo "fuzz $t: OK $runs runs in ${secs:-?} s (${rate}/s), corpus $corpus new inputs, cov ${cov:-?}"
  else
    echo "fuzz $t: FAILED (exit $rc), log: $log"
    grep -m3 -E 'ERROR|ESCAPE|round trip|re-parse|SUMMARY' "$log" | sed 's/^/    /'
    failed=1
  fi
done

if [ $failed -eq 0 ]; then
  rm -rf "$WORK"
else
  echo "fuzz: new corpus kept in $WORK"
fi
exit $failed
