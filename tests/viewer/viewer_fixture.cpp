#include "viewer_fixture.h"

#include <SDL2/SDL.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "streaming/torrent_tools.h"

namespace viewer_test {

namespace fs = std::filesystem;

std::string vmedia(const std::string& name) { return std::string(VIEWER_MEDIA_DIR) + "/" + name; }

std::string fresh_dir(const std::string& name) {
  const std::string d = std::string(VIEWER_TEST_DIR) + "/scratch/" + name;
  std::error_code ec;
  fs::remove_all(d, ec);
  fs::create_directories(d, ec);
  return d;
}

std::vector<nlohmann::json> read_events(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::vector<nlohmann::json> events_named(const std::vector<nlohmann::json>& ev, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : ev)
    if (e.value("event", "") == name) out.push_back(e);
  return out;
}

Shot::Shot(const std::string& path) : s_(SDL_LoadBMP(path.c_str())) {
  if (s_) {
    SDL_Surface* c = SDL_ConvertSurfaceFormat(s_, SDL_PIXELFORMAT_RGB24, 0);
    SDL_FreeSurface(s_);
    s_ = c;
  }
}
Shot::~Shot() {
  if (s_) SDL_FreeSurface(s_);
}
int Shot::w() const { return s_->w; }
int Shot::h() const { return s_->h; }
Rgb Shot::at(int x, int y) const {
  const uint8_t* p = static_cast<const uint8_t*>(s_->pixels) + y * s_->pitch + x * 3;
  return {p[0], p[1], p[2]};
}

bool near(Rgb c, unsigned rgb, int tol) {
  return std::abs(c.r - int((rgb >> 16) & 255)) <= tol && std::abs(c.g - int((rgb >> 8) & 255)) <= tol &&
         std::abs(c.b - int(rgb & 255)) <= tol;
}

bool start_seeders(const std::string& content, const std::string& torrent, int count, int upload_rate,
                   Seeders* out, std::string* error) {
  if (!streaming::make_torrent(content, torrent, {}, 256 * 1024, error, &out->metadata)) return false;
  const std::string save = fs::path(content).parent_path().string();
  for (int i = 0; i < count; ++i) {
    streaming::SessionConfig cfg;
    cfg.save_path = save;
    cfg.listen_interface = "127.0.0.1";
    cfg.dht = cfg.lsd = cfg.upnp = cfg.natpmp = false;
    cfg.max_upload = upload_rate;
    auto s = streaming::Session::create(cfg, error);
    if (!s || !s->add(torrent, error) || !s->wait_checked([] { return false; }, error)) return false;
    out->peers.push_back("127.0.0.1:" + std::to_string(s->listen_port()));
    out->sessions.push_back(std::move(s));
  }
  return true;
}

std::vector<std::string> leech_args(const Seeders& s, const std::string& save_path) {
  std::vector<std::string> a = {"--save-path=" + save_path, "--interface=127.0.0.1", "--no-dht", "--no-lsd",
                                "--no-upnp", "--no-natpmp", "--no-seed"};
  for (const auto& p : s.peers) a.push_back("--peer=" + p);
  return a;
}

}  // namespace viewer_test
