#include "src/ipc_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

namespace cine {

using nlohmann::json;

struct IpcServer::Impl {
  std::string path;
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  std::thread thread;
  std::mutex mu;  // hooks
  Hooks hooks;

  struct Client {
    int fd;
    std::string in;                              // bytes not yet ending in a newline
    std::map<int64_t, std::string> observed;     // observe id -> property name
    std::map<int64_t, json> last;                // last value sent per observe id
  };
  std::map<int, Client> clients;  // by id (== fd)
};

namespace {

// mpv's property names, read from a snapshot. Null json when unknown.
json property_value(const player::Player::Properties& p, const std::string& name, bool* found) {
  *found = true;
  if (name == "time-pos" || name == "playback-time") return p.idle ? json() : json(p.time_pos);
  if (name == "duration") return p.duration > 0 ? json(p.duration) : json();
  if (name == "percent-pos") return p.duration > 0 ? json(p.percent_pos) : json();
  if (name == "time-remaining")
    return p.duration > 0 ? json(std::max(0.0, p.duration - p.time_pos)) : json();
  if (name == "pause") return p.pause;
  if (name == "core-idle") return p.pause || p.buffering || p.seeking || p.idle;
  if (name == "paused-for-cache") return p.buffering;
  if (name == "seeking") return p.seeking;
  if (name == "eof-reached") return p.eof_reached;
  if (name == "idle-active") return p.idle;
  if (name == "mute") return p.mute;
  if (name == "volume") return p.volume;
  if (name == "speed") return p.speed;
  if (name == "fullscreen") return p.fullscreen;
  if (name == "sub-delay") return p.sub_delay;
  if (name == "sub-visibility") return p.sub_visibility;
  if (name == "filename" || name == "media-title") return p.filename.empty() ? json() : json(p.filename);
  if (name == "aid") return p.aid > 0 ? json(p.aid) : json(false);
  if (name == "sid") return p.sid > 0 ? json(p.sid) : json(false);
  if (name == "playlist-pos") return p.playlist_pos;
  if (name == "playlist-count") return p.playlist_count;
  if (name == "sub-text") {
    std::string t;
    for (const auto& l : p.sub_text) t += (t.empty() ? "" : "\n") + l;
    return t;
  }
  if (name == "track-list") {
    json arr = json::array();
    for (const auto& t : p.tracks)
      arr.push_back({{"type", t.type}, {"id", t.id}, {"title", t.title}, {"lang", t.lang},
                     {"codec", t.codec}, {"external", t.external}, {"selected", t.selected},
                     {"default", t.default_track}});
    return arr;
  }
  *found = false;
  return json();
}

bool as_bool(const json& v, bool* out) {
  if (v.is_boolean()) return *out = v.get<bool>(), true;
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "yes" || s == "true") return *out = true, true;
    if (s == "no" || s == "false") return *out = false, true;
  }
  return false;
}

bool as_number(const json& v, double* out) {
  if (v.is_number()) return *out = v.get<double>(), std::isfinite(*out);
  if (v.is_string()) {
    try {
      size_t used = 0;
      std::string s = v.get<std::string>();
      *out = std::stod(s, &used);
      return used == s.size() && std::isfinite(*out);
    } catch (...) {
      return false;
    }
  }
  return false;
}

}  // namespace

std::unique_ptr<IpcServer> IpcServer::start(const std::string& path, std::string* error) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    *error = "--input-ipc-server: path empty or too long";
    return nullptr;
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = "--input-ipc-server: '" + path + "' exists and is not a socket";
      return nullptr;
    }
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 8) != 0) {
    *error = "--input-ipc-server: cannot listen on '" + path + "': " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  ::chmod(path.c_str(), 0600);  // only the user may drive the player
  std::unique_ptr<IpcServer> s(new IpcServer());
  s->impl_ = std::make_unique<Impl>();
  s->impl_->path = path;
  s->impl_->listen_fd = fd;
  if (::pipe2(s->impl_->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    *error = "--input-ipc-server: " + std::string(std::strerror(errno));
    return nullptr;
  }
  IpcServer* raw = s.get();
  s->impl_->thread = std::thread([raw] { raw->run(); });
  return s;
}

IpcServer::~IpcServer() {
  if (!impl_) return;
  if (impl_->wake[1] >= 0) (void)!::write(impl_->wake[1], "x", 1);
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& [id, c] : impl_->clients) ::close(c.fd);
  if (impl_->listen_fd >= 0) {
    ::close(impl_->listen_fd);
    ::unlink(impl_->path.c_str());
  }
  for (int fd : impl_->wake)
    if (fd >= 0) ::close(fd);
}

void IpcServer::set_hooks(Hooks hooks) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->hooks = std::move(hooks);
}

json IpcServer::handle(const std::string& text, int client) {
  json reply = json::object();
  json req;
  try {
    req = json::parse(text);
  } catch (...) {
    reply["error"] = "invalid parameter";
    return reply;
  }
  if (req.is_object() && req.contains("request_id")) reply["request_id"] = req["request_id"];
  if (!req.is_object() || !req.contains("command") || !req["command"].is_array() ||
      req["command"].empty() || !req["command"][0].is_string()) {
    reply["error"] = "invalid parameter";
    return reply;
  }
  const json& cmd = req["command"];
  const std::string name = cmd[0].get<std::string>();
  Hooks h;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    h = impl_->hooks;
  }
  auto ok = [&](json data = json()) {
    if (!data.is_null()) reply["data"] = data;
    reply["error"] = "success";
    return reply;
  };
  auto fail = [&](const char* why) {
    reply["error"] = why;
    return reply;
  };
  auto post = [&](player::Command::Kind k, double v = 0) {
    if (!h.post) return false;
    h.post(player::Command{k, v});
    return true;
  };
  using K = player::Command::Kind;

  if (name == "get_property" || name == "get_property_string") {
    if (cmd.size() < 2 || !cmd[1].is_string()) return fail("invalid parameter");
    if (!h.properties) return fail("property unavailable");
    bool found = false;
    json v = property_value(h.properties(), cmd[1].get<std::string>(), &found);
    if (!found) return fail("property not found");
    if (v.is_null()) return fail("property unavailable");
    if (name == "get_property_string") v = v.is_string() ? v : json(v.dump());
    return ok(v);
  }
  if (name == "set_property" || name == "set_property_string") {
    if (cmd.size() < 3 || !cmd[1].is_string()) return fail("invalid parameter");
    const std::string prop = cmd[1].get<std::string>();
    bool b;
    double d;
    if (prop == "pause" && as_bool(cmd[2], &b)) return post(K::SetPause, b) ? ok() : fail("property unavailable");
    if (prop == "mute" && as_bool(cmd[2], &b)) return post(K::SetMute, b) ? ok() : fail("property unavailable");
    if (prop == "fullscreen" && as_bool(cmd[2], &b)) {
      if (!h.properties) return fail("property unavailable");
      if (h.properties().fullscreen != b) post(K::ToggleFullscreen);
      return ok();
    }
    if (prop == "volume" && as_number(cmd[2], &d)) return post(K::SetVolume, d) ? ok() : fail("property unavailable");
    if (prop == "speed" && as_number(cmd[2], &d) && d > 0) return post(K::SetSpeed, d) ? ok() : fail("property unavailable");
    if ((prop == "time-pos" || prop == "playback-time") && as_number(cmd[2], &d))
      return post(K::SeekAbsolute, d) ? ok() : fail("property unavailable");
    if (prop == "percent-pos" && as_number(cmd[2], &d)) return post(K::SeekPercent, d) ? ok() : fail("property unavailable");
    if (prop == "aid" && as_number(cmd[2], &d)) return post(K::SetAudioTrack, d) ? ok() : fail("property unavailable");
    if (prop == "sid") {
      if (cmd[2] == false || cmd[2] == "no") return post(K::SetSubTrack, 0) ? ok() : fail("property unavailable");
      if (as_number(cmd[2], &d)) return post(K::SetSubTrack, d) ? ok() : fail("property unavailable");
    }
    if (prop == "playlist-pos" && as_number(cmd[2], &d)) return post(K::PlaylistSelect, d) ? ok() : fail("property unavailable");
    bool found = false;
    if (h.properties) property_value(h.properties(), prop, &found);
    return fail(found ? "invalid parameter" : "property not found");
  }
  if (name == "seek") {
    double d;
    if (cmd.size() < 2 || !as_number(cmd[1], &d)) return fail("invalid parameter");
    std::string mode = cmd.size() >= 3 && cmd[2].is_string() ? cmd[2].get<std::string>() : "relative";
    // mpv allows flags like "absolute+exact"; every Cine seek is exact.
    mode = mode.substr(0, mode.find('+'));
    if (mode == "relative" || mode == "exact" || mode == "keyframes") return post(K::SeekRelative, d) ? ok() : fail("error running command");
    if (mode == "absolute") return post(K::SeekAbsolute, d) ? ok() : fail("error running command");
    if (mode == "absolute-percent") return post(K::SeekPercent, d) ? ok() : fail("error running command");
    if (mode == "relative-percent") {
      if (!h.properties) return fail("error running command");
      auto p = h.properties();
      if (p.duration <= 0) return fail("error running command");
      return post(K::SeekRelative, p.duration * d / 100.0) ? ok() : fail("error running command");
    }
    return fail("invalid parameter");
  }
  if (name == "cycle") {
    if (cmd.size() < 2 || !cmd[1].is_string()) return fail("invalid parameter");
    const std::string prop = cmd[1].get<std::string>();
    double dir = cmd.size() >= 3 && cmd[2] == "down" ? -1 : 1;
    if (prop == "pause") return post(K::TogglePause) ? ok() : fail("property unavailable");
    if (prop == "mute") return post(K::ToggleMute) ? ok() : fail("property unavailable");
    if (prop == "fullscreen") return post(K::ToggleFullscreen) ? ok() : fail("property unavailable");
    if (prop == "aid" || prop == "audio") return post(K::CycleAudio, dir) ? ok() : fail("property unavailable");
    if (prop == "sid" || prop == "sub") return post(K::CycleSub, dir) ? ok() : fail("property unavailable");
    if (prop == "sub-visibility") return post(K::ToggleSubVisibility) ? ok() : fail("property unavailable");
    return fail("property not found");
  }
  if (name == "add") {
    double d = 1;
    if (cmd.size() < 2 || !cmd[1].is_string() || (cmd.size() >= 3 && !as_number(cmd[2], &d)))
      return fail("invalid parameter");
    const std::string prop = cmd[1].get<std::string>();
    if (prop == "volume") return post(K::VolumeAdd, d) ? ok() : fail("property unavailable");
    if (prop == "sub-delay") return post(K::SubDelayAdd, d) ? ok() : fail("property unavailable");
    if (prop == "speed" && h.properties) return post(K::SetSpeed, std::max(0.01, h.properties().speed + d)) ? ok() : fail("property unavailable");
    return fail("property not found");
  }
  if (name == "frame-step") return post(K::FrameStep) ? ok() : fail("error running command");
  if (name == "frame-back-step") return post(K::FrameBackStep) ? ok() : fail("error running command");
  if (name == "playlist-next") return post(K::PlaylistNext) ? ok() : fail("error running command");
  if (name == "playlist-prev") return post(K::PlaylistPrev) ? ok() : fail("error running command");
  if (name == "quit" || name == "stop") return post(K::Quit) ? ok() : fail("error running command");
  if (name == "quit-watch-later") return post(K::QuitWatchLater) ? ok() : fail("error running command");
  if (name == "loadfile") {
    if (cmd.size() < 2 || !cmd[1].is_string() || cmd[1].get<std::string>().empty()) return fail("invalid parameter");
    if (!h.loadfile) return fail("error running command");
    h.loadfile(cmd[1].get<std::string>());
    return ok();
  }
  if (name == "observe_property" || name == "observe_property_string") {
    if (cmd.size() < 3 || !cmd[1].is_number_integer() || !cmd[2].is_string()) return fail("invalid parameter");
    auto it = impl_->clients.find(client);
    if (it == impl_->clients.end()) return fail("error running command");
    it->second.observed[cmd[1].get<int64_t>()] = cmd[2].get<std::string>();
    it->second.last.erase(cmd[1].get<int64_t>());  // first value is sent on the next turn
    return ok();
  }
  if (name == "unobserve_property") {
    if (cmd.size() < 2 || !cmd[1].is_number_integer()) return fail("invalid parameter");
    auto it = impl_->clients.find(client);
    if (it != impl_->clients.end()) {
      it->second.observed.erase(cmd[1].get<int64_t>());
      it->second.last.erase(cmd[1].get<int64_t>());
    }
    return ok();
  }
  if (name == "client_name") return ok(std::string("cine-ipc-") + std::to_string(client));
  if (name == "get_version") return ok(1);
  return fail("invalid parameter");  // mpv answers unknown commands this way too
}

void IpcServer::run() {
  Impl& m = *impl_;
  auto send_line = [](int fd, const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  };
  for (;;) {
    std::vector<pollfd> fds = {{m.wake[0], POLLIN, 0}, {m.listen_fd, POLLIN, 0}};
    for (auto& [id, c] : m.clients) fds.push_back({c.fd, POLLIN, 0});
    int r = ::poll(fds.data(), fds.size(), 100);
    if (r < 0 && errno != EINTR) return;
    if (fds[0].revents) return;  // stop
    if (fds[1].revents & POLLIN) {
      int c = ::accept4(m.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0 && m.clients.size() < 64) m.clients[c] = Impl::Client{c, {}, {}, {}};
      else if (c >= 0) ::close(c);
    }
    std::vector<int> gone;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      auto it = m.clients.find(fds[i].fd);
      if (it == m.clients.end()) continue;
      char buf[4096];
      ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0) {
        gone.push_back(fds[i].fd);
        continue;
      }
      it->second.in.append(buf, static_cast<size_t>(n));
      if (it->second.in.size() > (1 << 20)) {  // a line longer than 1 MiB: not a client of ours
        gone.push_back(fds[i].fd);
        continue;
      }
      size_t nl;
      while ((nl = it->second.in.find('\n')) != std::string::npos) {
        std::string line = it->second.in.substr(0, nl);
        it->second.in.erase(0, nl + 1);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (!send_line(it->first, handle(line, it->first))) {
          gone.push_back(it->first);
          break;
        }
      }
    }
    // Property changes for observers, at most every poll turn (~10 Hz).
    Hooks h;
    {
      std::lock_guard<std::mutex> lk(m.mu);
      h = m.hooks;
    }
    if (h.properties) {
      bool any = false;
      for (auto& [id, c] : m.clients) any |= !c.observed.empty();
      if (any) {
        player::Player::Properties p = h.properties();
        for (auto& [id, c] : m.clients) {
          for (auto& [oid, prop] : c.observed) {
            bool found = false;
            json v = property_value(p, prop, &found);
            // time-pos changes continuously; report it at 0.1 s granularity like a UI would.
            auto lit = c.last.find(oid);
            if (lit != c.last.end() && lit->second == v) continue;
            if (lit != c.last.end() && v.is_number() && lit->second.is_number() &&
                (prop == "time-pos" || prop == "playback-time" || prop == "percent-pos" ||
                 prop == "time-remaining") &&
                std::fabs(v.get<double>() - lit->second.get<double>()) < 0.1)
              continue;
            c.last[oid] = v;
            json ev = {{"event", "property-change"}, {"id", oid}, {"name", prop}};
            if (!v.is_null()) ev["data"] = v;
            if (!send_line(c.fd, ev)) gone.push_back(c.fd);
          }
        }
      }
    }
    for (int fd : gone) {
      if (m.clients.erase(fd)) ::close(fd);
    }
  }
}

}  // namespace cine
