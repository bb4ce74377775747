#!/usr/bin/env bash
# The whole edgefaas test suite -- the README's test command.
# On a fresh Debian 12 machine as root it installs what it needs first.
#
#   1. build/       plain build; suites unit, integration (real RabbitMQ), e2e, then
#                   containers (images built and run with podman, ~12 min)
#   2. build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer, leak detection
#                   on; suites unit and integration
#   3. fuzz         libFuzzer targets for the event parser and frame-reference
#                   resolver, bounded time (EDGEFAAS_FUZZ_SECONDS, default 60)
#
# Ends with one line "N passed, N failed[, N skipped]" (scripts/test-summary.py).
# A skipped test counts against the run: a test that cannot run must fail loudly.
# Set EDGEFAAS_SKIP_ASAN=1 / EDGEFAAS_SKIP_FUZZ=1 / EDGEFAAS_SKIP_CONTAINERS=1 to
# shorten a local run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh || exit 1
if [ -x scripts/install-node-tools.sh ]; then scripts/install-node-tools.sh || exit 1; fi

jobs=$(nproc)
features=(-Damqp=enabled -Dopencv=enabled -Ddarknet=enabled -Dtests=enabled)
status=0
results=()

configure() {   # configure DIR [meson args...]: set up once, reconfigure afterwards
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" > /dev/null
  else
    meson setup "$dir" "$@"
  fi
}

echo "== plain build and tests (build/)"
if configure build "${features[@]}" && ninja -C build -j "$jobs"; then
  meson test -C build --suite unit --suite integration --suite e2e \
    --print-errorlogs --num-processes 2 || status=1
  results+=(build/meson-logs/testlog.json)
else
  echo "BUILD FAILED (build/)"; status=1
  results+=(build-failed:plain)
fi

if [ "${EDGEFAAS_SKIP_CONTAINERS:-0}" != 1 ]; then
  # Suite `containers` (tests/containers/run-containers-test.sh): both images built
  # from a clean podman store and run as a cluster would; needs root and Debian's mirror.
  echo "== container images (suite containers)"
  if [ -f build/build.ninja ] && scripts/install-deps.sh containers; then
    meson test -C build --suite containers --logbase containers-testlog \
      --print-errorlogs || status=1
    results+=(build/meson-logs/containers-testlog.json)
  else
    echo "CONTAINERS SUITE NOT RUN (no build/ or scripts/install-deps.sh containers failed)"
    status=1; results+=(build-failed:containers)
  fi
fi

if [ "${EDGEFAAS_SKIP_ASAN:-0}" != 1 ]; then
  echo "== sanitizer build and tests (build-asan/)"
  if configure build-asan "${features[@]}" -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debugoptimized && ninja -C build-asan -j "$jobs"; then
    # Programs we spawn (gst-launch-1.0, gst-inspect-1.0) are not instrumented but
    # load our instrumented plugins, which pull in the sanitizer runtimes: the
    # link-order check is off for them. Plugins are scanned in-process (no
    # uninstrumented gst-plugin-scanner).
    ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1:verify_asan_link_order=0:detect_odr_violation=0" \
    LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    GST_REGISTRY_FORK=no \
      meson test -C build-asan --suite unit --suite integration \
        --print-errorlogs --num-processes 2 --timeout-multiplier 3 || status=1
    results+=(build-asan/meson-logs/testlog.json)
  else
    echo "BUILD FAILED (build-asan/)"; status=1
    results+=(build-failed:asan)
  fi
fi

if [ "${EDGEFAAS_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzzing"
  if [ -x tests/fuzz/run-fuzz.sh ]; then
    if tests/fuzz/run-fuzz.sh "${EDGEFAAS_FUZZ_SECONDS:-60}"; then
      results+=(fuzz:pass)
    else
      results+=(fuzz:fail); status=1
    fi
  else
    echo "tests/fuzz/run-fuzz.sh missing: counted as a failure"
    results+=(fuzz:fail); status=1
  fi
fi

python3 scripts/test-summary.py "${results[@]}" || status=1
exit $status
