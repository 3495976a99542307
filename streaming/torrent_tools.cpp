#include "streaming/torrent_tools.h"

#include <cstdio>
#include <filesystem>
#include <iterator>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/file_storage.hpp>

#include "streaming/files.h"
#include "streaming/safe_text.h"

namespace streaming {

namespace {

namespace fs = std::filesystem;

std::string human_size(int64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

bool valid_piece_size(int n) {
  return n == 0 || (n >= (16 << 10) && n <= (64 << 20) && (n & (n - 1)) == 0);
}

}  // namespace

bool make_torrent(const std::string& path, const std::string& out_file,
                  const std::vector<std::string>& trackers, int piece_size, std::string* error,
                  Metadata* made, const std::vector<std::string>& web_seeds) {
  if (!valid_piece_size(piece_size)) {
    *error = "invalid piece size " + std::to_string(piece_size) +
             " (a power of two from 16384 to 67108864, or 0 for automatic)";
    return false;
  }
  if (out_file.empty()) {
    *error = "no output file (-o FILE.torrent)";
    return false;
  }
  std::error_code ec;
  fs::path const root = fs::absolute(path, ec).lexically_normal();
  if (ec || !fs::exists(root, ec)) {
    *error = "cannot open " + path + ": no such file or directory";
    return false;
  }
  fs::path const base = root.has_filename() ? root : root.parent_path();
  lt::file_storage files;
  std::string const root_str = base.string();
  try {
    lt::add_files(files, root_str, [&](const std::string& p) {
      return p == root_str || fs::path(p).filename().string().rfind('.', 0) != 0;
    });
  } catch (const std::exception& e) {
    *error = "cannot list " + path + ": " + e.what();
    return false;
  }
  if (files.num_files() == 0 || files.total_size() == 0) {
    *error = "nothing to share in " + path + " (no non-empty files)";
    return false;
  }
  std::vector<char> bytes;
  try {
    lt::create_torrent t(files, piece_size, lt::create_torrent::v1_only);
    int tier = 0;
    for (const std::string& url : trackers) t.add_tracker(url, tier++);
    for (const std::string& url : web_seeds) t.add_url_seed(url);
    t.set_creator("Cine 0.1.0");
    lt::error_code lec;
    lt::set_piece_hashes(t, base.parent_path().string(), lec);
    if (lec) {
      *error = "cannot hash " + path + ": " + lec.message();
      return false;
    }
    lt::bencode(std::back_inserter(bytes), t.generate());
  } catch (const std::exception& e) {
    *error = "cannot create a torrent from " + path + ": " + e.what();
    return false;
  }
  if (!write_file_atomically(out_file, bytes, error)) return false;
  return !made || load_torrent_metadata(out_file, made, error);
}

std::string format_metadata(const Metadata& m) {
  std::string s;
  s += "name:       " + m.name + "\n";
  s += "info-hash:  " + m.info_hash + "\n";
  s +=
      "size:       " + std::to_string(m.total_size) + " bytes (" + human_size(m.total_size) + ")\n";
  s +=
      "piece size: " + std::to_string(m.piece_size) + " bytes (" + human_size(m.piece_size) + ")\n";
  s += "pieces:     " + std::to_string(m.num_pieces) + "\n";
  s += "files:      " + std::to_string(m.files.size()) + "\n";
  for (const FileEntry& f : m.files) {
    char line[64];
    std::snprintf(line, sizeof line, "  %4d  %14lld  ", f.index, static_cast<long long>(f.size));
    s += line + f.path + "\n";
  }
  s += m.trackers.empty() ? "trackers:   (none)\n" : "trackers:\n";
  for (const std::string& t : m.trackers) s += "  " + t + "\n";
  if (!m.web_seeds.empty()) s += "web seeds:\n";
  for (const std::string& w : m.web_seeds) s += "  " + w + "\n";
  return s;
}

std::string format_magnet(const MagnetInfo& m) {
  std::string s;
  s += "name:       " + (m.name.empty() ? std::string("(not in the link)") : m.name) + "\n";
  if (!m.btih.empty()) s += "info-hash:  " + m.btih + "\n";
  if (!m.btmh.empty()) s += "info-hash2: " + m.btmh + " (v2)\n";
  s += m.trackers.empty() ? "trackers:   (none)\n" : "trackers:\n";
  for (const std::string& t : m.trackers) s += "  " + t + "\n";
  if (!m.peers.empty()) {
    s += "peers:\n";
    for (const std::string& p : m.peers) s += "  " + display_safe(p, 200) + "\n";
  }
  s += "files:      unknown until the metadata is fetched from peers (add --peer=HOST:PORT)\n";
  return s;
}

bool describe(const std::string& source, std::string* text, std::string* error) {
  if (is_magnet(source)) {
    MagnetInfo mi;
    if (!parse_magnet(source, &mi, error)) return false;
    *text = format_magnet(mi);
    return true;
  }
  Metadata m;
  if (!load_torrent_metadata(source, &m, error)) return false;
  *text = format_metadata(m);
  return true;
}

}  // namespace streaming
