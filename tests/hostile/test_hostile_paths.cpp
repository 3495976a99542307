// Hostile file names in a torrent (../, absolute paths, backslashes, NUL, control and bidi
// characters, BEP 47 symlinks, 2,500 nested folders, over-long names, case collisions): a real
// loopback download never creates a file, folder or symlink outside the save path, and the
// names Cine shows are free of control and bidi characters.
#include <doctest/doctest.h>

#include <chrono>
#include <libtorrent/hasher.hpp>
#include <libtorrent/torrent_info.hpp>
#include <random>
#include <thread>

#include "bencode.h"
#include "hostile_fixture.h"
#include "streaming/session.h"

using namespace hostile;
using namespace std::chrono_literals;
namespace b = bencode;

namespace {

constexpr int kPiece = 16384;

std::string random_data(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(rng());
  return s;
}

// A torrent of `files` (their data random, hashed for real) named `name`.
std::string make_torrent(const std::string& name, std::vector<b::File> files,
                         std::string* all_data) {
  all_data->clear();
  uint32_t seed = 1;
  for (const b::File& f : files)
    if (f.attr.find('l') == std::string::npos) *all_data += random_data(size_t(f.length), seed++);
  std::string pieces;
  for (size_t at = 0; at < all_data->size(); at += kPiece) {
    size_t const n = std::min<size_t>(kPiece, all_data->size() - at);
    lt::sha1_hash const h = lt::hasher(all_data->data() + at, int(n)).final();
    pieces.append(h.data(), h.size());
  }
  return b::torrent(b::multi_file_info(name, files, kPiece, pieces));
}

streaming::SessionConfig loopback(const std::string& save, const std::vector<std::string>& peers) {
  streaming::SessionConfig cfg;
  cfg.save_path = save;
  cfg.listen_interface = "127.0.0.1";
  cfg.dht = cfg.lsd = cfg.upnp = cfg.natpmp = false;
  cfg.peers = peers;
  return cfg;
}

bool lexically_inside(const fs::path& root, const fs::path& p) {
  fs::path const rel = p.lexically_normal().lexically_relative(root.lexically_normal());
  return !rel.empty() && *rel.begin() != ".." && !rel.is_absolute();
}

bool display_safe(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char const c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0)
      return false;  // C1 controls
    if (c == 0xe2 && i + 2 < s.size()) {
      unsigned char const c1 = static_cast<unsigned char>(s[i + 1]),
                          c2 = static_cast<unsigned char>(s[i + 2]);
      if (c1 == 0x80 && (c2 == 0x8e || c2 == 0x8f || (c2 >= 0xaa && c2 <= 0xae))) return false;
      if (c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9) return false;
    }
  }
  return true;
}

// Seeds the torrent from a folder the test fills (at libtorrent's own storage paths, checked to
// be inside first) and downloads it with a second session into the sandbox's save path.
void download_hostile(const std::string& label, const std::string& name,
                      const std::vector<b::File>& files) {
  CAPTURE(label);
  Sandbox sb("paths");
  std::string data;
  fs::path const torrent = sb.root / "hostile.torrent";
  write_bytes(torrent, make_torrent(name, files, &data));

  // What Cine shows: no control or bidi character, whatever the torrent says.
  streaming::Metadata md;
  std::string error;
  REQUIRE_MESSAGE(streaming::load_torrent_metadata(torrent.string(), &md, &error), error);
  CHECK(display_safe(md.name));
  for (const streaming::FileEntry& f : md.files) {
    CAPTURE(f.path);
    CHECK(display_safe(f.path));
  }

  // Where libtorrent will write: inside the save path, every file.
  lt::error_code ec;
  lt::torrent_info const ti(torrent.string(), ec);
  REQUIRE_MESSAGE(!ec, ec.message());
  fs::path const seed_dir = sb.root / "seed";
  size_t at = 0;
  for (lt::file_index_t i : ti.files().file_range()) {
    fs::path const p = ti.files().file_path(i, seed_dir.string());
    CAPTURE(p.string());
    REQUIRE(lexically_inside(seed_dir, p));
    if (ti.files().file_flags(i) & lt::file_storage::flag_symlink) continue;
    if (ti.files().pad_file_at(i)) continue;
    std::error_code fec;
    fs::create_directories(p.parent_path(), fec);
    size_t const n = size_t(ti.files().file_size(i));
    if (!fec) write_bytes(p, data.substr(at, n));
    at += n;
  }

  std::string seed_error;
  auto seeder = streaming::Session::create(loopback(seed_dir.string(), {}), &seed_error);
  REQUIRE(seeder);
  REQUIRE(seeder->add(torrent.string(), &seed_error));
  bool const seeding = seeder->wait_checked({}, &seed_error) && seeder->finished();
  if (seeding) {
    std::string const peer = "127.0.0.1:" + std::to_string(seeder->listen_port());
    auto leech = streaming::Session::create(loopback(sb.save().string(), {peer}), &error);
    REQUIRE(leech);
    REQUIRE(leech->add(torrent.string(), &error));
    auto const until = std::chrono::steady_clock::now() + 30s;
    while (!leech->finished() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(100ms);
    CHECK_MESSAGE(leech->finished(), "the download did not complete");
  } else {
    // The seeder's own copy could not be laid out (e.g. a path longer than PATH_MAX): the
    // leecher must still fail cleanly and write nothing outside.
    MESSAGE("seeder could not seed: " << seed_error.substr(0, 200));
    auto leech = streaming::Session::create(loopback(sb.save().string(), {}), &error);
    REQUIRE(leech);
    if (leech->add(torrent.string(), &error)) leech->wait_checked({}, &error);
  }

  // Nothing outside the sandbox; every symlink in the save path resolves inside it.
  CHECK(sb.escaped().empty());
  for (const std::string& e : sb.escaped()) MESSAGE("escaped: " << e);
  CHECK_FALSE(fs::exists("/tmp/cine-hostile-abs.txt"));
  CHECK_FALSE(fs::exists("/tmp/cine-hostile-abs"));
  std::error_code fec;
  for (auto it = fs::recursive_directory_iterator(sb.save(), fec); !fec && it != fs::end(it);
       it.increment(fec)) {
    if (!it->is_symlink()) continue;
    fs::path const target = fs::read_symlink(it->path(), fec);
    fs::path const resolved = target.is_absolute() ? target : it->path().parent_path() / target;
    MESSAGE("symlink " << it->path().lexically_relative(sb.save()).string() << " -> "
                       << target.string());
    CHECK(lexically_inside(sb.save(), resolved));
  }
}

}  // namespace

TEST_CASE("hostile paths: ../, absolute, backslashes, NUL, control and bidi characters") {
  download_hostile("escapes", "show",
                   {
                       {{"..", "..", "escape-dotdot.txt"}, 20000, {}, {}},
                       {{"/tmp/cine-hostile-abs.txt"}, 1000, {}, {}},
                       {{"/tmp", "cine-hostile-abs", "x.txt"}, 1000, {}, {}},
                       {{"..\\..\\escape-backslash.txt"}, 3000, {}, {}},
                       {{"a\\..\\..\\..\\b.txt"}, 3000, {}, {}},
                       {{std::string("nul\0..\0/x.txt", 13)}, 1000, {}, {}},
                       {{"ctl\x1b[31mred\x07\r\n.txt"}, 1000, {}, {}},
                       {{"bidi\xe2\x80\xaevkm.mkv"}, 1000, {}, {}},
                       {{"c1\xc2\x9b"
                         "2J.txt"},
                        1000,
                        {},
                        {}},
                       {{"."}, 1000, {}, {}},
                       {{".."}, 1000, {}, {}},
                       {{"", "", "empty-components.txt"}, 1000, {}, {}},
                       {{"Case.txt"}, 1000, {}, {}},
                       {{"case.txt"}, 1000, {}, {}},
                       {{"CASE.TXT"}, 1000, {}, {}},
                   });
}

TEST_CASE("hostile paths: a torrent named .. or an absolute path") {
  download_hostile("name ..", "..", {{{"a.txt"}, 5000, {}, {}}, {{"b.txt"}, 5000, {}, {}}});
  download_hostile("name /tmp", "/tmp/cine-hostile-abs",
                   {{{"a.txt"}, 5000, {}, {}}, {{"b.txt"}, 5000, {}, {}}});
}

TEST_CASE("hostile paths: BEP 47 symlinks pointing out of the save path") {
  download_hostile("symlinks", "links",
                   {
                       {{"data.bin"}, 20000, {}, {}},
                       {{"up"}, 0, "l", {"..", "..", "..", "..", "etc", "passwd"}},
                       {{"abs"}, 0, "l", {"/etc/passwd"}},
                       {{"sub", "deep"}, 0, "l", {"..", "..", ".."}},
                       {{"ok"}, 0, "l", {"data.bin"}},
                   });
}

TEST_CASE("hostile paths: 2,500 nested folders and over-long names") {
  std::vector<std::string> deep(2500, "d");
  deep.push_back("deep.txt");
  download_hostile("nested", "nest", {{deep, 4000, {}, {}}, {{"plain.txt"}, 4000, {}, {}}});
  download_hostile("long name", "long",
                   {{{std::string(1000, 'n') + ".txt"}, 4000, {}, {}},
                    {{std::string(300, 'x'), std::string(300, 'y')}, 4000, {}, {}},
                    {{"plain.txt"}, 4000, {}, {}}});
}
