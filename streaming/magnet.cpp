#include "streaming/magnet.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "streaming/safe_text.h"

namespace streaming {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool all_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 4648 base32 (A-Z, 2-7), 32 characters -> 20 bytes -> 40 hex. False on a bad character.
bool base32_to_hex(const std::string& s, std::string* hex) {
  static const char* digits = "0123456789abcdef";
  uint64_t acc = 0;
  int bits = 0;
  hex->clear();
  for (char c : s) {
    int v;
    char const u = char(std::toupper(static_cast<unsigned char>(c)));
    if (u >= 'A' && u <= 'Z')
      v = u - 'A';
    else if (u >= '2' && u <= '7')
      v = u - '2' + 26;
    else
      return false;
    acc = acc << 5 | uint64_t(v);
    bits += 5;
    while (bits >= 4) {
      bits -= 4;
      *hex += digits[(acc >> bits) & 0xF];
    }
  }
  return hex->size() == 40;
}

constexpr size_t kMaxMagnetBytes = 16 << 10;  // real links with many trackers stay far below

// A name a link may suggest: shown and possibly used for a folder until the metadata arrives.
bool safe_name(const std::string& n) {
  return !has_unsafe_chars(n) && n != "." && n != ".." && n.find('/') == std::string::npos &&
         n.find('\\') == std::string::npos;
}

// Trackers Cine may contact: announce URLs over HTTP(S) or UDP (and WebSocket ones, which
// libtorrent ignores), never local files or scripts.
bool allowed_tracker(const std::string& url) {
  std::string const l = lower(url.substr(0, 8));
  for (const char* scheme : {"http://", "https://", "udp://", "ws://", "wss://"})
    if (l.rfind(scheme, 0) == 0) return !has_unsafe_chars(url);
  return false;
}

}  // namespace

bool is_magnet(const std::string& s) { return lower(s.substr(0, 7)) == "magnet:"; }

bool parse_magnet(const std::string& uri, MagnetInfo* out, std::string* error) {
  *out = MagnetInfo{};
  if (!is_magnet(uri) || uri.size() < 8 || uri[7] != '?') {
    *error = "not a magnet link (expected magnet:?xt=urn:btih:...): " + display_safe(uri, 200);
    return false;
  }
  if (uri.size() > kMaxMagnetBytes) {
    *error = "magnet link too long (" + std::to_string(uri.size()) + " bytes, at most " +
             std::to_string(kMaxMagnetBytes) + ")";
    return false;
  }
  std::string const query = uri.substr(8);
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string const param = query.substr(pos, amp - pos);
    pos = amp + 1;
    size_t const eq = param.find('=');
    if (eq == std::string::npos) continue;
    std::string const key = lower(param.substr(0, eq));
    std::string const value = percent_decode(param.substr(eq + 1));
    if (key == "xt" || (key.rfind("xt.", 0) == 0)) {
      std::string const v = lower(value);
      if (v.rfind("urn:btih:", 0) == 0) {
        std::string const h = value.substr(9);
        if (h.size() == 40 && all_hex(h)) {
          out->btih = lower(h);
        } else if (h.size() != 32 || !base32_to_hex(h, &out->btih)) {
          *error = "invalid info-hash in magnet link: '" + display_safe(h, 100) +
                   "' (expected 40 hex or 32 base32 characters)";
          return false;
        }
      } else if (v.rfind("urn:btmh:", 0) == 0) {
        std::string const h = v.substr(9);
        if (h.size() == 68 && h.rfind("1220", 0) == 0 && all_hex(h)) {
          out->btmh = h.substr(4);
        } else {
          *error = "invalid v2 info-hash in magnet link: '" + display_safe(value.substr(9), 100) +
                   "' (expected 1220 followed by 64 hex characters)";
          return false;
        }
      }
    } else if (key == "dn") {
      if (!safe_name(value)) {
        *error = "unsafe name in magnet link (dn=" + display_safe(value, 100) +
                 "): control, bidi or path characters";
        return false;
      }
      out->name = value;
    } else if (key == "tr" || key.rfind("tr.", 0) == 0) {
      if (!allowed_tracker(value)) {
        *error = "unsupported tracker in magnet link: '" + display_safe(value, 200) +
                 "' (only http, https and udp announce URLs)";
        return false;
      }
      out->trackers.push_back(value);
    } else if (key == "x.pe") {
      out->peers.push_back(value);
    }
  }
  if (out->btih.empty() && out->btmh.empty()) {
    *error = "magnet link has no info-hash (xt=urn:btih:... or xt=urn:btmh:...)";
    return false;
  }
  return true;
}

}  // namespace streaming
