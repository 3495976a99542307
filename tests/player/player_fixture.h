// Test helpers for the player: run a Player on a media file with null outputs and record the
// stats events it emits; decode a file the plain FFmpeg way for comparison.
#pragma once

#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "player/clock.h"
#include "player/decoder.h"
#include "player/demuxer.h"
#include "player/player.h"
#include "streaming/file_source.h"

extern "C" {
#include <libavutil/log.h>
}

namespace cine_test {

inline std::string media(const std::string& name) { return std::string(CINE_MEDIA_DIR) + "/" + name; }

struct Event {
  std::string name;
  nlohmann::json fields;
  double t;
};

class RecordingSink : public player::EventSink {
 public:
  void emit(const std::string& e, nlohmann::json f) override {
    std::lock_guard<std::mutex> lk(mu_);
    events_.push_back({e, std::move(f), player::now_seconds()});
  }
  std::vector<Event> events() const {
    std::lock_guard<std::mutex> lk(mu_);
    return events_;
  }
  std::vector<Event> named(const std::string& n) const {
    std::vector<Event> out;
    for (auto& e : events())
      if (e.name == n) out.push_back(e);
    return out;
  }
  int count(const std::string& n) const { return static_cast<int>(named(n).size()); }

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

struct RunResult {
  int code = -1;
  std::string error;
  player::Player::Stats stats;
};

// Runs the player headless on `path`; `during` (if set) runs on another thread with the player.
inline RunResult run_player(const std::string& path, player::PlayerOptions o, RecordingSink* sink,
                            const std::function<void(player::Player&)>& during = nullptr) {
  o.video_window = false;
  o.audio_device = false;
  o.quiet = true;
  av_log_set_level(AV_LOG_QUIET);
  RunResult r;
  std::string err;
  auto src = streaming::FileSource::open(path, &err);
  REQUIRE_MESSAGE(src, err);
  player::Player p(src.get(), o, sink);
  std::thread t;
  if (during) t = std::thread([&] { during(p); });
  r.code = p.run(&r.error);
  if (t.joinable()) t.join();
  r.stats = p.stats();
  return r;
}

// Per-frame checksums ("pts_ms checksum") decoded with a plain avformat_open_input on the path.
std::vector<std::string> reference_hashes(const std::string& path);
// Reads a --frame-hashes file.
std::vector<std::string> read_lines(const std::string& path);

// Frame duration of the clips the tests generate (25 fps).
constexpr double kFrame = 1.0 / 25;

}  // namespace cine_test
