// `cine create`, `cine info` and `cine seed` as outside tools (and the benchmarks) drive them:
// a created torrent describes itself, a seeder announces "listening on 127.0.0.1:PORT" and
// serves a leecher, bad inputs give one line and a non-zero status.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "run_process.h"
#include "tests/streaming/swarm_fixture.h"

using namespace std::chrono_literals;
using cine_test::ProcessResult;
using cine_test::run_process;
using cine_test::split_lines;

namespace {

ProcessResult cine(std::vector<std::string> args, double timeout = 30) {
  args.insert(args.begin(), CINE_BINARY);
  return run_process(args, timeout);
}

const std::vector<std::string> kLocalOnly = {"--no-dht", "--no-lsd", "--no-upnp", "--no-natpmp"};

// A `cine seed` child whose stdout we read line by line.
struct SeedProcess {
  pid_t pid = -1;
  FILE* out = nullptr;

  explicit SeedProcess(std::vector<std::string> args) {
    args.insert(args.begin(), {CINE_BINARY, "seed"});
    args.insert(args.end(), kLocalOnly.begin(), kLocalOnly.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
  }
  // The next stdout line ("" at end of output).
  std::string line() {
    char buf[256];
    if (!std::fgets(buf, sizeof buf, out)) return "";
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  // SIGTERM, then the exit status.
  int stop() {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~SeedProcess() {
    if (pid > 0) stop();
    if (out) std::fclose(out);
  }
};

}  // namespace

TEST_CASE("cli: create, info, seed a leecher, stop on SIGTERM") {
  swarm::TempDir d("cli");
  std::vector<uint8_t> const content = swarm::random_bytes(3 << 20, 77);
  swarm::write_file(d / "data/clip.mkv", content);

  ProcessResult r = cine({"create", d / "data/clip.mkv", "-o", d / "clip.torrent",
                          "--piece-size=32768", "--tracker=udp://127.0.0.1:1/announce"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("created ") == 0);
  CHECK(r.out.find("96 pieces of 32768 bytes") != std::string::npos);

  r = cine({"info", d / "clip.torrent"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("name:       clip.mkv") != std::string::npos);
  CHECK(r.out.find("piece size: 32768") != std::string::npos);
  CHECK(r.out.find("3145728  clip.mkv") != std::string::npos);
  CHECK(r.out.find("udp://127.0.0.1:1/announce") != std::string::npos);
  std::string const hash_line = r.out.substr(r.out.find("info-hash:  ") + 12, 40);

  SeedProcess seed({d / "clip.torrent", "--save-path=" + (d / "data"), "--max-upload=2M",
                    "--interface=127.0.0.1"});
  std::string const first = seed.line();
  REQUIRE_MESSAGE(first.rfind("listening on 127.0.0.1:", 0) == 0, first);
  std::string const peer = first.substr(std::strlen("listening on "));

  // The metadata of a magnet, fetched from that seeder.
  r = cine({"info", "magnet:?xt=urn:btih:" + hash_line, "--peer=" + peer, "--no-dht", "--no-lsd",
            "--no-upnp", "--no-natpmp"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("3145728  clip.mkv") != std::string::npos);

  // A leecher streams the file from it.
  auto s = swarm::start_session(swarm::loopback_config(d / "leech", 0, {peer}), d / "clip.torrent");
  std::string error;
  REQUIRE(s->wait_metadata({}, &error));
  streaming::FileEntry chosen;
  REQUIRE(s->select_file("", &chosen, &error));
  auto stream = s->open_stream();
  std::vector<uint8_t> got;
  REQUIRE(swarm::read_range(*stream, 0, stream->size(), &got));
  CHECK(got == content);

  CHECK(seed.stop() == 0);
}

TEST_CASE("cli: bad torrent inputs give one line and a non-zero status") {
  swarm::TempDir d("cli-bad");
  swarm::write_file(d / "garbage.torrent", swarm::random_bytes(700, 3));
  swarm::write_file(d / "data/a.bin", swarm::random_bytes(1000, 4));
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  std::vector<Case> const cases = {
      {{"info", d / "missing.torrent"}, "no such file"},
      {{"info", d / "garbage.torrent"}, "not a valid .torrent"},
      {{"info", "magnet:?xt=urn:btih:1234"}, "invalid info-hash"},
      {{"create", d / "nothing-here", "-o", d / "x.torrent"}, "no such file"},
      {{"seed", d / "garbage.torrent", "--save-path=" + (d / "data")}, "not a valid .torrent"},
      {{"seed", d / "missing.torrent", "--save-path=" + (d / "data")}, "no such file"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args[0]);
    CAPTURE(c.args[1]);
    ProcessResult r = cine(c.args);
    CHECK_FALSE(r.timed_out);
    CHECK(r.code != 0);
    CHECK(r.code < 128);
    auto lines = split_lines(r.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("cine: ", 0) == 0);
    CHECK(lines[0].find(c.expect) != std::string::npos);
  }

  // Seeding from a folder without the data: checked, refused.
  ProcessResult made = cine({"create", d / "data/a.bin", "-o", d / "a.torrent"});
  REQUIRE(made.code == 0);
  swarm::write_file(d / "empty/.keep", {});
  ProcessResult r = cine({"seed", d / "a.torrent", "--save-path=" + (d / "empty"), "--no-dht",
                          "--no-lsd", "--no-upnp", "--no-natpmp"});
  CHECK(r.code != 0);
  CHECK(r.err.find("incomplete") != std::string::npos);
  r = cine({"seed", d / "a.torrent", "--save-path=" + (d / "nope")});
  CHECK(r.code != 0);
  CHECK(r.err.find("not a directory") != std::string::npos);
}
