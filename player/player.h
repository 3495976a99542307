// Player: the facade that opens a ByteSource, runs demux/decode threads and the outputs, and
// drives playback from the main thread (sync, seeks, keys, overlay, stats events).
// It knows nothing of torrents: swarm details reach it only through the decorate hook.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "player/events.h"
#include "player/overlay.h"
#include "streaming/byte_source.h"

namespace player {

struct PlayerOptions {
  double start = 0;                 // seconds, or percent with start_is_percent
  bool start_is_percent = false;
  std::vector<std::pair<double, double>> seek_at;  // (at, target) seconds; at 0 = after 1st frame
  int64_t frames = -1;              // quit after this many shown frames
  double length = -1;               // quit after this much playback (s)
  bool video_window = true;         // false: null video output
  bool audio_device = true;         // false: null audio output
  bool no_sync = false;             // present as fast as decoded; null audio not paced
  std::string title;                // window title
  std::string frame_hash_file;      // write per-frame checksums (tests)
  std::vector<std::pair<double, std::string>> screenshots;  // (time, BMP path)
  bool quiet = false;               // no warnings on stderr
};

// Thread contract: run() on the main thread (SDL needs it); request_quit() from any thread.
class Player {
 public:
  Player(streaming::ByteSource* source, PlayerOptions opts, EventSink* events);
  ~Player();

  // Opens and plays until the end, a limit, or quit. Returns 0, or 1 with *error set to one
  // line when the input could not be played.
  int run(std::string* error);

  void request_quit();

  // Any thread: queue a command for the main loop (taken within ~10 ms, even mid-seek).
  struct Command {
    enum class Kind { SeekAbsolute, SeekRelative, SetPause, TogglePause, Quit } kind;
    double value = 0;
  };
  void post(Command c);

  // Filled by the wiring layer each time the overlay is drawn (swarm status, piece ranges).
  std::function<void(OverlaySnapshot&)> decorate;
  // Called on the main thread about 4 times a second with the playback position (seconds).
  std::function<void(double position, bool buffering)> on_tick;

  struct Stats {
    int64_t frames_shown = 0;
    int64_t frames_dropped = 0;
    double av_drift_max = 0;  // largest |video - audio| at presentation after sync settled
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace player
