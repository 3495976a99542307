#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz/, generates small seed
# corpora there, and runs each fuzzer for SECONDS (default 25). Crashes land in
# build-fuzz/artifacts/; a crash, leak or timeout makes the script fail.
# Usage: bash scripts/fuzz.sh [SECONDS] [FUZZER...]   (e.g. scripts/fuzz.sh 3600 fuzz_media)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-25}
shift || true
fuzzers=("$@")
((${#fuzzers[@]})) || fuzzers=(fuzz_torrent fuzz_magnet fuzz_media fuzz_resume fuzz_config)
out=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCINE_FUZZ=ON \
  -DCINE_WERROR=ON >/dev/null
cmake --build "$out" -j"${CINE_JOBS:-$(nproc)}" --target fuzzers

# Seed corpora: tiny, generated, never committed.
c=$out/corpus
mkdir -p "$c"/{fuzz_torrent,fuzz_magnet,fuzz_media,fuzz_resume,fuzz_config} "$out/artifacts"
z20=$(printf 'Z%.0s' {1..20})
z140=$(printf 'Z%.0s' {1..140})
printf 'd8:announce20:http://127.0.0.1:1/a4:infod6:lengthi100000e4:name8:clip.mkv12:piece lengthi16384e6:pieces140:%se4:infoe' \
  "$z140" >"$c/fuzz_torrent/single"
printf 'd4:infod5:filesld6:lengthi70000e4:pathl3:sub5:a.mkveed6:lengthi30000e4:pathl5:b.srteee4:name4:show12:piece lengthi16384e6:pieces140:%see' \
  "$z140" >"$c/fuzz_torrent/multi"
printf 'd4:infod5:filesld4:attr1:l6:lengthi0e4:pathl4:linke12:symlink pathl2:..1:xeed6:lengthi5e4:pathl1:aeee4:name1:d12:piece lengthi16384e6:pieces20:%see' \
  "$z20" >"$c/fuzz_torrent/symlink"
printf 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=My%%20Clip.mkv&tr=udp%%3A%%2F%%2F127.0.0.1%%3A1337&x.pe=127.0.0.1:6881' >"$c/fuzz_magnet/v1"
printf 'magnet:?xt=urn:btih:AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU&tr=http://127.0.0.1:1/a' >"$c/fuzz_magnet/base32"
printf 'magnet:?xt=urn:btmh:1220%s' "$(printf 'ab%.0s' {1..32})" >"$c/fuzz_magnet/v2"
ff() { ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=64x48:rate=10 \
  -f lavfi -i sine=sample_rate=8000 -t 1 "$@"; }
[ -s "$c/fuzz_media/a.mkv" ] || ff -c:v libx264 -preset ultrafast -g 5 -c:a aac "$c/fuzz_media/a.mkv"
[ -s "$c/fuzz_media/a.mp4" ] || ff -c:v libx264 -preset ultrafast -g 5 -c:a aac "$c/fuzz_media/a.mp4"
[ -s "$c/fuzz_media/f.mp4" ] || ff -c:v libx264 -preset ultrafast -g 5 -c:a aac -movflags +faststart "$c/fuzz_media/f.mp4"
[ -s "$c/fuzz_media/a.webm" ] || ff -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -c:a libopus "$c/fuzz_media/a.webm"
[ -s "$c/fuzz_media/a.ts" ] || ff -c:v libx264 -preset ultrafast -c:a aac -f mpegts "$c/fuzz_media/a.ts"
[ -s "$c/fuzz_media/a.avi" ] || ff -c:v mpeg4 -c:a pcm_s16le "$c/fuzz_media/a.avi"
# Resume: byte 0 even = libtorrent resume data (info-hash 0x5a x 20), odd = watch-later JSON.
printf '\x00d10:cine-cleani1e9:file-formati22:libtorrent resume filee9:info-hash20:%s6:piecesi0e9:save_path1:.e' "$z20" >"$c/fuzz_resume/lt"
printf '\x00d10:cine-cleani0e9:info-hash20:%s6:pieces3:\x01\x01\x019:save_path1:.e' "$z20" >"$c/fuzz_resume/lt2"
printf '\x01{"position":12.5,"byte_pos":123456,"duration":60.0}\n' >"$c/fuzz_resume/wl"
printf 'vo=null\n# comment\ndht=no\nmax-upload=1M\nsave-path="/tmp/x y"\nseed=yes\n' >"$c/fuzz_config/a"

status=0
for f in "${fuzzers[@]}"; do
  echo "== $f: ${secs}s"
  if ! "$out/fuzz/$f" "$c/$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=262144 -print_final_stats=1 -artifact_prefix="$out/artifacts/$f-" \
    >"$out/$f.log" 2>&1; then
    echo "!! $f failed; see $out/$f.log and $out/artifacts/"
    tail -40 "$out/$f.log"
    status=1
  else
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)" "$out/$f.log" || true
  fi
done
exit $status
