// libFuzzer: Cine's resume files. The first byte picks the parser: even -> libtorrent resume
// data as Session reads it (streaming::parse_resume_file), odd -> a watch-later position file
// (player::WatchLater::load, from a private folder).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <libtorrent/add_torrent_params.hpp>
#include <string>
#include <vector>

#include "player/watch_later.h"
#include "streaming/resume_file.h"

namespace {

std::string scratch_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/cine-fuzz-resume-XXXXXX";
    char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<char> const rest(data + 1, data + size);
  if ((data[0] & 1) == 0) {
    lt::add_torrent_params atp;
    // The seeds carry an info-hash of 20 'Z' (0x5a) bytes.
    std::string hex;
    for (int i = 0; i < 20; ++i) hex += "5a";
    (void)streaming::parse_resume_file(rest, hex, &atp);
    return 0;
  }
  player::WatchLater store(scratch_dir());
  std::string const key = "t-" + std::string(40, 'a') + "-0";
  std::string const path = scratch_dir() + "/" + key + ".json";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(rest.data(), 1, rest.size(), f);
    std::fclose(f);
  }
  player::ResumePoint p;
  if (store.load(key, &p) && (!(p.position >= 0) || p.position != p.position)) __builtin_trap();
  return 0;
}
