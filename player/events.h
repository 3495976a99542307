// EventSink: how the player reports stats events (the `--stats-json` contract) upward.
// The player fills event-specific fields; the sink adds `t` and any swarm counters.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace player {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called from the player's main thread only.
  virtual void emit(const std::string& event, nlohmann::json fields) = 0;
};

}  // namespace player
