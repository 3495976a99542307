#!/usr/bin/env bash
# Configures and builds Cine into ./build (warnings are errors here, so the build stays clean).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCINE_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
