#!/usr/bin/env bash
# The main job: install, build, then run `cine demo` (a loopback swarm streams a sample clip).
# Opens a window when a display exists, else plays headless and prints progress.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/cine demo "$@"
