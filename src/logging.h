// Where FFmpeg's and libtorrent's log lines go: standard error as -v asks, and every line (at a
// verbose level) to the --log-file. Does not decide what libtorrent logs (streaming::Session).
#pragma once

#include <functional>
#include <string>

namespace cine {

// Sets FFmpeg's log level and callback for -v/-vv and opens log_file ("" = none) for
// writing. False + *error when the file cannot be opened. Call once, before any thread starts.
bool setup_logging(int verbose, const std::string& log_file, std::string* error);

// A sink for streaming::SessionConfig::log: nullptr when neither -v nor a log file asks for
// libtorrent's lines. Thread-safe.
std::function<void(const std::string&)> torrent_log_sink();

// True when libtorrent should log at its most detailed (-vv or a log file).
bool torrent_log_detailed();

// True when libtorrent should also log every peer protocol message (-vvv).
bool torrent_log_peers();

// Writes "[source] line" to the log file, if one is open. Thread-safe.
void log_to_file(const char* source, const std::string& line);

}  // namespace cine
