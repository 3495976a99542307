#include "src/cli.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace cine {

namespace {

bool parse_double(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_int64(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

// "1:02:03.5", "62.5" -> seconds.
bool parse_time(const std::string& s, double* out) {
  double total = 0;
  std::stringstream ss(s);
  std::string part;
  int parts = 0;
  while (std::getline(ss, part, ':')) {
    double v;
    if (!parse_double(part, &v) || v < 0) return false;
    total = total * 60 + v;
    if (++parts > 3) return false;
  }
  if (parts == 0) return false;
  *out = total;
  return true;
}

bool parse_port(const std::string& s, int* out) {
  int64_t v;
  if (!parse_int64(s, &v) || v < 0 || v > 65535) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

bool parse_rate(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  double mult = 1;
  std::string num = s;
  char last = s.back();
  if (last == 'k' || last == 'K') mult = 1024, num.pop_back();
  else if (last == 'm' || last == 'M') mult = 1024 * 1024, num.pop_back();
  else if (last == 'g' || last == 'G') mult = 1024.0 * 1024 * 1024, num.pop_back();
  double v;
  if (!parse_double(num, &v) || v < 0 || v * mult > 1e12) return false;
  *out = static_cast<int64_t>(v * mult);
  return true;
}

bool parse_duration(const std::string& s, double* out) {
  if (s.empty()) return false;
  double mult = 1;
  std::string num = s;
  switch (s.back()) {
    case 's':
      num.pop_back();
      break;
    case 'm':
      mult = 60, num.pop_back();
      break;
    case 'h':
      mult = 3600, num.pop_back();
      break;
    case 'd':
      mult = 86400, num.pop_back();
      break;
    default:
      break;
  }
  double v;
  if (!parse_double(num, &v) || v < 0 || v * mult > 1e9) return false;
  *out = v * mult;
  return true;
}

std::string usage_text() {
  return R"(Usage:
  cine play SOURCE [options]    play a .torrent file, a magnet URI, or a local media file
  cine info SOURCE              files, sizes, piece size, trackers, info-hash
  cine create PATH -o FILE.torrent [--tracker=URL] [--web-seed=URL] [--piece-size=BYTES]
  cine seed SOURCE [--save-path=DIR] [--seed-ratio=R] [--seed-time=DURATION]
  cine serve SOURCE [--port=P] [--bind=ADDR]
                                HTTP server with Range support for external players
                                (127.0.0.1 unless --bind says otherwise)
  cine demo                     a local swarm streams a generated sample clip

Play options:
  --file=INDEX|NAME       which file of a multi-file torrent (default: the largest video)
  --start=SECONDS|PCT%    start position (also H:MM:SS); overrides a remembered position
  --seek-at=AT,TARGET     when playback reaches AT seconds, seek to TARGET (repeatable)
  --frames=N              quit after N video frames were shown
  --length=SECONDS        quit after that much playback
  --vo=sdl|null           video output (null: headless)
  --ao=sdl|null           audio output (null: no sound device, real-time pace)
  --no-sync               decode and present as fast as possible (tests, benchmarks)
  --stats-json=FILE       write events, one JSON object a line
  --input-ipc-server=PATH a Unix socket speaking mpv's JSON IPC (get/set/observe, seek, quit)
  --frame-hashes=FILE     write a checksum of every decoded video frame
  --screenshot-at=T,FILE  save the window (video + overlay) as BMP at playback time T
  --key-at=T,KEY          act as if KEY (mpv's name: q, Q, i, SPACE, LEFT...) was pressed at T
  --sub=FILE              show subtitles from FILE (repeatable)
  --sid=N|no|auto         subtitle track (1-based: embedded, then files), or none
  --aid=N|no|auto         audio track (1-based), or none
  --speed=X               playback speed, 0.25 to 4 (pitch kept)
  --hr-seek=yes|no        exact seeks (default), or to the keyframe before the target:
                          faster, a little before where asked
  --cache-pause-initial=yes|no  before the first frame of a torrent, buffer
                          --cache-pause-wait seconds of media past it (default yes)
  --cache-pause-wait=SECONDS    that much (default 1)
  --no-resume-playback    neither start at nor remember the position of an earlier run
  --watch-later-directory=DIR  where positions are remembered
                          (default: $XDG_DATA_HOME/cine/watch_later or ~/.local/share/...)
  --quiet                 no status line on the terminal
  -v, --verbose           show FFmpeg's warnings and a libtorrent trace (-vv: everything, -vvv: and every peer message)
  --log-file=PATH         write FFmpeg's and libtorrent's logs to PATH (verbose, whatever -v says)
  --no-config             do not read the config file
Torrent options:
  --save-path=DIR         download folder
  --peer=HOST:PORT        add a peer directly (repeatable)
  --listen=PORT           listen port   --no-dht --no-lsd --no-upnp --no-natpmp
  --interface=ADDR        listen and outgoing address (default 0.0.0.0: any;
                          127.0.0.1 keeps to loopback)
  --max-download=RATE     --max-upload=RATE (bytes/s, k/M suffixes)
  --seed / --no-seed      keep seeding after playback ends (default: seed)
  --seed-ratio=R          stop seeding once R times the torrent's size was uploaded (play, seed)
  --seed-time=DURATION    stop seeding after that long (seconds, or 30m, 2h, 1d) (play, seed)
  --dht-bootstrap=HOST:PORT  DHT node to start from (repeatable); replaces the default routers
Create options:
  --tracker=URL           announce URL (repeatable; http://, https:// or udp://)
  --web-seed=URL          HTTP server holding the files (BEP 19 url-list; repeatable)
  --piece-size=BYTES      a power of two from 16384 (default: chosen from the size)
Serve options:
  --port=P                HTTP port (default: any free one)
  --bind=ADDR             HTTP address (default 127.0.0.1)

Keys (as in mpv): space/p pause, left/right 5 s, up/down 60 s (shift: exact 1 s / 5 s),
      [ ] speed, { } half/double speed, backspace normal speed, . , frame step,
      f or double-click fullscreen, m mute, 9/0 or wheel volume, j/J cycle subtitles, v show/hide them,
      z/Z subtitle delay, # cycle audio, < > previous/next file, F8 file list, i stats,
      ? list of keys, q quit, Q quit and remember the position.
)";
}

bool parse_cli(int argc, char** argv, Options* o, std::string* error) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    *error = "no command given (try 'cine --help')";
    return false;
  }
  size_t i = 0;
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    o->help = true;
    return true;
  }
  o->command = args[i++];
  static const char* kCommands[] = {"play", "info", "create", "seed", "serve", "demo"};
  bool known = false;
  for (const char* c : kCommands) known |= o->command == c;
  if (!known) {
    *error = "unknown command '" + o->command + "' (try 'cine --help')";
    return false;
  }
  std::vector<std::string> positional;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      o->help = true;
      return true;
    }
    if (a == "-v" || a == "-vv" || a == "-vvv") {
      o->verbose += static_cast<int>(a.size()) - 1;
      continue;
    }
    if (a == "-o") {
      if (i + 1 >= args.size()) {
        *error = "-o needs a file name";
        return false;
      }
      o->output = args[++i];
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || a[1] != '-') {
      if (!a.empty() && a[0] == '-' && a.size() > 1) {
        *error = "unknown option '" + a + "'";
        return false;
      }
      positional.push_back(a);
      continue;
    }
    std::string key = a.substr(2), val;
    bool has_val = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      val = key.substr(eq + 1);
      key = key.substr(0, eq);
      has_val = true;
    }
    auto bad = [&](const std::string& why) {
      *error = "invalid --" + key + (has_val ? "=" + val : std::string()) + ": " + why;
      return false;
    };
    auto need = [&]() {
      if (!has_val) {
        *error = "--" + key + " needs a value (--" + key + "=...)";
        return false;
      }
      return true;
    };
    auto flag = [&]() {
      if (has_val) {
        *error = "--" + key + " takes no value";
        return false;
      }
      return true;
    };
    if (key == "file") {
      if (!need()) return false;
      o->file = val;
    } else if (key == "start") {
      if (!need()) return false;
      o->start_set = true;
      std::string v = val;
      if (!v.empty() && v.back() == '%') {
        v.pop_back();
        o->start_is_percent = true;
        if (!parse_double(v, &o->start) || o->start < 0 || o->start > 100)
          return bad("expected SECONDS or 0-100%");
      } else if (!parse_time(v, &o->start)) {
        return bad("expected SECONDS or PERCENT%");
      }
    } else if (key == "seek-at") {
      if (!need()) return false;
      auto comma = val.find(',');
      SeekAt s;
      if (comma == std::string::npos || !parse_time(val.substr(0, comma), &s.at) ||
          !parse_time(val.substr(comma + 1), &s.target))
        return bad("expected AT,TARGET in seconds");
      o->seek_at.push_back(s);
    } else if (key == "frames") {
      if (!need()) return false;
      if (!parse_int64(val, &o->frames) || o->frames < 0) return bad("expected a count");
    } else if (key == "length") {
      if (!need()) return false;
      if (!parse_time(val, &o->length)) return bad("expected seconds");
    } else if (key == "vo" || key == "ao") {
      if (!need()) return false;
      if (val != "sdl" && val != "null") return bad("expected sdl or null");
      (key == "vo" ? o->vo : o->ao) = val;
    } else if (key == "input-ipc-server") {
      if (!need()) return false;
      o->input_ipc_server = val;
    } else if (key == "stats-json") {
      if (!need()) return false;
      o->stats_json = val;
    } else if (key == "frame-hashes") {
      if (!need()) return false;
      o->frame_hashes = val;
    } else if (key == "screenshot-at") {
      if (!need()) return false;
      auto comma = val.find(',');
      double t;
      if (comma == std::string::npos || !parse_time(val.substr(0, comma), &t) ||
          comma + 1 >= val.size())
        return bad("expected SECONDS,FILE");
      o->screenshots.push_back({t, val.substr(comma + 1)});
    } else if (key == "key-at") {
      if (!need()) return false;
      auto comma = val.find(',');
      double t;
      if (comma == std::string::npos || !parse_time(val.substr(0, comma), &t) ||
          comma + 1 >= val.size())
        return bad("expected SECONDS,KEY");
      o->keys_at.push_back({t, val.substr(comma + 1)});
    } else if (key == "sub" || key == "sub-file") {
      if (!need()) return false;
      if (val.empty()) return bad("expected a file name");
      o->subs.push_back(val);
    } else if (key == "sid" || key == "aid") {
      if (!need()) return false;
      int& slot = key == "sid" ? o->sid : o->aid;
      int64_t v;
      if (val == "no") slot = -1;
      else if (val == "auto") slot = 0;
      else if (parse_int64(val, &v) && v >= 1 && v <= 1000) slot = static_cast<int>(v);
      else return bad("expected a track number from 1, no, or auto");
    } else if (key == "hr-seek") {
      if (!need()) return false;
      if (val == "yes") o->hr_seek = true;
      else if (val == "no") o->hr_seek = false;
      else return bad("expected yes or no");
    } else if (key == "cache-pause-initial") {
      if (!need()) return false;
      if (val == "yes") o->cache_pause_initial = true;
      else if (val == "no") o->cache_pause_initial = false;
      else return bad("expected yes or no");
    } else if (key == "cache-pause-wait") {
      if (!need()) return false;
      if (!parse_double(val, &o->cache_pause_wait) || o->cache_pause_wait < 0 ||
          o->cache_pause_wait > 60)
        return bad("expected seconds from 0 to 60");
    } else if (key == "speed") {
      if (!need()) return false;
      if (!parse_double(val, &o->speed) || o->speed < 0.25 || o->speed > 4)
        return bad("expected a speed from 0.25 to 4");
    } else if (key == "resume-playback" || key == "no-resume-playback") {
      if (!flag()) return false;
      o->resume_playback = key == "resume-playback";
    } else if (key == "watch-later-directory") {
      if (!need()) return false;
      if (val.empty()) return bad("expected a folder");
      o->watch_later_dir = val;
    } else if (key == "no-sync") {
      if (!flag()) return false;
      o->no_sync = true;
    } else if (key == "save-path") {
      if (!need()) return false;
      o->save_path = val;
    } else if (key == "peer") {
      if (!need()) return false;
      auto colon = val.rfind(':');
      int port;
      if (colon == std::string::npos || colon == 0 || !parse_port(val.substr(colon + 1), &port) ||
          port == 0)
        return bad("expected HOST:PORT");
      o->peers.push_back(val);
    } else if (key == "listen") {
      if (!need()) return false;
      if (!parse_port(val, &o->listen_port)) return bad("expected a port 0-65535");
    } else if (key == "interface") {
      if (!need()) return false;
      if (val.empty() || val.find_first_not_of("0123456789abcdefABCDEF.:[]") != std::string::npos)
        return bad("expected an IP address");
      o->interface = val;
    } else if (key == "verbose") {
      if (!flag()) return false;
      ++o->verbose;
    } else if (key == "quiet") {
      if (!flag()) return false;
      o->quiet = true;
    } else if (key == "no-dht" || key == "no-lsd" || key == "no-upnp" || key == "no-natpmp") {
      if (!flag()) return false;
      if (key == "no-dht") o->dht = false;
      if (key == "no-lsd") o->lsd = false;
      if (key == "no-upnp") o->upnp = false;
      if (key == "no-natpmp") o->natpmp = false;
    } else if (key == "max-download" || key == "max-upload") {
      if (!need()) return false;
      if (!parse_rate(val, key == "max-download" ? &o->max_download : &o->max_upload))
        return bad("expected bytes/s, e.g. 1.5M or 800k");
    } else if (key == "seed" || key == "no-seed") {
      if (!flag()) return false;
      o->seed = key == "seed";
    } else if (key == "seed-ratio") {
      if (!need()) return false;
      if (!parse_double(val, &o->seed_ratio) || o->seed_ratio < 0 || o->seed_ratio > 1e6)
        return bad("expected a ratio such as 1 or 2.5");
    } else if (key == "seed-time") {
      if (!need()) return false;
      if (!parse_duration(val, &o->seed_time)) return bad("expected seconds, or 30m, 2h, 1d");
    } else if (key == "dht-bootstrap") {
      if (!need()) return false;
      auto colon = val.rfind(':');
      int port;
      if (colon == std::string::npos || colon == 0 || !parse_port(val.substr(colon + 1), &port) ||
          port == 0 || val.find(',') != std::string::npos)
        return bad("expected HOST:PORT");
      o->dht_bootstrap.push_back(val);
    } else if (key == "log-file") {
      if (!need()) return false;
      if (val.empty()) return bad("expected a file name");
      o->log_file = val;
    } else if (key == "web-seed") {
      if (!need()) return false;
      if (val.rfind("http://", 0) != 0 && val.rfind("https://", 0) != 0)
        return bad("expected an http:// or https:// URL");
      o->web_seeds.push_back(val);
    } else if (key == "tracker") {
      if (!need()) return false;
      o->trackers.push_back(val);
    } else if (key == "piece-size") {
      if (!need()) return false;
      int64_t v;
      if (!parse_int64(val, &v) || v < 16384 || v > (64 << 20) || (v & (v - 1)))
        return bad("expected a power of two from 16384 to 67108864");
      o->piece_size = static_cast<int>(v);
    } else if (key == "bind") {
      if (!need()) return false;
      if (val.empty() || val.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos)
        return bad("expected an IP address");
      o->bind = val;
    } else if (key == "port") {
      if (!need()) return false;
      if (!parse_port(val, &o->port)) return bad("expected a port 0-65535");
    } else {
      *error = "unknown option '--" + key + "' (try 'cine --help')";
      return false;
    }
  }
  if (o->command == "demo") {
    if (!positional.empty()) {
      *error = "demo takes no SOURCE";
      return false;
    }
    return true;
  }
  if (positional.empty()) {
    *error = o->command + " needs a " + (o->command == "create" ? "PATH" : "SOURCE");
    return false;
  }
  if (positional.size() > 1) {
    *error = "unexpected argument '" + positional[1] + "'";
    return false;
  }
  o->source = positional[0];
  if (o->command == "create" && o->output.empty()) {
    *error = "create needs -o FILE.torrent";
    return false;
  }
  return true;
}

}  // namespace cine
