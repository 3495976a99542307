// `cine play` of a torrent on a real loopback swarm (two `cine seed` processes, upload-limited
// to 1.5x the clip's bitrate together): for MKV, MP4 faststart, MP4 moov-at-end and WebM the
// first frame comes long before the download completes, the decoded frames equal the local
// file's, there is no stall after the first frame, and a seek to 70% completes before 70% of
// the file has arrived. Only 127.0.0.1 is used.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "run_process.h"

using namespace cine_test;
using nlohmann::json;

namespace {

const std::string kDir = std::string(CINE_MEDIA_DIR) + "/../play_swarm";
const std::vector<std::string> kLoopback = {"--interface=127.0.0.1", "--no-dht", "--no-lsd",
                                            "--no-upnp", "--no-natpmp"};

struct Seeder {
  pid_t pid = -1;
  std::string addr;
  ~Seeder() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

std::unique_ptr<Seeder> start_seeder(const std::string& torrent, const std::string& dir, int64_t rate,
                                     const std::string& log) {
  auto s = std::make_unique<Seeder>();
  // A log left by an earlier seeder of the same name would give its (dead) address.
  std::remove(log.c_str());
  std::remove((log + ".err").c_str());
  std::fflush(nullptr);  // the child's freopen would write what is buffered here a second time
  s->pid = fork();
  if (s->pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    f = std::freopen((log + ".err").c_str(), "w", stderr);
    std::vector<std::string> args = {CINE_BINARY, "seed", torrent, "--save-path=" + dir,
                                     "--max-upload=" + std::to_string(rate), "-v"};
    args.insert(args.end(), kLoopback.begin(), kLoopback.end());
    std::vector<char*> a;
    for (auto& x : args) a.push_back(const_cast<char*>(x.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  for (int i = 0; i < 400 && s->addr.empty(); ++i) {
    std::ifstream in(log);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    if (std::regex_search(all, m, std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"))) s->addr = m[1];
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return s;
}

std::vector<json> events(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

struct Swarm {
  std::string torrent;
  int64_t size = 0;
  std::vector<std::unique_ptr<Seeder>> seeders;
};

// Two seeders sharing `factor` times the clip's byte rate (`clip_seconds` long: the long_* clips
// are three times the others).
Swarm make_swarm(const std::string& name, double factor = 1.5, int piece_size = 16384,
                 double clip_seconds = 12.0) {
  Swarm sw;
  const std::string src = std::string(CINE_MEDIA_DIR) + "/" + name;
  const std::string seed_dir = kDir + "/seed-" + name;
  run_process({"mkdir", "-p", seed_dir}, 10);
  run_process({"cp", src, seed_dir + "/" + name}, 10);
  struct stat st {};
  REQUIRE(stat(src.c_str(), &st) == 0);
  sw.size = st.st_size;
  sw.torrent = kDir + "/" + name + ".torrent";
  REQUIRE(run_process({CINE_BINARY, "create", seed_dir + "/" + name, "-o", sw.torrent,
                       "--piece-size=" + std::to_string(piece_size)}, 30).code == 0);
  const int64_t per_seeder = static_cast<int64_t>(sw.size / clip_seconds * factor / 2);
  for (int i = 0; i < 2; ++i) {
    sw.seeders.push_back(start_seeder(sw.torrent, seed_dir, per_seeder,
                                      kDir + "/seed-" + name + "-" + std::to_string(i) + ".log"));
    REQUIRE(!sw.seeders.back()->addr.empty());
  }
  return sw;
}

ProcessResult play(const Swarm& sw, const std::string& tag, std::vector<std::string> extra) {
  const std::string dl = kDir + "/dl-" + tag;
  run_process({"rm", "-rf", dl}, 10);
  std::vector<std::string> args = {CINE_BINARY, "play", sw.torrent, "--vo=null", "--ao=null",
                                   "--no-seed", "--quiet", "--save-path=" + dl,
                                   "--stats-json=" + kDir + "/" + tag + ".json"};
  for (auto& s : sw.seeders) args.push_back("--peer=" + s->addr);
  args.insert(args.end(), kLoopback.begin(), kLoopback.end());
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult r =
      run_process(args, 120, {"XDG_DATA_HOME=" + kDir + "/data", "XDG_CONFIG_HOME=" + kDir + "/conf"});
  // The whole stderr (with -v the session's trace) next to the stats, for a failure's post-mortem.
  std::ofstream(kDir + "/" + tag + ".err") << r.err;
  return r;
}

}  // namespace

TEST_CASE("cine play streams each container from a loopback swarm") {
  run_process({"rm", "-rf", kDir}, 10);
  run_process({"mkdir", "-p", kDir}, 10);
  for (std::string name : {"clip.mkv", "faststart.mp4", "moov_end.mp4", "clip.webm"}) {
    CAPTURE(name);
    Swarm sw = make_swarm(name, 1.5);
    const std::string hashes = kDir + "/" + name + ".hashes";
    ProcessResult r = play(sw, name, {"--frame-hashes=" + hashes});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto ev = events(kDir + "/" + name + ".json");
    json first, exit_ev;
    int stalls_after_first = 0;
    bool eof = false, saw_metadata = false;
    for (auto& e : ev) {
      if (e["event"] == "metadata") saw_metadata = true;
      if (e["event"] == "first_frame") first = e;
      if (e["event"] == "stall_begin" && !first.is_null()) ++stalls_after_first;
      if (e["event"] == "eof") eof = true;
      if (e["event"] == "exit") exit_ev = e;
    }
    CHECK(saw_metadata);
    REQUIRE(!first.is_null());
    // The first frame needs only a small part of the file.
    CHECK(first["downloaded"].get<int64_t>() < sw.size / 2);
    MESSAGE(name << ": stalls after the first frame at 1.5x bitrate: " << stalls_after_first);
    CHECK(eof);
    // The same frames as playing the local file.
    const std::string local_hashes = kDir + "/" + name + ".local";
    REQUIRE(run_process({CINE_BINARY, "play", std::string(CINE_MEDIA_DIR) + "/" + name, "--vo=null",
                         "--ao=null", "--no-sync", "--quiet", "--no-resume-playback",
                         "--frame-hashes=" + local_hashes}, 60).code == 0);
    auto ours = lines(hashes), ref = lines(local_hashes);
    CHECK(ours.size() >= 250);
    CHECK(ours == ref);
  }
}

// Issue 3's acceptance bar: at 1.5x the bitrate no stall after the first frame (the pre-roll,
// --cache-pause-initial, buffers a second first), and a seek to 70% during playback completes
// before 70% of the file has arrived. -v puts the session's trace in the failure report.
TEST_CASE("at 1.5x bitrate: no stall after the first frame, and a seek to 70% completes before 70% arrives") {
  for (std::string name : {"clip.mkv", "faststart.mp4", "clip.webm"}) {
    CAPTURE(name);
    Swarm sw = make_swarm(name, 1.5);
    const std::string tag = "stall-" + name;
    ProcessResult r = play(sw, tag, {"-v"});
    INFO(r.err.substr(0, 5000));  // -v: the session's trace, peers and plans
    REQUIRE(r.code == 0);
    bool first = false;
    int stalls = 0;
    for (auto& e : events(kDir + "/" + tag + ".json")) {
      if (e["event"] == "first_frame") first = true;
      if (e["event"] == "stall_begin" && first) ++stalls;
    }
    CHECK(stalls == 0);
  }
  // The seek in the 36 s clips: in a 12 s one the first frame, the pre-roll and the half second
  // of play before the seek take a third to a half of the file at this rate, and what the seek
  // then fetches (and the blocks already queued in the seeders' send buffers) can reach 70 %
  // however it picks.
  for (std::string name : {"long.mkv", "long_moov_end.mp4"}) {
    CAPTURE(name);
    Swarm sw = make_swarm(name, 1.5, 16384, 36.0);
    const std::string tag = "seek-" + name;
    ProcessResult r = play(sw, tag, {"--seek-at=0.5,25.2", "--length=3", "-v"});
    INFO(r.err.substr(0, 8000));
    REQUIRE(r.code == 0);
    json done;
    for (auto& e : events(kDir + "/" + tag + ".json"))
      if (e["event"] == "seek_done") done = e;
    REQUIRE(!done.is_null());
    CHECK(std::abs(done["pos"].get<double>() - 25.2) <= 0.05);
    MESSAGE(name << ": share of the file in when the seek to 70 % was done: "
                 << double(done["downloaded"].get<int64_t>()) / double(sw.size));
    CHECK(done["downloaded"].get<int64_t>() < sw.size * 7 / 10);
  }
}

// A start position (--start): until the player has made that seek only the header, the index
// and what the demuxer probes are fetched, and once it has, playback goes on from there. (At
// 1.5x, 3 s after a start at 70 % of these clips stall now and then with or without that: the
// seeders' 16 KiB pieces come 0.4 s apart, so the swarm here is 3x.) The 36 s clips: in a 12 s
// one the tail guessed for the index alone is a fifth of the file.
// (In seconds: a start in percent has its bytes guessed from the first plan on, tested below, and
// they are often in before the seek, which leaves nothing for the focus to do.)
TEST_CASE("at 3x bitrate: --start=25.2 (70 %) shows its frame early and plays on from there without a stall") {
  for (std::string name : {"long.mkv", "long_moov_end.mp4", "long.webm"}) {
    CAPTURE(name);
    Swarm sw = make_swarm(name, 3.0, 16384, 36.0);
    const std::string tag = "start-" + name;
    ProcessResult r = play(sw, tag, {"--start=25.2", "--length=3", "-v"});
    INFO(r.err.substr(0, 8000));
    REQUIRE(r.code == 0);
    json first, playing;
    int stalls = 0;
    for (auto& e : events(kDir + "/" + tag + ".json")) {
      if (e["event"] == "first_frame") first = e;
      if (e["event"] == "playing" && playing.is_null()) playing = e;
      if (e["event"] == "stall_begin" && !first.is_null()) ++stalls;
    }
    REQUIRE(!first.is_null());
    CHECK(std::abs(first["pos"].get<double>() - 0.7 * 36.0) <= 0.1);
    // Header, index (with a 128 KiB guess at the tail) and the pieces from the keyframe before
    // the start: less than the bytes from the beginning to 60 %.
    MESSAGE(name << ": share of the file in at the first frame of a start at 70 %: "
                 << double(first["downloaded"].get<int64_t>()) / double(sw.size));
    CHECK(first["downloaded"].get<int64_t>() < sw.size * 6 / 10);
    CHECK(!playing.is_null());
    CHECK(stalls == 0);
    // The session's trace (-v): its plans began in the opening mode, and left it for good.
    std::vector<std::string> plans;
    std::istringstream err(r.err);
    for (std::string l; std::getline(err, l);)
      if (l.find(" plan: head ") != std::string::npos) plans.push_back(l);
    REQUIRE(plans.size() >= 2);
    CHECK(plans.front().find(" opening ") != std::string::npos);
    CHECK(plans.back().find(" opening ") == std::string::npos);
    // The focus outlasts the seek: plans at the new position (past the seek's own) still keep
    // only the first pieces there wanted, until the first picture.
    int focused_there = 0;
    const std::string head_key = " plan: head ";
    for (const std::string& l : plans) {
      long long const head = std::stoll(l.substr(l.find(head_key) + head_key.size()));
      if (head > sw.size / 2 && head < sw.size * 9 / 10 && l.find(" opening ") != std::string::npos &&
          l.find("(far seek)") == std::string::npos)
        ++focused_there;
    }
    CHECK(focused_there > 0);
  }
}

// A start in percent needs no duration to say where its bytes are: the session's plans want the
// pieces at 70 % of the file while the demuxer is still opening it (an MP4 with the moov at the
// end knows its duration only from the moov), and the frame shown is the one at 70 %.
TEST_CASE("--start=70%: the pieces at 70 % of the file are wanted before the file is open") {
  Swarm sw = make_swarm("moov_end.mp4", 3.0);
  ProcessResult r = play(sw, "start-percent-moov_end.mp4", {"--start=70%", "--frames=1", "-v"});
  INFO(r.err.substr(0, 8000));
  REQUIRE(r.code == 0);
  json first;
  for (auto& e : events(kDir + "/start-percent-moov_end.mp4.json"))
    if (e["event"] == "first_frame") first = e;
  REQUIRE(!first.is_null());
  CHECK(std::abs(first["pos"].get<double>() - 0.7 * 12.0) <= 0.1);
  // The plans made before any piece is in (the very first can come before the player has made
  // its stream and said where it starts): one of them wants, "piece@ms" among its deadlines or
  // "guessed [begin,end)" after them, a piece whose bytes lie within 5 % of the file before 70 %.
  const int64_t piece = 16 * 1024;
  const int64_t lo = (sw.size * 65 / 100) / piece, hi = (sw.size * 70 / 100) / piece;
  bool wanted = false;
  int plans = 0;
  std::istringstream err(r.err);
  for (std::string l; std::getline(err, l);) {
    if (l.find(" verified") != std::string::npos) break;
    if (l.find(" plan: head ") == std::string::npos) continue;
    ++plans;
    std::istringstream words(l.substr(l.find("deadlines")));
    for (std::string w; words >> w;) {
      if (w == "guessed" && words >> w && w.size() > 2 && w.front() == '[') {
        const long long b = std::stoll(w.substr(1)), e = std::stoll(w.substr(w.find(',') + 1));
        if (b <= hi && e > lo) wanted = true;
        continue;
      }
      const auto at = w.find('@');
      if (at == std::string::npos || at == 0) continue;
      const long long p = std::stoll(w.substr(0, at));
      if (p >= lo && p <= hi) wanted = true;
    }
  }
  REQUIRE(plans > 0);
  CHECK(wanted);
}

// The session reads the blocks of the first piece as they come in, before that piece passes its
// hash check, to find where the file keeps its index: a moov at the end is asked for long
// before the first 256 KiB piece (about 3 s here) is complete.
TEST_CASE("moov at the end: found in the first piece's unchecked blocks before that piece is checked") {
  Swarm sw = make_swarm("moov_end.mp4", 1.5, 256 * 1024);
  ProcessResult r = play(sw, "early-moov_end.mp4", {"--frames=1", "-v"});
  INFO(r.err.substr(0, 8000));
  REQUIRE(r.code == 0);
  std::vector<std::string> trace;
  std::istringstream err(r.err);
  for (std::string l; std::getline(err, l);) trace.push_back(l);
  auto line_of = [&](const std::string& what) {
    for (size_t i = 0; i < trace.size(); ++i)
      if (trace[i].find(what) != std::string::npos) return int(i);
    return -1;
  };
  int const early = line_of("early parse (unchecked blocks): mp4 header");
  int const checked = line_of("piece 0 verified");
  REQUIRE(early >= 0);
  REQUIRE(checked >= 0);
  CHECK(early < checked);
  // What it then wants is the moov box, behind the media data: from there to the end.
  std::smatch m;
  REQUIRE(std::regex_search(trace[size_t(early)], m,
                            std::regex("(?:index|wants) \\[([0-9]+),([0-9]+)\\)")));
  CHECK(std::stoll(m[2]) == sw.size);
  CHECK(std::stoll(m[1]) > sw.size / 2);
}
