// The `cine play` and `cine demo` commands: wires a ByteSource (file or torrent stream) to the
// player, the stats log and the signal handling. Parsing lives in cli.h.
#pragma once

#include <chrono>
#include <string>

#include "src/cli.h"
#include "streaming/session.h"

namespace cine {

// Each returns the process exit status; errors are printed as one line on stderr.
int run_play(const Options& opts);
int run_demo(const Options& opts);

// SIGINT/SIGTERM set a flag that long-running commands poll.
void install_signal_handlers();
bool quit_requested();

// The session settings the CLI options give (listen address, discovery, peers, rate limits);
// the save path is left to the caller.
streaming::SessionConfig session_config(const Options& opts);

// Cine's data folder: $XDG_DATA_HOME/cine or ~/.local/share/cine ("" when neither is set).
// The DHT state (dht.state) and remembered positions (watch_later/) live there.
std::string data_dir();

// The seeding policy of --seed-ratio and --seed-time: reached() once the session uploaded
// ratio x the torrent's size in this run, or seeded for that long since start().
class SeedLimit {
 public:
  explicit SeedLimit(const Options& opts);
  bool active() const { return ratio_ > 0 || seconds_ > 0; }
  void start();
  // True (and *why, one line) once a limit is met.
  bool reached(const streaming::Session& s, std::string* why) const;

 private:
  double ratio_, seconds_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
};

// The download folder when --save-path is not given: $XDG_DOWNLOAD_DIR or ~/Downloads/cine.
std::string default_save_path();
// mkdir -p; false + *error (one line) when it cannot be made or is not a directory.
bool make_dirs(const std::string& path, std::string* error);

// Prints "cine: <message>" on stderr.
void print_error(const std::string& message);

}  // namespace cine
