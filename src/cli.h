// Command-line parsing for the `cine` program (the CLI contract in shared/ARCHITECTURE.md).
// Parses only; running the commands lives in app.cpp / torrent_commands.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cine {

struct SeekAt {
  double at = 0;      // playback time (s) that triggers the seek; 0 = right after first frame
  double target = 0;  // target time (s)
};

struct Options {
  std::string command;               // play | info | create | seed | serve | demo
  std::string source;                // SOURCE (or PATH for create)

  // play
  std::string file;                  // --file=INDEX|NAME
  double start = 0;                  // --start=SECONDS or PERCENT%
  bool start_is_percent = false;
  bool start_set = false;            // --start was given (it overrides a remembered position)
  std::vector<SeekAt> seek_at;       // --seek-at=AT,TARGET (repeatable)
  int64_t frames = -1;               // --frames=N
  double length = -1;                // --length=SECONDS
  std::string vo = "sdl";            // --vo=sdl|null
  std::string ao = "sdl";            // --ao=sdl|null
  std::string stats_json;            // --stats-json=FILE
  std::string input_ipc_server;      // --input-ipc-server=PATH (mpv's JSON IPC subset)
  bool no_sync = false;              // --no-sync: present as fast as decoded (tests, benchmarks)
  std::string frame_hashes;          // --frame-hashes=FILE: per-frame checksums (tests)
  std::vector<std::pair<double, std::string>> screenshots;  // --screenshot-at=T,FILE
  std::vector<std::pair<double, std::string>> keys_at;      // --key-at=T,KEY (as if pressed)
  std::vector<std::string> subs;     // --sub=FILE (repeatable): external subtitle files
  int sid = 0;                       // --sid=N|no|auto: 1-based; 0 auto, -1 none
  int aid = 0;                       // --aid=N|no|auto
  double speed = 1.0;                // --speed=X (0.25..4)
  bool hr_seek = true;               // --hr-seek=yes|no: exact seeks, or to the keyframe before
  bool cache_pause_initial = true;   // --cache-pause-initial=yes|no: pre-roll torrent streams
  double cache_pause_wait = 1.0;     // --cache-pause-wait=SECONDS: how much (0..60)
  bool resume_playback = true;       // --no-resume-playback: neither restore nor remember
  std::string watch_later_dir;       // --watch-later-directory=DIR ("" = the user's data folder)

  // torrent
  std::string save_path;             // --save-path=DIR ("" = default)
  std::vector<std::string> peers;    // --peer=HOST:PORT (repeatable)
  int listen_port = 0;               // --listen=PORT
  std::string interface = "0.0.0.0"; // --interface=ADDR: listen address (127.0.0.1 for loopback)
  bool dht = true, lsd = true, upnp = true, natpmp = true;
  int64_t max_download = 0;          // --max-download=RATE (bytes/s; k/M suffixes)
  int64_t max_upload = 0;            // --max-upload=RATE
  bool seed = true;                  // --seed / --no-seed
  double seed_ratio = 0;  // --seed-ratio=R: stop seeding at uploaded >= R x size (0 = no limit)
  double seed_time = 0;   // --seed-time=DURATION: stop after seeding that long (s; 0 = no limit)
  std::vector<std::string>
      dht_bootstrap;  // --dht-bootstrap=HOST:PORT (repeatable): replaces the defaults

  // create
  std::string output;                // -o FILE.torrent
  std::vector<std::string> trackers; // --tracker=URL (repeatable)
  int piece_size = 0;                // --piece-size=BYTES
  std::vector<std::string> web_seeds;  // --web-seed=URL (repeatable): BEP 19 url-list

  // serve
  int port = 0;                      // --port=P
  std::string bind;                  // --bind=ADDR (default 127.0.0.1)

  bool help = false;
  bool quiet = false;                // --quiet: no status line
  int verbose = 0;                   // -v / --verbose (repeatable): FFmpeg and libtorrent logs
  bool status_line = false;          // print a status line even when stdout is not a TTY
  std::string log_file;              // --log-file=PATH: FFmpeg and libtorrent logs go there too
};

// Parses argv. On bad input returns false and sets *error to one line (no trailing newline).
bool parse_cli(int argc, char** argv, Options* out, std::string* error);

// Parses "1.5M", "800k", "1000" (bytes/s). False on garbage.
bool parse_rate(const std::string& s, int64_t* out);

// Parses a duration: "90" or "90s" seconds, "30m", "2h", "1d". False on garbage or < 0.
bool parse_duration(const std::string& s, double* out);

std::string usage_text();

}  // namespace cine
