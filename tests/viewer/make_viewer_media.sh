#!/usr/bin/env bash
# Generates the viewer tests' media with the ffmpeg CLI: clips with embedded subtitles (SRT, ASS,
# mov_text), external subtitle files (SRT, ASS, WebVTT), a clip with two audio tracks, a longer
# clip for position resume, and a small "series" folder (two episodes and a subtitle file beside
# one) for multi-file torrents. Usage: make_viewer_media.sh OUTDIR. Existing files are kept.
set -euo pipefail
out=${1:?usage: make_viewer_media.sh OUTDIR}
mkdir -p "$out/series"
cd "$out"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
v=(-f lavfi -i "testsrc2=size=320x240:rate=25")
a=(-f lavfi -i "sine=frequency=440:sample_rate=48000")
enc=(-c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k)

# Subtitle lines: 1-3 s, 4-6 s, 8-10 s.
cat > subs.srt <<'SRT'
1
00:00:01,000 --> 00:00:03,000
First SRT line

2
00:00:04,000 --> 00:00:06,000
Second <i>SRT</i> line

3
00:00:08,000 --> 00:00:10,000
Third SRT line
SRT
cat > subs.vtt <<'VTT'
WEBVTT

00:00:01.000 --> 00:00:03.000
First VTT line

00:00:04.000 --> 00:00:06.000
Second VTT line
VTT
cat > subs.ass <<'ASS'
[Script Info]
ScriptType: v4.00+
PlayResX: 320
PlayResY: 240

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,DejaVu Sans,20,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1
Style: Top,DejaVu Sans,18,&H0000FFFF,&H00FFFFFF,&H00000000,&H00000000,1,0,0,0,100,100,0,0,1,2,0,8,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:03.00,Default,,0,0,0,,First {\i1}ASS{\i0} line
Dialogue: 0,0:00:02.00,0:00:05.00,Top,,0,0,0,,Styled top line
Dialogue: 0,0:00:08.00,0:00:10.00,Default,,0,0,0,,Last ASS line
ASS

[ -f sub_srt.mkv ] || ff "${v[@]}" "${a[@]}" -i subs.srt -t 12 "${enc[@]}" -c:s srt \
  -metadata:s:s:0 language=eng -map 0:v -map 1:a -map 2:s sub_srt.mkv
[ -f sub_ass.mkv ] || ff "${v[@]}" "${a[@]}" -i subs.ass -i subs.srt -t 12 "${enc[@]}" -c:s:0 ass -c:s:1 srt \
  -metadata:s:s:0 language=eng -metadata:s:s:1 language=fra -disposition:s:0 default -disposition:s:1 0 \
  -map 0:v -map 1:a -map 2:s -map 3:s sub_ass.mkv
[ -f sub_movtext.mp4 ] || ff "${v[@]}" "${a[@]}" -i subs.srt -t 12 "${enc[@]}" -c:s mov_text \
  -map 0:v -map 1:a -map 2:s sub_movtext.mp4
# No subtitle stream at all (external files only).
[ -f nosubs.mkv ] || ff "${v[@]}" "${a[@]}" -t 12 "${enc[@]}" nosubs.mkv
# Two audio tracks: 440 Hz (eng), 1000 Hz (fra).
[ -f two_audio.mkv ] || ff "${v[@]}" "${a[@]}" -f lavfi -i "sine=frequency=1000:sample_rate=48000" -t 12 \
  -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k \
  -map 0:v -map 1:a -map 2:a -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra two_audio.mkv
# 40 s, small: positions past 10 s for resume.
[ -f resume.mkv ] || ff -f lavfi -i "testsrc2=size=160x120:rate=25" "${a[@]}" -t 40 "${enc[@]}" resume.mkv
# A series folder: episode 2 is the larger one (default choice), with subtitles beside it.
[ -f series/Show.S01E02.mkv ] || ff -f lavfi -i "testsrc2=size=640x360:rate=25" "${a[@]}" -t 30 \
  -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -b:v 2M -minrate 2M -maxrate 2M -bufsize 1M \
  -x264-params nal-hrd=cbr -c:a aac -b:a 64k series/Show.S01E02.mkv
[ -f series/Show.S01E10.mkv ] || ff -f lavfi -i "testsrc2=size=640x360:rate=25" "${a[@]}" -t 6 \
  -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -b:v 500k -c:a aac -b:a 64k series/Show.S01E10.mkv
cat > series/Show.S01E02.srt <<'SRT'
1
00:00:01,000 --> 00:00:06,000
Subtitles beside the video

2
00:00:09,000 --> 00:00:12,000
Still streaming
SRT
touch .done
