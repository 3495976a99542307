#include "player/watch_later.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/sha.h>
}

namespace player {

namespace {

constexpr double kRememberAfter = 10.0;     // seconds
constexpr double kForgetAfterShare = 0.9;   // of the duration

bool all_hex(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string sha256_hex(const std::string& data, size_t hex_digits) {
  uint8_t digest[32];
  AVSHA* sha = av_sha_alloc();
  av_sha_init(sha, 256);
  av_sha_update(sha, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  av_sha_final(sha, digest);
  av_free(sha);
  static const char* const hex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out.substr(0, hex_digits);
}

bool make_dirs(const std::string& path, std::string* error) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if ((i == path.size() || path[i] == '/') && !cur.empty()) {
      if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
        *error = "cannot create '" + cur + "': " + std::strerror(errno);
        return false;
      }
    }
    if (i < path.size()) cur += path[i];
  }
  return true;
}

}  // namespace

ResumeAction resume_action(LeaveReason reason, double pos, double duration) {
  switch (reason) {
    case LeaveReason::QuitWatchLater: return ResumeAction::Save;
    case LeaveReason::Eof: return ResumeAction::Forget;
    case LeaveReason::Limit:
    case LeaveReason::Error: return ResumeAction::Keep;
    case LeaveReason::Quit:
    case LeaveReason::Switch:
      if (duration > 0 && pos >= kForgetAfterShare * duration) return ResumeAction::Forget;
      if (pos > kRememberAfter) return ResumeAction::Save;
      return ResumeAction::Keep;
  }
  return ResumeAction::Keep;
}

std::string default_watch_later_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x == '/') return std::string(x) + "/cine/watch_later";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/cine/watch_later";
  return {};
}

std::string torrent_key(const std::string& info_hash_hex, int file_index) {
  std::string h;
  if ((info_hash_hex.size() == 40 || info_hash_hex.size() == 64) && all_hex(info_hash_hex)) {
    for (char c : info_hash_hex) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else {
    h = sha256_hex(info_hash_hex, 40);
  }
  return "t-" + h + "-" + std::to_string(std::max(0, file_index));
}

std::string local_file_key(const std::string& path) {
  std::string abs = path;
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) abs = buf;
  return "f-" + sha256_hex(abs, 32);
}

std::string WatchLater::path_for(const std::string& key) const {
  // Keys are made above from hex digits; refuse anything else rather than trust it.
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return {};
  if (dir_.empty() || key.empty()) return {};
  return dir_ + "/" + key + ".json";
}

bool WatchLater::load(const std::string& key, ResumePoint* out) const {
  const std::string p = path_for(key);
  if (p.empty()) return false;
  std::ifstream in(p);
  if (!in) return false;
  // An entry is a line of JSON; anything large is not ours (and is not read into memory).
  in.seekg(0, std::ios::end);
  if (!in || in.tellg() > std::streamoff(64 << 10)) return false;
  in.seekg(0);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("position") || !j["position"].is_number())
    return false;
  ResumePoint r;
  r.position = j["position"].get<double>();
  if (j.contains("byte_pos") && j["byte_pos"].is_number_integer()) r.byte_pos = j["byte_pos"].get<int64_t>();
  if (j.contains("duration") && j["duration"].is_number()) r.duration = j["duration"].get<double>();
  if (!std::isfinite(r.position) || r.position < 0) return false;
  *out = r;
  return true;
}

bool WatchLater::save(const std::string& key, const ResumePoint& r, std::string* error) const {
  const std::string p = path_for(key);
  if (p.empty()) {
    *error = "no folder to remember positions in";
    return false;
  }
  if (!make_dirs(dir_, error)) return false;
  nlohmann::json j = {{"position", r.position}, {"byte_pos", r.byte_pos}, {"duration", r.duration}};
  const std::string tmp = p + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) {
      *error = "cannot write '" + tmp + "'";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), p.c_str()) != 0) {
    *error = "cannot write '" + p + "': " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

void WatchLater::forget(const std::string& key) const {
  const std::string p = path_for(key);
  if (!p.empty()) std::remove(p.c_str());
}

}  // namespace player
