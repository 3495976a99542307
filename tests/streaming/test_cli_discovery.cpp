// How a `cine` finds peers and data without --peer, all on 127.0.0.1: a real opentracker over
// HTTP and UDP (a .torrent and a magnet's metadata), a private loopback DHT (and its state kept
// between runs), a BEP 19 web seed; plus the seeding limits and the --log-file.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "run_process.h"
#include "tests/streaming/cine_child.h"
#include "tests/streaming/swarm_fixture.h"

using namespace std::chrono_literals;
using cine_test::CineChild;
using cine_test::ProcessResult;
using cine_test::run_process;

namespace {

const std::vector<std::string> kNoDiscovery = {"--interface=127.0.0.1", "--no-dht", "--no-lsd",
                                               "--no-upnp", "--no-natpmp"};
const std::vector<std::string> kDhtLoopback = {"--interface=127.0.0.1", "--no-lsd", "--no-upnp",
                                               "--no-natpmp"};

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

ProcessResult cine(std::vector<std::string> args, double timeout = 60,
                   const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), CINE_BINARY);
  return run_process(args, timeout, env);
}

// A port that was free a moment ago on 127.0.0.1 (TCP and UDP).
int free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int t = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(t, reinterpret_cast<sockaddr*>(&a), &len);
    close(t);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    bool const udp_free = bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(u);
    if (udp_free) return ntohs(a.sin_port);
  }
  return 0;
}

std::string url_encoded_hash(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += "%" + hex.substr(i, 2);
  return out;
}

// Debian's opentracker on 127.0.0.1 (HTTP and UDP on one port number), with a whitelist of
// the info-hashes it serves (the Debian build accepts no other).
struct Tracker {
  int port = 0;
  pid_t pid = -1;

  Tracker(const swarm::TempDir& dir, const std::vector<std::string>& hashes) {
    swarm::write_file(dir / "tracker/whitelist", {});
    {
      std::ofstream wl(dir / "tracker/whitelist");
      for (const std::string& h : hashes) wl << h << "\n";
      std::ofstream conf(dir / "tracker/opentracker.conf");
      // Read after opentracker's chroot into its -d folder: a path inside it.
      conf << "access.whitelist whitelist\n";
    }
    port = free_port();
    REQUIRE(port > 0);
    std::string const p = std::to_string(port);
    std::vector<std::string> args = {"/usr/bin/opentracker",
                                     "-i",
                                     "127.0.0.1",
                                     "-p",
                                     p,
                                     "-P",
                                     p,
                                     "-d",
                                     dir / "tracker",
                                     "-f",
                                     dir / "tracker/opentracker.conf"};
    std::string const log = dir / "tracker/log";
    std::fflush(nullptr);  // nothing buffered is written twice
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (!std::freopen(log.c_str(), "w", stdout) || !std::freopen(log.c_str(), "a", stderr))
        _exit(126);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1);
    bool up = false;
    for (int i = 0; i < 100 && !up; ++i) {
      up = static_cast<bool>(c.Get("/stats"));
      if (!up) std::this_thread::sleep_for(50ms);
    }
    REQUIRE_MESSAGE(up, "opentracker did not start");
    std::this_thread::sleep_for(300ms);  // its whitelist is read by a thread of its own
  }
  ~Tracker() {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  std::string http() const { return "http://127.0.0.1:" + std::to_string(port) + "/announce"; }
  std::string udp() const { return "udp://127.0.0.1:" + std::to_string(port) + "/announce"; }

  // Seeders the tracker knows for the info-hash (its HTTP scrape).
  int seeders(const std::string& hash) const {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/scrape?info_hash=" + url_encoded_hash(hash));
    if (!r) return -1;
    std::smatch m;
    static const std::regex complete("8:completei([0-9]+)e");
    return std::regex_search(r->body, m, complete) ? std::stoi(m[1]) : 0;
  }
  void wait_seeders(const std::string& hash) const {
    REQUIRE(swarm::wait_for([&] { return seeders(hash) >= 1; }, 15s));
  }
};

// 3 MiB of random data in <dir>/data/clip.mkv and its torrent (extra `cine create` options).
struct Shared {
  std::vector<uint8_t> content = swarm::random_bytes(3 << 20, 99);
  std::string torrent;
  std::string hash;

  Shared(const swarm::TempDir& d, std::vector<std::string> create_opts) {
    swarm::write_file(d / "data/clip.mkv", content);
    torrent = d / "clip.torrent";
    std::vector<std::string> args = {"create", d / "data/clip.mkv", "-o", torrent,
                                     "--piece-size=32768"};
    ProcessResult r = cine(cat(args, create_opts));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    streaming::Metadata md;
    std::string error;
    REQUIRE(streaming::load_torrent_metadata(torrent, &md, &error));
    hash = md.info_hash;
  }
};

// A `cine seed` of the shared data; returns once it printed its "listening on" line.
std::unique_ptr<CineChild> seed(const swarm::TempDir& d, const Shared& s,
                                const std::vector<std::string>& opts,
                                const std::vector<std::string>& env = {},
                                const std::string& name = "seed", std::string* addr = nullptr) {
  std::vector<std::string> args = {"seed", s.torrent, "--save-path=" + (d / "data")};
  auto child = std::make_unique<CineChild>(cat(args, opts), env, d / (name + ".err"));
  std::string const first = child->line();
  REQUIRE_MESSAGE(first.rfind("listening on 127.0.0.1:", 0) == 0, (first + child->err()));
  if (addr) *addr = first.substr(std::strlen("listening on "));
  return child;
}

// An in-process leecher with no peer given reads the whole file; REQUIREs it equals content.
void leech_all(const swarm::TempDir& d, const Shared& s, const std::string& sub,
               std::chrono::seconds timeout = 30s) {
  auto l = swarm::start_session(swarm::loopback_config(d / sub), s.torrent);
  std::string error;
  REQUIRE(l->wait_metadata({}, &error));
  streaming::FileEntry chosen;
  REQUIRE(l->select_file("", &chosen, &error));
  auto stream = l->open_stream();
  std::vector<uint8_t> got;
  REQUIRE(swarm::read_range(*stream, 0, stream->size(), &got, timeout));
  CHECK(got == s.content);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("tracker: a leecher with only the tracker's URL (HTTP, then UDP) finds the seeder") {
  for (bool const udp : {false, true}) {
    CAPTURE(udp);
    swarm::TempDir d(udp ? "trk-udp" : "trk-http");
    Shared s(d, {});
    Tracker t(d, {s.hash});
    ProcessResult r = cine({"create", d / "data/clip.mkv", "-o", s.torrent, "--piece-size=32768",
                            "--tracker=" + (udp ? t.udp() : t.http())});
    REQUIRE(r.code == 0);
    auto seeder = seed(d, s, kNoDiscovery);
    t.wait_seeders(s.hash);
    leech_all(d, s, "leech");
    CHECK(seeder->stop() == 0);
  }
}

TEST_CASE("tracker: a magnet's metadata comes through its tr= tracker") {
  swarm::TempDir d("trk-magnet");
  Shared s(d, {});
  Tracker t(d, {s.hash});
  ProcessResult r = cine({"create", d / "data/clip.mkv", "-o", s.torrent, "--piece-size=32768",
                          "--tracker=" + t.http()});
  REQUIRE(r.code == 0);
  auto seeder = seed(d, s, kNoDiscovery);
  t.wait_seeders(s.hash);
  std::string const magnet = "magnet:?xt=urn:btih:" + s.hash + "&tr=" + t.http();
  r = cine(cat({"info", magnet}, kNoDiscovery), 60);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("3145728  clip.mkv") != std::string::npos);
  CHECK(r.out.find("piece size: 32768") != std::string::npos);
  CHECK(seeder->stop() == 0);
}

TEST_CASE("tracker: an unreachable or refusing tracker is a warning, not a hang") {
  swarm::TempDir d("trk-bad");
  int const dead = free_port();  // nothing listens there
  Shared s(d, {"--tracker=http://127.0.0.1:" + std::to_string(dead) + "/announce"});
  // A tracker that refuses the torrent (not on its whitelist).
  Tracker t(d, {std::string(40, '0')});
  ProcessResult r = cine({"create", d / "data/clip.mkv", "-o", s.torrent, "--piece-size=32768",
                          "--tracker=http://127.0.0.1:" + std::to_string(dead) + "/announce",
                          "--tracker=" + t.http()});
  REQUIRE(r.code == 0);
  auto seeder = seed(d, s, cat(kNoDiscovery, {"--seed-time=6"}));
  CHECK(seeder->wait(30) == 0);
  std::string const err = seeder->err();
  CHECK_MESSAGE(err.find("cine: warning: tracker http://127.0.0.1:" + std::to_string(dead)) !=
                    std::string::npos,
                err);
  CHECK_MESSAGE(err.find("not authorized") != std::string::npos, err);

  // `cine play` says it in its stats too (a real clip, played for a few seconds).
  std::filesystem::create_directories(d / "media");
  std::filesystem::copy_file(std::string(CINE_MEDIA_DIR) + "/clip.mkv", d / "media/clip.mkv");
  r = cine({"create", d / "media/clip.mkv", "-o", d / "media.torrent",
            "--tracker=http://127.0.0.1:" + std::to_string(dead) + "/announce"});
  REQUIRE(r.code == 0);
  std::string const stats = d / "stats.json";
  r = cine(cat({"play", d / "media.torrent", "--save-path=" + (d / "media"), "--vo=null",
                "--ao=null", "--length=3", "--no-seed", "--quiet", "--stats-json=" + stats},
               kNoDiscovery),
           60, {"XDG_DATA_HOME=" + (d / "xdg"), "XDG_CONFIG_HOME=" + (d / "xdg")});
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(read_text(stats).find("\"event\":\"warning\"") != std::string::npos);
  CHECK(r.err.find("cine: warning: tracker ") != std::string::npos);
}

TEST_CASE("dht: a magnet's metadata through a private loopback DHT; its state is kept") {
  swarm::TempDir d("dht");
  Shared s(d, {});
  // A DHT node for the others to start from (it knows nobody: its own bootstrap goes nowhere).
  streaming::SessionConfig node_cfg = swarm::loopback_config(d / "node");
  node_cfg.dht = true;
  node_cfg.dht_bootstrap = {"127.0.0.1:9"};
  std::string error;
  auto node = streaming::Session::create(node_cfg, &error);
  REQUIRE_MESSAGE(node, error);
  std::string const boot = "--dht-bootstrap=127.0.0.1:" + std::to_string(node->listen_port());

  std::vector<std::string> const seed_env = {"XDG_DATA_HOME=" + (d / "seed-xdg")};
  auto seeder = seed(d, s, cat(kDhtLoopback, {boot}), seed_env);
  // The seeder announces itself to the DHT once it has bootstrapped (milliseconds here).
  std::this_thread::sleep_for(2s);

  std::vector<std::string> const env = {"XDG_DATA_HOME=" + (d / "xdg")};
  std::string const magnet = "magnet:?xt=urn:btih:" + s.hash;
  ProcessResult r =
      cine(cat({"info", magnet, boot, "--log-file=" + (d / "info.log")}, kDhtLoopback), 70, env);
  REQUIRE_MESSAGE(r.code == 0, (r.err + read_text(d / "info.log")));
  CHECK(r.out.find("3145728  clip.mkv") != std::string::npos);

  // The DHT state was written at exit and is read by the next run.
  std::string const state = d / "xdg/cine/dht.state";
  REQUIRE(std::filesystem::exists(state));
  CHECK(std::filesystem::file_size(state) > 0);
  r = cine(cat({"info", magnet, boot, "--log-file=" + (d / "info2.log")}, kDhtLoopback), 70, env);
  CHECK_MESSAGE(r.code == 0, (r.err + read_text(d / "info2.log")));
  CHECK(read_text(d / "info2.log").find("DHT state read from " + state) != std::string::npos);
  CHECK(seeder->stop() == 0);
  CHECK(std::filesystem::exists(d / "seed-xdg/cine/dht.state"));
}

TEST_CASE("web seed: a torrent with a url-list plays from the HTTP server alone") {
  swarm::TempDir d("webseed");
  std::string const media = std::string(CINE_MEDIA_DIR) + "/clip.mkv";
  std::filesystem::create_directories(d / "www");
  std::filesystem::copy_file(media, d / "www/clip.mkv");
  httplib::Server server;
  std::atomic<int> requests{0};
  server.set_mount_point("/", d / "www");
  server.set_logger([&](const httplib::Request&, const httplib::Response&) { ++requests; });
  int const port = server.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serving([&] { server.listen_after_bind(); });
  std::string const url = "http://127.0.0.1:" + std::to_string(port) + "/clip.mkv";

  ProcessResult r = cine({"create", d / "www/clip.mkv", "-o", d / "clip.torrent",
                          "--piece-size=16384", "--web-seed=" + url});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = cine({"info", d / "clip.torrent"});
  CHECK(r.out.find("web seeds:\n  " + url) != std::string::npos);

  std::string const stats = d / "stats.json";
  r = cine(cat({"play", d / "clip.torrent", "--save-path=" + (d / "dl"), "--vo=null", "--ao=null",
                "--no-sync", "--frames=50", "--no-seed", "--quiet", "--stats-json=" + stats},
               kNoDiscovery),
           60, {"XDG_DATA_HOME=" + (d / "xdg"), "XDG_CONFIG_HOME=" + (d / "xdg")});
  server.stop();
  serving.join();
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(read_text(stats).find("\"event\":\"first_frame\"") != std::string::npos);
  CHECK(requests.load() > 0);
}

TEST_CASE("seeding limits: --seed-ratio=1 exits after one full upload, --seed-time=3 after ~3 s") {
  swarm::TempDir d("seedlimit");
  Shared s(d, {});
  std::string addr;
  auto ratio = seed(d, s, cat(kNoDiscovery, {"--seed-ratio=1"}), {}, "ratio", &addr);
  CHECK(ratio->line().rfind("seeding clip.mkv", 0) == 0);
  {
    auto l = swarm::start_session(swarm::loopback_config(d / "leech", 0, {addr}), s.torrent);
    std::string error;
    REQUIRE(l->wait_metadata({}, &error));
    streaming::FileEntry chosen;
    REQUIRE(l->select_file("", &chosen, &error));
    auto stream = l->open_stream();
    std::vector<uint8_t> got;
    REQUIRE(swarm::read_range(*stream, 0, stream->size(), &got, 30s));
    CHECK(got == s.content);
    CHECK(ratio->wait(20) == 0);
  }
  CHECK(ratio->line().rfind("seed ratio 1.00 reached", 0) == 0);

  auto const t0 = std::chrono::steady_clock::now();
  auto timed = seed(d, s, cat(kNoDiscovery, {"--seed-time=3"}), {}, "time");
  CHECK(timed->wait(20) == 0);
  double const took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(took >= 3);
  CHECK(took < 10);
}

TEST_CASE("seeding limits: cine play seeds after playback until --seed-time, then exits 0") {
  swarm::TempDir d("playseed");
  std::filesystem::create_directories(d / "data");
  std::filesystem::copy_file(std::string(CINE_MEDIA_DIR) + "/clip.mkv", d / "data/clip.mkv");
  ProcessResult r = cine({"create", d / "data/clip.mkv", "-o", d / "clip.torrent"});
  REQUIRE(r.code == 0);
  r = cine(cat({"play", d / "clip.torrent", "--save-path=" + (d / "data"), "--vo=null", "--ao=null",
                "--no-sync", "--frames=5", "--quiet", "--seed-time=2"},
               kNoDiscovery),
           30, {"XDG_DATA_HOME=" + (d / "xdg"), "XDG_CONFIG_HOME=" + (d / "xdg")});
  CHECK_FALSE(r.timed_out);
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(r.err.find("cine: seed time 2 s reached; stopped seeding") != std::string::npos);
  CHECK(r.seconds >= 2);
}

TEST_CASE("--log-file: FFmpeg's and libtorrent's lines of a local torrent play") {
  swarm::TempDir d("logfile");
  std::filesystem::create_directories(d / "data");
  std::filesystem::copy_file(std::string(CINE_MEDIA_DIR) + "/clip.mkv", d / "data/clip.mkv");
  ProcessResult r = cine({"create", d / "data/clip.mkv", "-o", d / "clip.torrent"});
  REQUIRE(r.code == 0);
  std::string const log = d / "cine.log";
  r = cine(cat({"play", d / "clip.torrent", "--save-path=" + (d / "data"), "--vo=null", "--ao=null",
                "--no-sync", "--frames=20", "--no-seed", "--quiet", "--log-file=" + log},
               kNoDiscovery),
           60, {"XDG_DATA_HOME=" + (d / "xdg"), "XDG_CONFIG_HOME=" + (d / "xdg")});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  std::string const text = read_text(log);
  CHECK_MESSAGE(text.find("[ffmpeg] [") != std::string::npos, text);
  CHECK_MESSAGE(text.find("[torrent] ") != std::string::npos, text);
  CHECK_MESSAGE(text.find("libtorrent ") != std::string::npos, text);
  // Nothing of it on the terminal without -v.
  CHECK(r.err.find("torrent:") == std::string::npos);

  // -v sends the libtorrent trace to stderr as well.
  r = cine(cat({"play", d / "clip.torrent", "--save-path=" + (d / "data"), "--vo=null", "--ao=null",
                "--no-sync", "--frames=5", "--no-seed", "--quiet", "-v"},
               kNoDiscovery),
           60, {"XDG_DATA_HOME=" + (d / "xdg"), "XDG_CONFIG_HOME=" + (d / "xdg")});
  CHECK(r.code == 0);
  CHECK(r.err.find("cine: torrent: ") != std::string::npos);

  r = cine({"play", d / "clip.torrent", "--log-file=" + (d / "no/such/dir/x.log")});
  CHECK(r.code == 2);
  CHECK(r.err.find("cannot write the log file") != std::string::npos);
}
