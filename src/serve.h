// `cine serve SOURCE`: an HTTP/1.1 server (cpp-httplib) with Range support so external players
// (mpv, ffmpeg, VLC) stream a torrent's files; reads go through the same TorrentStream as
// `cine play`, so range requests move the piece picker. No playback here.
#pragma once

#include "src/cli.h"

namespace cine {

int run_serve(const Options& opts);

}  // namespace cine
