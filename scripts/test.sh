#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (ctest + doctest), headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
# Tests that open a window run under Xvfb (started by the test fixture); the rest use SDL's dummy
# drivers. No network but loopback is used.
ctest --output-on-failure -j1 "$@"
