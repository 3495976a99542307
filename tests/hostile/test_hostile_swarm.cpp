// `cine play` against a hostile swarm and disk, all on 127.0.0.1: a swarm that stalls completely
// (the seeder is SIGSTOPped: buffering shows, the player resumes when data returns and quits at
// once on SIGINT while stalled), a seeder that quits every 3 s and comes back, a full disk (a 256
// KiB tmpfs) and a read-only save path (a read-only tmpfs): clear errors, no hang, no crash.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "hostile_fixture.h"

using namespace hostile;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

const std::vector<std::string> kLoopback = {
    "--interface=127.0.0.1", "--no-dht", "--no-lsd", "--no-upnp", "--no-natpmp", "--no-config"};

// A child process (no shell), stdout+stderr to a log file; killed (SIGKILL) when destroyed.
struct Child {
  pid_t pid = -1;
  int status = -1;
  Child(std::vector<std::string> args, const std::string& log, const std::string& home) {
    pid = fork();
    if (pid == 0) {
      if (!std::freopen(log.c_str(), "w", stdout)) _exit(126);
      dup2(1, 2);
      setenv("HOME", home.c_str(), 1);
      setenv("XDG_DATA_HOME", home.c_str(), 1);
      setenv("SDL_AUDIODRIVER", "dummy", 1);
      setenv("SDL_VIDEODRIVER", "dummy", 1);
      std::vector<char*> a;
      for (auto& x : args) a.push_back(const_cast<char*>(x.c_str()));
      a.push_back(nullptr);
      execvp(a[0], a.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid > 0 && status < 0) {
      kill(pid, SIGCONT);
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  // Waits up to `timeout` for the exit; true if it exited (status set).
  bool wait(std::chrono::milliseconds timeout) {
    auto const until = Clock::now() + timeout;
    while (Clock::now() < until) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        status = st;
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A `cine seed` of dir (holding the clip) on 127.0.0.1; returns "127.0.0.1:PORT".
std::string seeder_addr(const std::string& log) {
  for (int i = 0; i < 400; ++i) {
    std::smatch m;
    std::string const all = slurp(log);
    if (std::regex_search(all, m, std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"))) return m[1];
    std::this_thread::sleep_for(50ms);
  }
  return {};
}

std::vector<json> events(const fs::path& p) {
  std::vector<json> out;
  std::istringstream in(slurp(p));
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(j);
  }
  return out;
}

bool has_event(const fs::path& p, const std::string& name, size_t* count = nullptr) {
  size_t n = 0;
  for (const json& e : events(p)) n += e.value("event", "") == name;
  if (count) *count = n;
  return n > 0;
}

bool wait_event(const fs::path& p, const std::string& name, size_t at_least,
                std::chrono::milliseconds timeout) {
  auto const until = Clock::now() + timeout;
  size_t n = 0;
  while (Clock::now() < until) {
    if (has_event(p, name, &n) && n >= at_least) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// The clip, its torrent and a seed folder inside the sandbox.
struct Clip {
  explicit Clip(const Sandbox& sb) {
    fs::create_directories(sb.root / "seed");
    fs::copy_file(fs::path(CINE_MEDIA_DIR) / "clip.mkv", sb.root / "seed" / "clip.mkv");
    torrent = (sb.root / "clip.torrent").string();
    auto r = run_cine(sb, {"create", (sb.root / "seed" / "clip.mkv").string(), "-o", torrent,
                           "--piece-size=16384"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    size = int64_t(fs::file_size(sb.root / "seed" / "clip.mkv"));
  }
  std::string torrent;
  int64_t size = 0;
};

std::vector<std::string> seed_args(const Sandbox& sb, const Clip& c, int64_t rate, int port = 0) {
  std::vector<std::string> a = {CINE_BINARY, "seed", c.torrent,
                                "--save-path=" + (sb.root / "seed").string(),
                                "--max-upload=" + std::to_string(rate)};
  if (port) a.push_back("--listen=" + std::to_string(port));
  a.insert(a.end(), kLoopback.begin(), kLoopback.end());
  return a;
}

std::vector<std::string> play_args(const Clip& c, const std::string& save, const std::string& peer,
                                   const fs::path& stats) {
  std::vector<std::string> a = {CINE_BINARY,      "play",
                                c.torrent,        "--save-path=" + save,
                                "--peer=" + peer, "--vo=null",
                                "--ao=null",      "--no-resume-playback",
                                "--no-seed",      "--stats-json=" + stats.string()};
  a.insert(a.end(), kLoopback.begin(), kLoopback.end());
  return a;
}

// Mounts a tmpfs with `opts` on dir: directly when we may (root with CAP_SYS_ADMIN), else the
// caller must run cine inside `unshare -rm` (a private user+mount namespace). "" when neither
// works; `how` says which was used.
struct Tmpfs {
  Tmpfs(const fs::path& dir, const std::string& opts) : dir_(dir) {
    auto r =
        cine_test::run_process({"mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir.string()}, 10);
    if (r.code == 0) {
      mounted_ = true;
      how = "mount -t tmpfs";
      return;
    }
    auto u = cine_test::run_process({"unshare", "-rm", "true"}, 10);
    if (u.code == 0) {
      how = "unshare -rm + mount -t tmpfs";
      prefix = {"unshare",
                "-rm",
                "sh",
                "-c",
                "mount -t tmpfs -o " + opts + " tmpfs \"$0\" && exec \"$@\"",
                dir.string()};
    }
  }
  ~Tmpfs() {
    if (mounted_) cine_test::run_process({"umount", "-l", dir_.string()}, 10);
  }
  fs::path dir_;
  bool mounted_ = false;
  std::string how;                  // "" when no tmpfs can be had here
  std::vector<std::string> prefix;  // run cine with this in front when not mounted directly
};

}  // namespace

TEST_CASE("stalled swarm: buffering shows, playback resumes with the data, SIGINT quits at once") {
  Sandbox sb("stall");
  Clip clip(sb);
  std::string const home = (sb.root / "home").string();
  // 12 s of clip served at ~1.3x its bitrate: nowhere near complete when the seeder stops.
  Child seeder(seed_args(sb, clip, clip.size * 13 / 120), (sb.root / "seed.log").string(), home);
  std::string const peer = seeder_addr((sb.root / "seed.log").string());
  REQUIRE(!peer.empty());
  fs::path const stats = sb.root / "stats.json";
  Child player(play_args(clip, sb.save().string(), peer, stats), (sb.root / "play.log").string(),
               home);
  REQUIRE_MESSAGE(wait_event(stats, "first_frame", 1, 30s), slurp(sb.root / "play.log"));
  kill(seeder.pid, SIGSTOP);
  CHECK_MESSAGE(wait_event(stats, "stall_begin", 1, 20s), "no buffering shown");
  std::this_thread::sleep_for(2s);
  CHECK(player.status < 0);
  CHECK_FALSE(player.wait(0ms));  // still running, waiting for data
  kill(seeder.pid, SIGCONT);
  CHECK_MESSAGE(wait_event(stats, "stall_end", 1, 20s), "playback did not resume");
  // Stall again, and quit while stalled: it must exit at once.
  kill(seeder.pid, SIGSTOP);
  if (!has_event(stats, "eof")) CHECK(wait_event(stats, "stall_begin", 2, 20s));
  auto const t0 = Clock::now();
  kill(player.pid, SIGINT);
  REQUIRE_MESSAGE(player.wait(3s), "cine play did not quit within 3 s of SIGINT while stalled");
  double const took = std::chrono::duration<double>(Clock::now() - t0).count();
  MESSAGE("quit " << took << " s after SIGINT while stalled");
  CHECK(WIFEXITED(player.status));
  CHECK(has_event(stats, "exit"));
  CHECK(sb.escaped().empty());
}

TEST_CASE("a seeder dropping every 3 s: playback still reaches the end") {
  Sandbox sb("flap");
  Clip clip(sb);
  std::string const home = (sb.root / "home").string();
  int const port = 20000 + int(getpid() % 20000);
  auto seeder = std::make_unique<Child>(seed_args(sb, clip, clip.size / 4, port),
                                        (sb.root / "seed.log").string(), home);
  std::string const peer = seeder_addr((sb.root / "seed.log").string());
  REQUIRE(!peer.empty());
  fs::path const stats = sb.root / "stats.json";
  Child player(play_args(clip, sb.save().string(), peer, stats), (sb.root / "play.log").string(),
               home);
  auto const until = Clock::now() + 90s;
  int drops = 0;
  while (Clock::now() < until && !player.wait(3s)) {
    // The seeder goes away mid-piece (SIGTERM: it closes its connections, TCP or uTP, so the
    // drop is seen at once; a silent SIGKILL over uTP is only noticed after uTP's timeouts).
    kill(seeder->pid, SIGTERM);
    seeder->wait(5s);
    seeder.reset();
    ++drops;
    seeder = std::make_unique<Child>(seed_args(sb, clip, clip.size / 4, port),
                                     (sb.root / ("seed" + std::to_string(drops) + ".log")).string(),
                                     home);
  }
  MESSAGE(drops << " drops");
  REQUIRE_MESSAGE(player.status >= 0, "playback did not end within 90 s");
  CHECK(drops >= 2);
  CHECK(WIFEXITED(player.status));
  CHECK(WEXITSTATUS(player.status) == 0);
  CHECK(has_event(stats, "eof"));
}

TEST_CASE("full disk and read-only save path: one clear error, no hang") {
  struct Case {
    std::string name, opts, expect;
  };
  const Case cases[] = {
      {"full disk", "size=256k", "No space left on device"},
      {"read-only", "ro,size=1m", "Read-only file system"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Sandbox sb("disk");
    Clip clip(sb);
    REQUIRE(clip.size > 512 << 10);  // more than the full disk holds
    std::string const home = (sb.root / "home").string();
    fs::path const disk = sb.root / "disk";
    fs::create_directories(disk);
    Tmpfs tmpfs(disk, c.opts);
    if (tmpfs.how.empty()) {
      MESSAGE(
          "SKIPPED: neither mount -t tmpfs nor unshare -rm works here (no CAP_SYS_ADMIN, "
          "no user namespaces)");
      continue;
    }
    MESSAGE("tmpfs via " << tmpfs.how);
    Child seeder(seed_args(sb, clip, 0), (sb.root / "seed.log").string(), home);
    std::string const peer = seeder_addr((sb.root / "seed.log").string());
    REQUIRE(!peer.empty());
    fs::path const stats = sb.root / "stats.json";
    std::vector<std::string> args = tmpfs.prefix;
    for (const std::string& a : play_args(clip, disk.string(), peer, stats)) args.push_back(a);
    fs::path const log = sb.root / "play.log";
    Child player(args, log.string(), home);
    bool const exited = player.wait(30s);
    CHECK_MESSAGE(exited, "cine play did not exit within 30 s");
    if (!exited) continue;
    CHECK(WIFEXITED(player.status));
    CHECK(WEXITSTATUS(player.status) != 0);
    auto const lines = cine_test::split_lines(slurp(log));
    REQUIRE(!lines.empty());
    CHECK(lines.back().rfind("cine: ", 0) == 0);
    CHECK_MESSAGE(lines.back().find(c.expect) != std::string::npos, lines.back());
    CHECK(sb.escaped().empty());
  }
}

TEST_CASE("a torrent with no video: one clear line; a text file asked for by index ends too") {
  Sandbox sb("novideo");
  fs::create_directories(sb.root / "seed" / "docs");
  write_bytes(sb.root / "seed" / "docs" / "readme.txt", std::string(50000, 'r'));
  write_bytes(sb.root / "seed" / "docs" / "notes.nfo", std::string(30000, 'n'));
  std::string const torrent = (sb.root / "docs.torrent").string();
  auto made = run_cine(sb, {"create", (sb.root / "seed" / "docs").string(), "-o", torrent});
  REQUIRE_MESSAGE(made.code == 0, made.err);
  std::string const home = (sb.root / "home").string();
  std::vector<std::string> seed = {CINE_BINARY, "seed", torrent,
                                   "--save-path=" + (sb.root / "seed").string()};
  seed.insert(seed.end(), kLoopback.begin(), kLoopback.end());
  Child seeder(seed, (sb.root / "seed.log").string(), home);
  std::string const peer = seeder_addr((sb.root / "seed.log").string());
  REQUIRE(!peer.empty());
  auto r = run_cine(sb, {"play", torrent, "--peer=" + peer, "--no-seed"}, 30);
  check_clean_failure(r, "no video or audio file in the torrent", 20);
  // Asked for by name, it is fetched and FFmpeg decides (it reads text as ANSI art): no hang.
  auto named =
      run_cine(sb, {"play", torrent, "--peer=" + peer, "--no-seed", "--file=1", "--length=1"}, 30);
  CHECK_FALSE(named.timed_out);
  CHECK(named.code >= 0);
  CHECK(named.code < 128);
  CHECK(sb.escaped().empty());
}
