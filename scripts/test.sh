#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (ctest + doctest), headless; then a short run of
# every fuzzer (scripts/fuzz.sh, clang + libFuzzer) and the whole suite again under ASan + UBSan +
# LeakSanitizer (scripts/asan.sh). CINE_SKIP_FUZZ=1 / CINE_SKIP_ASAN=1 leave those out;
# CINE_FUZZ_SECONDS sets the time per fuzzer (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# Tests that open a window run under Xvfb (started by the test fixture); the rest use SDL's dummy
# drivers. No network but loopback is used.
(cd build && ctest --output-on-failure -j1 "$@")
if [ "${CINE_SKIP_FUZZ:-0}" != 1 ]; then
  t0=$SECONDS
  bash scripts/fuzz.sh "${CINE_FUZZ_SECONDS:-25}"
  echo "fuzzers: $((SECONDS - t0)) s"
fi
if [ "${CINE_SKIP_ASAN:-0}" != 1 ]; then
  t0=$SECONDS
  bash scripts/asan.sh "$@"
  echo "asan suite: $((SECONDS - t0)) s"
fi
