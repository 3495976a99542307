#include "src/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace cine {

namespace {
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace

std::string config_path() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/cine/cine.conf";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/cine/cine.conf";
  return "";
}

bool load_config(const std::string& path, std::vector<std::string>* args, std::string* error) {
  if (path.empty()) return true;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return true;
    *error = path + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (n > 10000 || line.size() > 4096) {
      *error = path + ":" + std::to_string(n) + ": line too long or file too large";
      return false;
    }
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string key = t, val;
    bool has_val = false;
    if (auto eq = t.find('='); eq != std::string::npos) {
      key = trim(t.substr(0, eq));
      val = trim(t.substr(eq + 1));
      has_val = true;
      // Allow quoting like mpv: key="value with spaces".
      if (val.size() >= 2 && ((val.front() == '"' && val.back() == '"') ||
                              (val.front() == '\'' && val.back() == '\'')))
        val = val.substr(1, val.size() - 2);
    }
    if (key.rfind("--", 0) == 0) key = key.substr(2);
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
      *error = path + ":" + std::to_string(n) + ": expected key=value, got '" + t + "'";
      return false;
    }
    if (has_val && (val == "yes" || val == "no")) {
      bool neg = key.rfind("no-", 0) == 0;
      std::string base = neg ? key.substr(3) : key;
      bool on = (val == "yes") != neg;
      // Flags that exist as a pair (--seed/--no-seed) or only in the negative (--no-dht).
      args->push_back(on ? "--" + base : "--no-" + base);
      if (on && (base == "dht" || base == "lsd" || base == "upnp" || base == "natpmp")) args->pop_back();
      continue;
    }
    args->push_back(has_val ? "--" + key + "=" + val : "--" + key);
  }
  return true;
}

}  // namespace cine
