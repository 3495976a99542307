// Helpers for the viewer tests: generated media paths, scratch folders, an Xvfb server, BMP
// screenshots as RGB pixels, and loopback seeders (real libtorrent sessions on 127.0.0.1 with
// DHT/LSD/UPnP/NAT-PMP off) for `cine play` to stream from.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_process.h"
#include "streaming/session.h"

struct SDL_Surface;

namespace viewer_test {

// A file made by make_viewer_media.sh.
std::string vmedia(const std::string& name);
// An empty folder below the test build folder (removed first if it exists).
std::string fresh_dir(const std::string& name);
// The JSON objects of a --stats-json file.
std::vector<nlohmann::json> read_events(const std::string& path);
std::vector<nlohmann::json> events_named(const std::vector<nlohmann::json>& ev, const std::string& name);

using cine_test::have_xvfb;
using cine_test::Xvfb;

struct Rgb {
  int r, g, b;
};
// A BMP screenshot as 24-bit RGB.
class Shot {
 public:
  explicit Shot(const std::string& path);
  ~Shot();
  bool ok() const { return s_ != nullptr; }
  int w() const;
  int h() const;
  Rgb at(int x, int y) const;

 private:
  SDL_Surface* s_ = nullptr;
};
// True when c is within tol of the 0xRRGGBB colour.
bool near(Rgb c, unsigned rgb, int tol = 8);

// Seeders of `content` (a file or folder) with a torrent made at `torrent` (256 KiB pieces).
struct Seeders {
  std::vector<std::unique_ptr<streaming::Session>> sessions;
  std::vector<std::string> peers;  // 127.0.0.1:PORT
  streaming::Metadata metadata;
};
bool start_seeders(const std::string& content, const std::string& torrent, int count, int upload_rate,
                   Seeders* out, std::string* error);
// `cine play` options that keep a leecher on loopback with only these peers.
std::vector<std::string> leech_args(const Seeders& s, const std::string& save_path);

}  // namespace viewer_test
