// StatsLog: the `--stats-json` event writer — one JSON object a line, flushed as written,
// each with `t` (monotonic seconds since program start) and `event`. Also the player's sink.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#include "player/events.h"

namespace cine {

// Swarm counters added to the events that carry them (zeros for local files).
struct Counters {
  int64_t downloaded = 0, uploaded = 0;
  int download_rate = 0, upload_rate = 0;
  int peers = 0, pieces_have = 0;
  int64_t buffered_ahead = 0;
};

// Seconds since the program started (steady clock); the `t` of every event.
double program_time();

// Thread-safe. Writes nothing when opened without a path.
class StatsLog : public player::EventSink {
 public:
  StatsLog() = default;
  ~StatsLog() override;
  // False + *error when the file cannot be written.
  bool open(const std::string& path, std::string* error);
  void set_counters(std::function<Counters()> f) { counters_ = std::move(f); }
  void emit(const std::string& event, nlohmann::json fields) override;

 private:
  std::mutex mu_;
  FILE* f_ = nullptr;
  std::function<Counters()> counters_;
};

}  // namespace cine
