#!/usr/bin/env bash
# Generates the test clips with the ffmpeg CLI (testsrc2 + sine), in every container the tests
# cover. Usage: make_media.sh OUTDIR. Idempotent: existing files are kept.
set -euo pipefail
out=${1:?usage: make_media.sh OUTDIR}
mkdir -p "$out"
cd "$out"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
src=(-f lavfi -i "testsrc2=size=320x240:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=48000")
dur=12
# H.264/AAC, 1 s GOP so seeks land quickly and decode-forward is short.
h264=(-c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac -b:a 96k)
vp9=(-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 25 -b:v 400k -c:a libopus -b:a 64k)
[ -f moov_end.mp4 ] || ff "${src[@]}" -t $dur "${h264[@]}" moov_end.mp4
[ -f faststart.mp4 ] || ff "${src[@]}" -t $dur "${h264[@]}" -movflags +faststart faststart.mp4
[ -f clip.mkv ] || ff "${src[@]}" -t $dur "${h264[@]}" clip.mkv
[ -f clip.webm ] || ff "${src[@]}" -t $dur "${vp9[@]}" clip.webm
[ -f clip.ts ] || ff "${src[@]}" -t $dur "${h264[@]}" -f mpegts clip.ts
# The same at three times the length, for the swarm tests that measure a seek or a start against
# the share of the file downloaded: in a 12 s clip the first frame and the pre-roll alone take a
# good part of it.
[ -f long_moov_end.mp4 ] || ff "${src[@]}" -t $((dur * 3)) "${h264[@]}" long_moov_end.mp4
[ -f long.mkv ] || ff "${src[@]}" -t $((dur * 3)) "${h264[@]}" long.mkv
[ -f long.webm ] || ff "${src[@]}" -t $((dur * 3)) "${vp9[@]}" long.webm
# FFmpeg's own reading of where the MP4s' video keyframes are (decode time, byte position), for
# the container index's sample-table parse to be checked against.
for f in moov_end faststart; do
  [ -f $f.keyframes ] || ffprobe -v error -select_streams v -show_entries packet=dts_time,pos,flags \
    -of csv=p=0 $f.mp4 | awk -F, '$3 ~ /K/ { print $1, $2 }' > $f.keyframes
done
# Bad inputs.
[ -f not_media.mkv ] || head -c 200000 /dev/urandom > not_media.mkv
[ -f truncated.mp4 ] || head -c $(( $(stat -c %s moov_end.mp4) / 2 )) moov_end.mp4 > truncated.mp4
[ -f empty.mp4 ] || : > empty.mp4
[ -f notes.txt ] || echo "just some text, not a video" > notes.txt
touch .done
