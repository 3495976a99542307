#include "src/app.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "player/player.h"
#include "player/playlist.h"
#include "player/watch_later.h"
#include "src/ipc_server.h"
#include "src/logging.h"
#include "src/stats_log.h"
#include "streaming/file_source.h"
#include "streaming/magnet.h"
#include "streaming/session.h"

namespace cine {

namespace {

std::atomic<bool> g_quit{false};
IpcServer* g_ipc = nullptr;           // the --input-ipc-server, while run_play runs
std::mutex g_load_mu;
std::string g_pending_load;           // set by IPC `loadfile`, taken by run_play
int play_once(const Options& o);
std::atomic<int> g_signal{0};

void on_signal(int sig) {
  g_signal = sig;
  g_quit = true;
}

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
  p.keys_at = o.keys_at;
  p.speed = o.speed;
  // A local file is there at once; a stream starts with a little margin (see PlayerOptions).
  const bool stream = streaming::is_magnet(o.source) || looks_like_torrent(o.source);
  p.cache_initial = stream && o.cache_pause_initial ? o.cache_pause_wait : 0;
  p.exact_seeks = o.hr_seek;
  p.aid = o.aid;
  p.sid = o.sid;
  for (const std::string& f : o.subs) p.subs.push_back({f, f, ""});
  return p;
}

std::string base_name(const std::string& p) { return p.substr(p.find_last_of('/') + 1); }

// Watch-position resume: where an earlier run left a file, and remembering it when this one
// leaves it (the policy is player::resume_action; SIGTERM is not a user's quit).
class Resume {
 public:
  explicit Resume(const Options& o)
      : enabled_(o.resume_playback), explicit_start_(o.start_set),
        store_(o.watch_later_dir.empty() ? player::default_watch_later_dir() : o.watch_later_dir) {}

  // Start position and the bytes to fetch first for `key` (a file of file_size bytes), unless
  // --start was given or resuming is off. Returns the start (0 = from the beginning).
  double recall(const std::string& key, int64_t file_size, int64_t* prefetch_pos, int64_t* prefetch_len,
                bool first_file) const {
    if (!enabled_ || (explicit_start_ && first_file)) return 0;
    player::ResumePoint r;
    if (!store_.load(key, &r) || r.position <= 0) return 0;
    if (file_size > 0 && r.duration > 0) {
      const double rate = double(file_size) / r.duration;  // bytes per second of media
      int64_t pos = r.byte_pos;
      if (pos < 0 || pos >= file_size) pos = static_cast<int64_t>(std::max(0.0, (r.position - 5) * rate));
      *prefetch_pos = pos;
      *prefetch_len = std::clamp<int64_t>(static_cast<int64_t>(rate * 10), 1 << 20, 32 << 20);
    }
    return r.position;
  }

  void leave(const std::string& key, const player::Player::Leave& l) const {
    player::LeaveReason reason = l.reason;
    if (reason == player::LeaveReason::Quit && g_signal.load() == SIGTERM) return;
    if (!enabled_ && reason != player::LeaveReason::QuitWatchLater) return;
    switch (player::resume_action(reason, l.position, l.duration)) {
      case player::ResumeAction::Save: {
        std::string error;
        player::ResumePoint r{l.position, l.byte_pos, l.duration};
        if (!store_.save(key, r, &error)) print_error("cannot remember the position: " + error);
        break;
      }
      case player::ResumeAction::Forget: store_.forget(key); break;
      case player::ResumeAction::Keep: break;
    }
  }

 private:
  bool enabled_, explicit_start_;
  player::WatchLater store_;
};

// Late subtitle files: fetched on other threads, handed to the player on its own thread.
struct SubtitleInbox {
  std::mutex mu;
  std::vector<std::pair<int, player::ExternalSub>> items;  // (playlist entry, file)
  void push(int entry, player::ExternalSub s) {
    std::lock_guard<std::mutex> lk(mu);
    items.emplace_back(entry, std::move(s));
  }
  void deliver(player::Player& p) {
    std::vector<std::pair<int, player::ExternalSub>> got;
    {
      std::lock_guard<std::mutex> lk(mu);
      got.swap(items);
    }
    for (auto& [entry, sub] : got) p.add_subtitle(entry, std::move(sub));
  }
};

// Fetches the subtitle files that sit beside a video in the torrent, in the background, with a
// short-lived session of its own (same peers and settings, a scratch folder under the download
// folder's .cine/). The streaming session keeps only the video selected: selecting another file
// there would leave it nothing to download for a moment, and it would drop its peers.
class SubtitleFetcher {
 public:
  SubtitleFetcher(streaming::SessionConfig cfg, std::string source, std::vector<std::pair<int, std::string>> files,
                  int entry, SubtitleInbox* inbox)
      : dir_(cfg.save_path + "/.cine/subtitle-fetch/" + std::to_string(::getpid()) + "-" + std::to_string(next_id_++)) {
    cfg.save_path = dir_;
    cfg.listen_port = 0;
    cfg.dht_state_file.clear();  // the streaming session keeps the DHT state
    cfg.opens_to_seek = false;   // it reads subtitle files from their start; nobody seeks
    cfg.seek_focus = false;      // nor tells when a picture is out
    thread_ = std::thread([this, cfg, source, files, entry, inbox] { run(cfg, source, files, entry, inbox); });
  }
  ~SubtitleFetcher() {
    stop_ = true;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (reading_) reading_->cancel();
    }
    if (thread_.joinable()) thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  void run(const streaming::SessionConfig& cfg, const std::string& source,
           const std::vector<std::pair<int, std::string>>& files, int entry, SubtitleInbox* inbox) {
    std::string error;
    if (!make_dirs(cfg.save_path, &error)) return;
    auto s = streaming::Session::create(cfg, &error);
    auto stop = [this] { return stop_.load() || g_quit.load(); };
    if (!s || !s->add(source, &error) || !s->wait_metadata(stop, &error)) return;
    for (const auto& [index, path] : files) {
      if (stop()) return;
      streaming::FileEntry e;
      if (!s->select_file(std::to_string(index), &e, &error) || e.size <= 0 || e.size > (8 << 20)) continue;
      std::unique_ptr<streaming::ByteSource> st = s->open_stream();
      if (!st) continue;
      {
        std::lock_guard<std::mutex> lk(mu_);
        reading_ = st.get();
        if (stop_) st->cancel();  // the destructor ran before it could see this stream
      }
      std::string data;
      std::vector<uint8_t> buf(64 * 1024);
      while (!stop() && static_cast<int64_t>(data.size()) < e.size) {
        int64_t n = st->read(buf.data(), buf.size());
        if (n <= 0) break;
        data.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        reading_ = nullptr;
      }
      if (static_cast<int64_t>(data.size()) == e.size) inbox->push(entry, {path, "", std::move(data)});
    }
  }

  static inline std::atomic<int> next_id_{0};
  std::string dir_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  streaming::ByteSource* reading_ = nullptr;  // cancelled by the destructor
  std::thread thread_;
};

// The subtitle files beside `video` in the torrent, (index, path) in natural order.
std::vector<std::pair<int, std::string>> subtitle_files_for(const streaming::Metadata& md, int video) {
  std::vector<std::string> paths;
  for (const auto& f : md.files) paths.push_back(f.path);
  std::vector<std::pair<int, std::string>> out;
  for (int idx : player::sibling_subtitles(paths, video)) {
    if (out.size() >= 8) break;
    out.emplace_back(idx, paths[size_t(idx)]);
  }
  return out;
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
int play_source(streaming::ByteSource* source, const Options& o, player::PlayerOptions popts,
                StatsLog* log, const std::function<void(player::Player&)>& wire,
                const std::function<std::string()>& swarm_status = nullptr) {
  player::Player p(source, std::move(popts), log);
  StatusLine status(o);
  p.on_tick = [&](double pos, bool buffering) {
    std::string line = player::format_time(pos);
    if (buffering) line += "  buffering...";
    if (swarm_status) line += "  " + swarm_status();
    status.update(line);
  };
  if (wire) wire(p);
  if (g_ipc) {
    IpcServer::Hooks hooks;
    hooks.properties = [&p] { return p.properties(); };
    hooks.post = [&p](const player::Command& c) { p.post(c); };
    hooks.loadfile = [&p](const std::string& path) {
      {
        std::lock_guard<std::mutex> lk(g_load_mu);
        g_pending_load = path;
      }
      p.post(player::Command{player::Command::Kind::Quit, 0});
    };
    g_ipc->set_hooks(std::move(hooks));
  }
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (g_quit) p.request_quit();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::string error;
  int code = p.run(&error);
  if (g_ipc) g_ipc->set_hooks({});  // before the player goes away
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

streaming::SessionConfig session_config(const Options& o) {
  streaming::SessionConfig cfg;
  cfg.listen_port = o.listen_port;
  cfg.listen_interface = o.interface;
  cfg.dht = o.dht;
  cfg.lsd = o.lsd;
  cfg.upnp = o.upnp;
  cfg.natpmp = o.natpmp;
  cfg.peers = o.peers;
  cfg.max_download = static_cast<int>(o.max_download);
  cfg.max_upload = static_cast<int>(o.max_upload);
  cfg.dht_bootstrap = o.dht_bootstrap;
  if (o.dht && !data_dir().empty()) cfg.dht_state_file = data_dir() + "/dht.state";
  cfg.log = torrent_log_sink();
  cfg.log_detailed = torrent_log_detailed();
  cfg.log_peers = torrent_log_peers();
  cfg.warn = [](const std::string& line) { print_error("warning: " + line); };
  return cfg;
}

std::string data_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x == '/') return std::string(x) + "/cine";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/cine";
  return "";
}

SeedLimit::SeedLimit(const Options& o) : ratio_(o.seed_ratio), seconds_(o.seed_time) {}

void SeedLimit::start() { since_ = std::chrono::steady_clock::now(); }

bool SeedLimit::reached(const streaming::Session& s, std::string* why) const {
  if (ratio_ > 0) {
    const int64_t size = s.metadata().total_size;
    const int64_t up = s.stats().uploaded;
    if (size > 0 && double(up) >= ratio_ * double(size)) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "seed ratio %.2f reached (%lld bytes uploaded)", ratio_,
                    static_cast<long long>(up));
      *why = buf;
      return true;
    }
  }
  if (seconds_ > 0) {
    const double seeded =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
    if (seeded >= seconds_) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "seed time %.0f s reached", seconds_);
      *why = buf;
      return true;
    }
  }
  return false;
}

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

int run_play(const Options& in) {
  std::unique_ptr<IpcServer> ipc;
  if (!in.input_ipc_server.empty()) {
    std::string error;
    ipc = IpcServer::start(in.input_ipc_server, &error);
    if (!ipc) {
      print_error(error);
      return 2;
    }
    g_ipc = ipc.get();
  }
  // `loadfile` over IPC replaces the current source: play again with the new one.
  Options o = in;
  int code;
  for (;;) {
    code = play_once(o);
    std::lock_guard<std::mutex> lk(g_load_mu);
    if (g_pending_load.empty() || g_quit) break;
    o.source = g_pending_load;
    o.start = 0;
    o.start_is_percent = false;
    g_pending_load.clear();
  }
  g_ipc = nullptr;
  return code;
}

namespace {

int play_once(const Options& o) {
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

  const bool torrent = streaming::is_magnet(o.source) || looks_like_torrent(o.source);
  if (!torrent) {
    auto file = streaming::FileSource::open(o.source, &error);
    if (!file) {
      log.emit("error", {{"message", error}});
      print_error(error);
      return finish(1);
    }
    std::string title = base_name(o.source) + " - Cine";
    player::PlayerOptions popts = player_options(o, title);
    Resume resume(o);
    const std::string key = player::local_file_key(o.source);
    const double at = resume.recall(key, file->size(), &popts.prefetch_pos, &popts.prefetch_len, true);
    if (at > 0) {
      popts.start = at;
      popts.start_is_percent = false;
    }
    return finish(play_source(file.get(), o, std::move(popts), &log, [&](player::Player& p) {
      p.on_leave = [&resume, key](const player::Player::Leave& l) { resume.leave(key, l); };
    }));
  }

  // --- torrent or magnet ---
  streaming::SessionConfig cfg = session_config(o);
  cfg.save_path = o.save_path.empty() ? default_save_path() : o.save_path;
  cfg.plan_before_add = true;
  cfg.seek_focus = true;
  cfg.posix_disk_io = true;
  cfg.opens_to_seek = o.start_set && o.start > 0;
  cfg.warn = [&log](const std::string& line) {
    print_error("warning: " + line);
    log.emit("warning", {{"message", line}});
  };
  if (!make_dirs(cfg.save_path, &error)) {
    log.emit("error", {{"message", error}});
    print_error(error);
    return finish(1);
  }
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

  // Playlist: the torrent's videos in episode order (the chosen file alone if it is not one).
  std::vector<std::string> paths;
  for (const auto& f : md.files) paths.push_back(f.path);
  std::vector<int> entries = player::episode_order(paths);
  if (std::find(entries.begin(), entries.end(), chosen.index) == entries.end()) entries = {chosen.index};
  Resume resume(o);
  auto key_of = [&md](int file_index) { return player::torrent_key(md.info_hash, file_index); };

  player::PlayerOptions popts = player_options(o, base_name(chosen.path) + " - Cine");
  for (int idx : entries) popts.playlist.push_back(paths[size_t(idx)]);
  popts.playlist_pos = static_cast<int>(std::find(entries.begin(), entries.end(), chosen.index) - entries.begin());
  const double at = resume.recall(key_of(chosen.index), chosen.size, &popts.prefetch_pos, &popts.prefetch_len, true);
  if (at > 0) {
    popts.start = at;
    popts.start_is_percent = false;
  }

  std::unique_ptr<streaming::ByteSource> stream = s->open_stream();
  auto swarm_status = [s] {
    streaming::SwarmStats st = s->stats();
    char buf[160];
    std::snprintf(buf, sizeof buf, "ahead %.1f MB  down %s  up %s  peers %d  %.0f%%",
                  st.buffered_ahead / 1e6, human_rate(st.download_rate).c_str(),
                  human_rate(st.upload_rate).c_str(), st.peers, st.progress * 100);
    return std::string(buf);
  };
  streaming::FileEntry current = chosen;
  // Subtitle files beside the video come from a fetcher of their own, while the video plays.
  SubtitleInbox sub_inbox;
  std::vector<std::unique_ptr<SubtitleFetcher>> fetchers;
  auto fetch_subs = [&](int file_index, int entry) {
    auto files = subtitle_files_for(md, file_index);
    if (!files.empty()) fetchers.push_back(std::make_unique<SubtitleFetcher>(cfg, o.source, files, entry, &sub_inbox));
  };
  fetch_subs(chosen.index, popts.playlist_pos);
  int code = play_source(stream.get(), o, std::move(popts), &log, [&](player::Player& p) {
    p.on_tick = [&p, &sub_inbox, tick = p.on_tick](double pos, bool buffering) {
      if (tick) tick(pos, buffering);
      sub_inbox.deliver(p);
    };
    p.decorate = [s, &current](player::OverlaySnapshot& snap) {
      streaming::SwarmStats st = s->stats();
      streaming::PieceView pv = s->piece_view();
      player::SwarmSnapshot& w = snap.swarm;
      w.have = true;
      w.download_rate = st.download_rate;
      w.upload_rate = st.upload_rate;
      w.peers = st.peers;
      w.seeds = st.seeds;
      w.progress = st.progress;
      w.downloaded = st.downloaded;
      w.uploaded = st.uploaded;
      w.ratio = st.downloaded > 0 ? double(st.uploaded) / double(st.downloaded) : -1;
      w.buffered_ahead = st.buffered_ahead;
      w.pieces = pv.states;
      w.torrent_pieces = pv.torrent_states;
      w.ring_used = st.ring_used;
      w.ring_capacity = st.ring_capacity;
      w.piece_size = pv.piece_size;
      w.file_offset = pv.file_offset - int64_t(pv.first_piece) * pv.piece_size;
      if (snap.file_size <= 0) snap.file_size = current.size;
    };
    p.on_leave = [&](const player::Player::Leave& l) {
      if (l.playlist_pos >= 0 && l.playlist_pos < int(entries.size())) resume.leave(key_of(entries[size_t(l.playlist_pos)]), l);
    };
    p.open_entry = [&](int index, player::NextFile* nf, std::string* err) {
      if (index < 0 || index >= int(entries.size())) {
        *err = "no such file";
        return false;
      }
      const int file_index = entries[size_t(index)];
      streaming::FileEntry fe;
      if (!s->select_file(std::to_string(file_index), &fe, err)) return false;
      log.emit("file_selected", {{"index", fe.index}, {"name", fe.path}, {"size", fe.size}});
      fetch_subs(file_index, index);
      for (const std::string& f : o.subs) nf->subs.push_back({f, f, ""});
      nf->source = s->open_stream();
      if (!nf->source) {
        *err = "cannot open '" + fe.path + "'";
        return false;
      }
      current = fe;
      nf->title = base_name(fe.path) + " - Cine";
      nf->start = resume.recall(key_of(file_index), fe.size, &nf->prefetch_pos, &nf->prefetch_len, false);
      return true;
    };
  }, swarm_status);
  fetchers.clear();
  stream.reset();
  // A disk or torrent error ends the stream's reads, which FFmpeg may report as the end of the
  // file: say why and fail instead.
  if (std::string const fatal = s->error(); !fatal.empty() && code != 130) {
    log.emit("error", {{"message", fatal}});
    print_error(fatal);
    code = 1;
  }
  s->save_resume();
  if (code == 0 && o.seed && !g_quit) {
    std::fprintf(stderr, "cine: playback ended; downloading/seeding in the background (Ctrl-C to stop)\n");
    SeedLimit limit(o);
    limit.start();
    std::string why;
    while (!g_quit && !limit.reached(*s, &why))
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!why.empty()) std::fprintf(stderr, "cine: %s; stopped seeding\n", why.c_str());
    s->save_resume();
  }
  return finish(code);
}

}  // namespace
}  // namespace cine
