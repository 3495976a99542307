#include "tests/streaming/swarm_fixture.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "streaming/torrent_tools.h"

namespace swarm {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TempDir::TempDir(const std::string& name) {
  path_ = std::string(STREAMING_TEST_DIR) + "/tmp/" + name + "-" + std::to_string(getpid());
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i += 4) {
    uint32_t const x = rng();
    for (size_t k = 0; k < 4 && i + k < n; ++k) v[i + k] = uint8_t(x >> (8 * k));
  }
  return v;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

streaming::SessionConfig loopback_config(const std::string& save_path, int max_upload,
                                         const std::vector<std::string>& peers) {
  streaming::SessionConfig cfg;
  cfg.save_path = save_path;
  cfg.listen_interface = "127.0.0.1";
  cfg.listen_port = 0;
  cfg.dht = cfg.lsd = cfg.upnp = cfg.natpmp = false;
  cfg.max_upload = max_upload;
  cfg.peers = peers;
  cfg.ring_bytes = 4 << 20;
  // CINE_TEST_TRACE=1: every session's plans and verified pieces on stderr.
  if (std::getenv("CINE_TEST_TRACE")) {
    cfg.log = [save_path](const std::string& l) {
      std::fprintf(stderr, "[%s] %s\n", fs::path(save_path).filename().c_str(), l.c_str());
    };
  }
  return cfg;
}

std::unique_ptr<streaming::Session> start_session(const streaming::SessionConfig& cfg,
                                                  const std::string& source) {
  std::string error;
  auto s = streaming::Session::create(cfg, &error);
  REQUIRE_MESSAGE(s, error);
  REQUIRE_MESSAGE(s->add(source, &error), error);
  return s;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto const until = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Swarm::Swarm(const std::string& test, int64_t size, int piece_size, int n, int upload_limit)
    : dir(test) {
  content = random_bytes(size_t(size), uint32_t(size) ^ 0x5eed);
  write_file(dir / ("src/" + file_name), content);
  torrent = dir / "clip.torrent";
  std::string error;
  REQUIRE_MESSAGE(
      streaming::make_torrent(dir / ("src/" + file_name), torrent, {}, piece_size, &error), error);
  for (int i = 0; i < n; ++i) {
    std::string const save = dir / ("seed" + std::to_string(i));
    fs::create_directories(save);
    fs::create_hard_link(dir / ("src/" + file_name), save + "/" + file_name);
    auto s = start_session(loopback_config(save, upload_limit), torrent);
    REQUIRE_MESSAGE(s->wait_checked({}, &error), error);
    REQUIRE(s->finished());
    seeders.push_back(std::move(s));
  }
}

std::vector<std::string> Swarm::seeder_peers() const {
  std::vector<std::string> out;
  for (const auto& s : seeders) out.push_back(peer_of(*s));
  return out;
}

std::string Swarm::peer_of(const streaming::Session& s) const {
  return "127.0.0.1:" + std::to_string(s.listen_port());
}

bool read_range(streaming::ByteSource& src, int64_t pos, int64_t len, std::vector<uint8_t>* out,
                std::chrono::seconds timeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::atomic<bool> fired{false};
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lk(mu);
    if (!cv.wait_for(lk, timeout, [&] { return finished; })) {
      fired = true;
      src.cancel();
    }
  });
  out->clear();
  bool ok = src.seek(pos);
  std::vector<uint8_t> buf(64 << 10);
  while (ok && int64_t(out->size()) < len) {
    size_t const want = size_t(std::min<int64_t>(int64_t(buf.size()), len - int64_t(out->size())));
    int64_t const n = src.read(buf.data(), want);
    if (n <= 0) {
      ok = false;
      break;
    }
    out->insert(out->end(), buf.begin(), buf.begin() + n);
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    finished = true;
  }
  cv.notify_all();
  watchdog.join();
  if (fired) src.resume();
  return ok && !fired;
}

}  // namespace swarm
