#include "src/app.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "player/player.h"
#include "src/stats_log.h"
#include "streaming/file_source.h"
#include "streaming/session.h"

namespace cine {

namespace {

std::atomic<bool> g_quit{false};

void on_signal(int) { g_quit = true; }

bool is_magnet(const std::string& s) { return s.rfind("magnet:", 0) == 0; }

bool ends_with(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i])
      return false;
  }
  return true;
}

// A .torrent by name, or a file that starts like a bencoded dictionary with an "info" key.
bool looks_like_torrent(const std::string& path) {
  if (ends_with(path, ".torrent")) return true;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[64] = {0};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string head(buf, n);
  return n > 0 && head[0] == 'd' && (head.find("4:info") != std::string::npos ||
                                     head.find("8:announce") != std::string::npos ||
                                     head.find("13:announce-list") != std::string::npos);
}

std::string default_save_path() {
  if (const char* x = std::getenv("XDG_DOWNLOAD_DIR"); x && *x) return x;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/Downloads/cine";
}

bool make_dirs(const std::string& path, std::string* error) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        *error = "cannot create '" + cur + "': " + std::strerror(errno);
        return false;
      }
    }
    if (i < path.size()) cur += path[i];
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = "'" + path + "' is not a directory";
    return false;
  }
  return true;
}

std::string human_rate(double bps) {
  char buf[32];
  if (bps >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB/s", bps / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f kB/s", bps / 1e3);
  return buf;
}

player::PlayerOptions player_options(const Options& o, const std::string& title) {
  player::PlayerOptions p;
  p.start = o.start;
  p.start_is_percent = o.start_is_percent;
  for (const SeekAt& s : o.seek_at) p.seek_at.push_back({s.at, s.target});
  p.frames = o.frames;
  p.length = o.length;
  p.video_window = o.vo == "sdl";
  p.audio_device = o.ao == "sdl";
  p.no_sync = o.no_sync;
  p.title = title;
  p.frame_hash_file = o.frame_hashes;
  p.screenshots = o.screenshots;
  return p;
}

// One updating status line on the terminal: time, buffer, rates, peers, progress.
class StatusLine {
 public:
  explicit StatusLine(const Options& o)
      : enabled_(!o.quiet && (o.status_line || isatty(STDOUT_FILENO))), tty_(isatty(STDOUT_FILENO)) {}
  void update(const std::string& text) {
    if (!enabled_) return;
    if (tty_) {
      std::printf("\r\033[K%s", text.c_str());
    } else {
      double now = program_time();
      if (now - last_ < 1.0) return;  // one line a second when logging to a file or pipe
      last_ = now;
      std::printf("%s\n", text.c_str());
    }
    std::fflush(stdout);
    dirty_ = true;
  }
  ~StatusLine() {
    if (enabled_ && tty_ && dirty_) std::printf("\n");
  }

 private:
  bool enabled_, tty_;
  bool dirty_ = false;
  double last_ = -1;
};

// Runs the player on source; relays quit requests from signals while it plays.
int play_source(streaming::ByteSource* source, const Options& o, const std::string& title,
                StatsLog* log, const std::function<void(player::Player&)>& wire,
                const std::function<std::string()>& swarm_status = nullptr) {
  player::Player p(source, player_options(o, title), log);
  StatusLine status(o);
  p.on_tick = [&](double pos, bool buffering) {
    std::string line = player::format_time(pos);
    if (buffering) line += "  buffering...";
    if (swarm_status) line += "  " + swarm_status();
    status.update(line);
  };
  if (wire) wire(p);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (g_quit) p.request_quit();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::string error;
  int code = p.run(&error);
  done = true;
  watcher.join();
  if (code != 0) {
    if (error == "interrupted") {
      code = 130;
    } else {
      log->emit("error", {{"message", error}});
      print_error(source->describe() + ": " + error);
    }
  }
  return code;
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool quit_requested() { return g_quit.load(); }

void print_error(const std::string& message) {
  std::fprintf(stderr, "cine: %s\n", message.c_str());
}

int run_play(const Options& o) {
  StatsLog log;
  std::string error;
  if (!o.stats_json.empty() && !log.open(o.stats_json, &error)) {
    print_error(error);
    return 2;
  }
  log.emit("start", {{"source", o.source}});
  auto finish = [&](int code) {
    log.emit("exit", {{"code", code}});
    return code;
  };

  const bool torrent = is_magnet(o.source) || looks_like_torrent(o.source);
  if (!torrent) {
    auto file = streaming::FileSource::open(o.source, &error);
    if (!file) {
      log.emit("error", {{"message", error}});
      print_error(error);
      return finish(1);
    }
    std::string title = o.source.substr(o.source.find_last_of('/') + 1) + " - Cine";
    return finish(play_source(file.get(), o, title, &log, nullptr));
  }

  // --- torrent or magnet ---
  streaming::SessionConfig cfg;
  cfg.save_path = o.save_path.empty() ? default_save_path() : o.save_path;
  if (!make_dirs(cfg.save_path, &error)) {
    log.emit("error", {{"message", error}});
    print_error(error);
    return finish(1);
  }
  cfg.listen_port = o.listen_port;
  cfg.listen_interface = o.interface;
  cfg.dht = o.dht;
  cfg.lsd = o.lsd;
  cfg.upnp = o.upnp;
  cfg.natpmp = o.natpmp;
  cfg.peers = o.peers;
  cfg.max_download = static_cast<int>(o.max_download);
  cfg.max_upload = static_cast<int>(o.max_upload);
  auto session = streaming::Session::create(cfg, &error);
  if (!session) {
    log.emit("error", {{"message", error}});
    print_error(error);
    return finish(1);
  }
  streaming::Session* s = session.get();
  log.set_counters([s] {
    streaming::SwarmStats st = s->stats();
    Counters c;
    c.downloaded = st.downloaded;
    c.uploaded = st.uploaded;
    c.download_rate = st.download_rate;
    c.upload_rate = st.upload_rate;
    c.peers = st.peers;
    c.pieces_have = st.pieces_have;
    c.buffered_ahead = st.buffered_ahead;
    return c;
  });
  auto fail = [&](const std::string& msg) {
    log.emit("error", {{"message", msg}});
    print_error(msg);
    return finish(1);
  };
  if (!s->add(o.source, &error)) return fail(error);
  if (!s->wait_metadata([] { return g_quit.load(); }, &error)) {
    if (g_quit) return finish(130);
    return fail(error);
  }
  streaming::Metadata md = s->metadata();
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : md.files) files.push_back({{"index", f.index}, {"name", f.path}, {"size", f.size}});
  log.emit("metadata", {{"name", md.name}, {"files", files}, {"piece_size", md.piece_size},
                        {"pieces", md.num_pieces}});
  streaming::FileEntry chosen;
  if (!s->select_file(o.file, &chosen, &error)) return fail(error);
  log.emit("file_selected", {{"index", chosen.index}, {"name", chosen.path}, {"size", chosen.size}});

  std::unique_ptr<streaming::ByteSource> stream = s->open_stream();
  std::string base = chosen.path.substr(chosen.path.find_last_of('/') + 1);
  auto swarm_status = [s] {
    streaming::SwarmStats st = s->stats();
    char buf[160];
    std::snprintf(buf, sizeof buf, "ahead %.1f MB  down %s  up %s  peers %d  %.0f%%",
                  st.buffered_ahead / 1e6, human_rate(st.download_rate).c_str(),
                  human_rate(st.upload_rate).c_str(), st.peers, st.progress * 100);
    return std::string(buf);
  };
  int code = play_source(stream.get(), o, base + " - Cine", &log, [&](player::Player& p) {
    p.decorate = [s, chosen](player::OverlaySnapshot& snap) {
      streaming::SwarmStats st = s->stats();
      streaming::PieceView pv = s->piece_view();
      char buf[160];
      std::snprintf(buf, sizeof buf, "down %s  up %s  %d peers (%d seeds)  %.0f%%",
                    human_rate(st.download_rate).c_str(), human_rate(st.upload_rate).c_str(),
                    st.peers, st.seeds, st.progress * 100);
      snap.status_text = buf;
      if (chosen.size <= 0 || pv.piece_size <= 0) return;
      auto frac = [&](int piece) {
        double b = double(int64_t(piece) * pv.piece_size - pv.file_offset) / chosen.size;
        return std::clamp(b, 0.0, 1.0);
      };
      for (size_t i = 0; i < pv.states.size();) {
        char c = pv.states[i];
        size_t j = i;
        while (j < pv.states.size() && pv.states[j] == c) ++j;
        player::Span sp{frac(pv.first_piece + int(i)), frac(pv.first_piece + int(j))};
        if (c == 'h') snap.downloaded.push_back(sp);
        else if (c == 'r' || c == 'c') snap.in_flight.push_back(sp);
        i = j;
      }
    };
  }, swarm_status);
  stream.reset();
  s->save_resume();
  if (code == 0 && o.seed && !g_quit) {
    std::fprintf(stderr, "cine: playback ended; downloading/seeding in the background (Ctrl-C to stop)\n");
    while (!g_quit) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s->save_resume();
  }
  return finish(code);
}

}  // namespace cine
