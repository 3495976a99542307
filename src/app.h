// The `cine play` and `cine demo` commands: wires a ByteSource (file or torrent stream) to the
// player, the stats log and the signal handling. Parsing lives in cli.h.
#pragma once

#include "src/cli.h"

namespace cine {

// Each returns the process exit status; errors are printed as one line on stderr.
int run_play(const Options& opts);
int run_demo(const Options& opts);

// SIGINT/SIGTERM set a flag that long-running commands poll.
void install_signal_handlers();
bool quit_requested();

// Prints "cine: <message>" on stderr.
void print_error(const std::string& message);

}  // namespace cine
