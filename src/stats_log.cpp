#include "src/stats_log.h"

#include <cerrno>
#include <chrono>
#include <cstring>

namespace cine {

namespace {
const auto kProgramStart = std::chrono::steady_clock::now();
}

double program_time() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - kProgramStart).count();
}

StatsLog::~StatsLog() {
  if (f_) std::fclose(f_);
}

bool StatsLog::open(const std::string& path, std::string* error) {
  f_ = std::fopen(path.c_str(), "w");
  if (!f_) {
    *error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

void StatsLog::emit(const std::string& event, nlohmann::json fields) {
  if (!f_) return;
  nlohmann::json j = nlohmann::json::object();
  j["t"] = program_time();
  j["event"] = event;
  for (auto& [k, v] : fields.items()) j[k] = v;
  const bool bytes = event == "first_frame" || event == "seek_done" || event == "progress" ||
                     event == "exit";
  if (bytes) {
    Counters c = counters_ ? counters_() : Counters{};
    j["downloaded"] = c.downloaded;
    if (event == "progress" || event == "exit") j["uploaded"] = c.uploaded;
    if (event == "progress") {
      j["download_rate"] = c.download_rate;
      j["upload_rate"] = c.upload_rate;
      j["peers"] = c.peers;
      j["pieces_have"] = c.pieces_have;
      j["buffered_ahead"] = c.buffered_ahead;
    }
  }
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lk(mu_);
  std::fputs(line.c_str(), f_);
  std::fputc('\n', f_);
  std::fflush(f_);
}

}  // namespace cine
