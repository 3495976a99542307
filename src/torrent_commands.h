// The torrent commands of `cine`: info, create and seed (playback is in app.h).
// Each returns the exit status; every bad input gives one line on stderr and a non-zero status.
#pragma once

#include "src/cli.h"

namespace cine {

// cine info SOURCE: a .torrent's files, sizes, piece size, trackers and info-hash; for a magnet
// what the link holds, or with --peer the metadata fetched from those peers.
int run_info(const Options& opts);

// cine create PATH -o FILE.torrent [--tracker=URL]... [--web-seed=URL]... [--piece-size=BYTES]
int run_create(const Options& opts);

// cine seed SOURCE [--save-path=DIR]: checks the data in DIR (default: the current directory),
// prints "listening on ADDR:PORT" (127.0.0.1 unless --interface names another address) and
// seeds until SIGINT/SIGTERM, or until --seed-ratio/--seed-time is met (then it prints why and
// exits 0).
int run_seed(const Options& opts);

}  // namespace cine
