// Magnet URI inspection: checks the info-hash (libtorrent 2.0.8 alone turns garbage into an
// all-zero hash) and lists what the link holds. Pure string work; libtorrent parses it after.
#pragma once

#include <string>
#include <vector>

namespace streaming {

struct MagnetInfo {
  std::string btih;                   // v1 info-hash, 40 lowercase hex ("" if absent)
  std::string btmh;                   // v2 info-hash (SHA-256), 64 lowercase hex ("" if absent)
  std::string name;                   // dn
  std::vector<std::string> trackers;  // tr
  std::vector<std::string> peers;     // x.pe
};

// True when s is meant as a magnet link ("magnet:" prefix, any case).
bool is_magnet(const std::string& s);

// Parses and validates: every xt=urn:btih: must be 40 hex or 32 base32 characters, every
// xt=urn:btmh: must be the multihash 1220 followed by 64 hex characters, and there must be at
// least one of them. False with a one-line *error otherwise.
bool parse_magnet(const std::string& uri, MagnetInfo* out, std::string* error);

}  // namespace streaming
