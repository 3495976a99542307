// `cine play` as outside tools drive it: bad inputs exit non-zero with one clear line, fast;
// --stats-json writes the contract's events with a monotonic `t`.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_process.h"

using namespace cine_test;

namespace {
std::string media(const std::string& n) { return std::string(CINE_MEDIA_DIR) + "/" + n; }

ProcessResult cine(std::vector<std::string> args, double timeout = 20) {
  args.insert(args.begin(), CINE_BINARY);
  // A private data dir: no remembered watch-later position from other runs applies.
  return run_process(args, timeout, {"SDL_AUDIODRIVER=dummy", "SDL_VIDEODRIVER=dummy",
                                     "XDG_DATA_HOME=" + std::string(CINE_MEDIA_DIR) + "/../xdg_data"});
}

std::vector<nlohmann::json> read_events(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}
}  // namespace

TEST_CASE("bad media inputs: one line on stderr, non-zero exit, no crash, no hang") {
  struct Case {
    std::string path, expect;
  };
  const Case cases[] = {
      {media("does_not_exist.mkv"), "cannot open"},
      {media("not_media.mkv"), "not a playable media file"},
      {media("truncated.mp4"), "not a playable media file"},
      {media("empty.mp4"), "not a playable media file"},
      {media("notes.txt"), "not a playable media file"},
      {std::string(CINE_MEDIA_DIR), "not a regular file"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    ProcessResult r = cine({"play", c.path, "--vo=null", "--ao=null"});
    CHECK_FALSE(r.timed_out);
    CHECK(r.code != 0);
    CHECK(r.code < 128);  // not killed by a signal (crash)
    auto lines = split_lines(r.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("cine: ", 0) == 0);
    CHECK(lines[0].find(c.expect) != std::string::npos);
    CHECK(r.seconds < 5.0);  // generous; the point is "no hang"
  }
}

TEST_CASE("bad command lines exit with status 2 and one line") {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"fly"},
      {"play"},
      {"play", "a.mkv", "--frames=abc"},
      {"play", "a.mkv", "--vo=opengl"},
      {"play", "a.mkv", "--start=-3"},
      {"play", "a.mkv", "--seek-at=5"},
      {"play", "a.mkv", "--bogus"},
      {"play", "a.mkv", "--peer=nohost"},
      {"play", "a.mkv", "b.mkv"},
      {"create", "x"},
  };
  for (const auto& args : cases) {
    CAPTURE(args.size());
    ProcessResult r = cine(args);
    CHECK(r.code == 2);
    CHECK(split_lines(r.err).size() == 1);
  }
  ProcessResult help = cine({"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("cine play SOURCE") != std::string::npos);
}

TEST_CASE("--stats-json: contract events in order, monotonic t") {
  std::string stats = std::string(CINE_MEDIA_DIR) + "/../cli_stats.json";
  ProcessResult r = cine({"play", media("clip.mkv"), "--vo=null", "--ao=null", "--no-sync",
                          "--seek-at=0,6.5", "--stats-json=" + stats});
  REQUIRE(r.code == 0);
  auto ev = read_events(stats);
  std::vector<std::string> names;
  double last_t = -1;
  for (auto& e : ev) {
    REQUIRE(e.contains("t"));
    REQUIRE(e.contains("event"));
    CHECK(e["t"].get<double>() >= last_t);
    last_t = e["t"].get<double>();
    if (e["event"] != "progress") names.push_back(e["event"]);
  }
  const std::vector<std::string> want = {"start", "opened", "first_frame", "seek_begin",
                                         "seek_done", "eof", "exit"};
  CHECK(names == want);
  for (auto& e : ev) {
    if (e["event"] == "first_frame" || e["event"] == "seek_done") CHECK(e.contains("downloaded"));
    if (e["event"] == "seek_done") CHECK(std::abs(e["pos"].get<double>() - 6.5) <= 0.041);
    if (e["event"] == "exit") {
      CHECK(e["code"] == 0);
      CHECK(e.contains("downloaded"));
      CHECK(e.contains("uploaded"));
    }
    if (e["event"] == "opened") {
      CHECK(e["video_codec"] == "h264");
      CHECK(e["audio_codec"] == "aac");
    }
  }
  std::remove(stats.c_str());
}

TEST_CASE("headless real-pace playback with --length and progress events") {
  std::string stats = std::string(CINE_MEDIA_DIR) + "/../cli_stats2.json";
  ProcessResult r = cine({"play", media("clip.webm"), "--vo=null", "--ao=null", "--length=2.5",
                          "--stats-json=" + stats, "--quiet"});
  REQUIRE(r.code == 0);
  CHECK(r.seconds > 2.0);
  int progress = 0;
  for (auto& e : read_events(stats)) {
    if (e["event"] == "progress") {
      ++progress;
      for (const char* k : {"pos", "downloaded", "uploaded", "download_rate", "upload_rate",
                            "peers", "pieces_have", "buffered_ahead"})
        CHECK(e.contains(k));
    }
  }
  CHECK(progress >= 2);
  std::remove(stats.c_str());
}

TEST_CASE("SIGTERM-free quit: --frames ends a windowless run cleanly") {
  ProcessResult r = cine({"play", media("faststart.mp4"), "--vo=null", "--ao=null", "--frames=5"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("config file: options from cine.conf, the command line wins, bad lines rejected") {
  const std::string home = std::string(CINE_MEDIA_DIR) + "/../config_home";
  run_process({"mkdir", "-p", home + "/cine"}, 10);
  {
    std::ofstream conf(home + "/cine/cine.conf");
    conf << "# headless by default\nvo=null\nao = null\nlength=1\ndht=no\n";
  }
  const std::vector<std::string> env = {"XDG_CONFIG_HOME=" + home, "XDG_DATA_HOME=" + home,
                                        "SDL_AUDIODRIVER=dummy",
                                        "SDL_VIDEODRIVER=dummy"};
  std::string stats = home + "/stats.json";
  ProcessResult r = run_process({CINE_BINARY, "play", media("clip.mkv"), "--quiet", "--no-sync",
                                 "--stats-json=" + stats}, 30, env);
  CHECK(r.code == 0);
  // length=1 from the file applied: playback stopped long before the 12 s clip's end.
  bool eof = false;
  for (auto& e : read_events(stats)) eof |= e["event"] == "eof";
  CHECK_FALSE(eof);
  // The command line overrides the file.
  r = run_process({CINE_BINARY, "play", media("clip.mkv"), "--quiet", "--no-sync", "--length=30",
                   "--stats-json=" + stats}, 30, env);
  CHECK(r.code == 0);
  eof = false;
  for (auto& e : read_events(stats)) eof |= e["event"] == "eof";
  CHECK(eof);
  {
    std::ofstream conf(home + "/cine/cine.conf");
    conf << "vo=null\nthis is not an option line\n";
  }
  r = run_process({CINE_BINARY, "play", media("clip.mkv")}, 30, env);
  CHECK(r.code == 2);
  CHECK(r.err.find("cine.conf:2") != std::string::npos);
  r = run_process({CINE_BINARY, "play", media("clip.mkv"), "--no-config", "--vo=null", "--ao=null",
                   "--frames=3", "--quiet"}, 30, env);
  CHECK(r.code == 0);
}
