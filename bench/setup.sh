#!/bin/sh
# Installs what bench/streaming_bench.py needs (Debian 12, as root): the tracker, the traffic
# meter, the plain-libtorrent reference, and peerflix + webtorrent-cli into bench/node_modules.
set -eu
cd "$(dirname "$0")"
apt-get update -qq
apt-get install -y -qq ffmpeg strace opentracker nftables iproute2 util-linux python3-libtorrent nodejs >/dev/null
# Debian's nodejs needs its npm package; NodeSource's nodejs brings npm itself and conflicts with it.
command -v npm >/dev/null || apt-get install -y -qq npm >/dev/null
# .npmrc sets ignore-scripts (see there); package.json overrides webrtc-polyfill with a
# no-WebRTC stand-in (npm-stubs/), as node-datachannel cannot be built without downloads.
# npm 11 refuses 'ci' on this lock file (an optional dependency with an empty spec); install
# resolves the same versions from it.
npm ci || npm install --no-audit --no-fund
echo "ready: bench/streaming_bench.py --quick"
