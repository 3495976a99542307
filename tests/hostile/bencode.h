// A tiny bencode writer for hostile-input tests: builds well-formed and deliberately broken
// .torrent files byte by byte. Test-only; it does not parse.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bencode {

inline std::string str(const std::string& s) { return std::to_string(s.size()) + ":" + s; }
inline std::string num(int64_t n) { return "i" + std::to_string(n) + "e"; }
inline std::string list(const std::vector<std::string>& items) {
  std::string out = "l";
  for (const std::string& i : items) out += i;
  return out + "e";
}
// Keys are written in sorted order, as BEP 3 asks; values are already-encoded strings.
inline std::string dict(const std::map<std::string, std::string>& items) {
  std::string out = "d";
  for (const auto& [k, v] : items) out += str(k) + v;
  return out + "e";
}

// Fake piece hashes: n * 20 bytes (they only have to be there; nothing is downloaded).
inline std::string fake_pieces(int64_t n) { return std::string(size_t(n * 20), '\x5a'); }

// A single-file torrent: {"announce"?, "info": info}.
inline std::string torrent(const std::string& info) { return dict({{"info", info}}); }

inline std::string single_file_info(const std::string& name, int64_t length, int64_t piece_len,
                                    const std::string& pieces) {
  return dict({{"name", str(name)},
               {"length", num(length)},
               {"piece length", num(piece_len)},
               {"pieces", str(pieces)}});
}

// files: (path components, length, attr) in torrent order.
struct File {
  std::vector<std::string> path;
  int64_t length = 0;
  std::string attr;                       // BEP 47 "l" symlink, "p" pad, ...
  std::vector<std::string> symlink_path;  // BEP 47
};

inline std::string multi_file_info(const std::string& name, const std::vector<File>& files,
                                   int64_t piece_len, const std::string& pieces) {
  std::vector<std::string> fl;
  fl.reserve(files.size());
  for (const File& f : files) {
    std::vector<std::string> comps;
    for (const std::string& c : f.path) comps.push_back(str(c));
    std::map<std::string, std::string> d{{"length", num(f.length)}, {"path", list(comps)}};
    if (!f.attr.empty()) d["attr"] = str(f.attr);
    if (!f.symlink_path.empty()) {
      std::vector<std::string> sl;
      for (const std::string& c : f.symlink_path) sl.push_back(str(c));
      d["symlink path"] = list(sl);
    }
    fl.push_back(dict(d));
  }
  return dict({{"name", str(name)},
               {"files", list(fl)},
               {"piece length", num(piece_len)},
               {"pieces", str(pieces)}});
}

}  // namespace bencode
