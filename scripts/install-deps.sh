#!/usr/bin/env bash
# Installs every Debian 12 package Cine needs to build, run and test. Run as root.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libsdl2-dev libimgui-dev libass-dev libtorrent-rasterbar-dev
  nlohmann-json3-dev libcpp-httplib-dev doctest-dev
  fonts-dejavu-core xvfb xauth opentracker
  clang libclang-rt-14-dev
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
