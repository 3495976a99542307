// Shared helpers of the hostile-input suite: a sandbox folder per case, `cine` runs with a
// deadline, and the check that nothing appeared outside the sandbox. Test-only.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "run_process.h"

namespace hostile {

namespace fs = std::filesystem;

// Every entry below root (recursively, symlinks not followed), as paths relative to root.
inline std::set<std::string> tree(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec))
    out.insert(it->path().lexically_relative(root).string());
  return out;
}

inline void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// <HOSTILE_TEST_DIR>/<name>: "outside" (watched) holding "sandbox", where cine may write
// ("sandbox/save" is the save path). Fresh for every case.
struct Sandbox {
  explicit Sandbox(const std::string& name)
      : outside(fs::path(HOSTILE_TEST_DIR) / "work" / name), root(outside / "sandbox") {
    std::error_code ec;
    fs::remove_all(outside, ec);
    fs::create_directories(root / "save");
    fs::create_directories(root / "home");
    before = tree(outside);
  }
  ~Sandbox() {
    std::error_code ec;
    fs::remove_all(outside, ec);
  }
  fs::path save() const { return root / "save"; }
  // Entries that appeared outside the sandbox since construction.
  std::vector<std::string> escaped() const {
    std::vector<std::string> out;
    for (const std::string& p : tree(outside))
      if (!before.count(p) && p.rfind("sandbox", 0) != 0) out.push_back(p);
    return out;
  }
  fs::path outside, root;
  std::set<std::string> before;
};

// The options every hostile run gets: loopback only, no discovery, null outputs, a private
// config/data home, and the sandbox as save path.
inline cine_test::ProcessResult run_cine(const Sandbox& sb, std::vector<std::string> args,
                                         double timeout = 20) {
  args.insert(args.begin(), CINE_BINARY);
  if (args.size() > 1 &&
      (args[1] == "play" || args[1] == "seed" || args[1] == "serve" || args[1] == "info")) {
    for (const char* a : {"--interface=127.0.0.1", "--no-dht", "--no-lsd", "--no-upnp",
                          "--no-natpmp", "--no-config"})
      args.push_back(a);
    args.push_back("--save-path=" + sb.save().string());
  }
  if (args.size() > 1 && args[1] == "play")
    for (const char* a : {"--vo=null", "--ao=null", "--no-resume-playback"}) args.push_back(a);
  std::string const home = (sb.root / "home").string();
  return cine_test::run_process(args, timeout,
                                {"SDL_AUDIODRIVER=dummy", "SDL_VIDEODRIVER=dummy", "HOME=" + home,
                                 "XDG_DATA_HOME=" + home, "XDG_CONFIG_HOME=" + home});
}

// One clear line on stderr, a non-zero exit that is not a signal, quickly.
inline void check_clean_failure(const cine_test::ProcessResult& r, const std::string& expect,
                                double max_seconds = 10) {
  CHECK_FALSE(r.timed_out);
  CHECK(r.code != 0);
  CHECK(r.code > 0);
  CHECK(r.code < 128);
  CHECK(r.seconds < max_seconds);
  auto const lines = cine_test::split_lines(r.err);
  CHECK(lines.size() == 1);
  if (!lines.empty()) {
    CHECK(lines[0].rfind("cine: ", 0) == 0);
    if (!expect.empty()) CHECK_MESSAGE(lines[0].find(expect) != std::string::npos, lines[0]);
  }
}

}  // namespace hostile
