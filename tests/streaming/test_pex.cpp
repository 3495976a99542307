// Peer exchange (ut_pex) on a loopback swarm: a leecher told only about peer A learns of peer B
// from A and downloads from B. A is a slow, incomplete peer that knows B; B is a fast seeder.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/streaming/swarm_fixture.h"

using namespace std::chrono_literals;

TEST_CASE("pex: the leecher finds the seeder through the peer it was given") {
  swarm::Swarm sw("pex", 4 << 20, 32768, 1, 0);
  std::string const b = sw.seeder_peers()[0];

  // A: downloads from B slowly and uploads at 2 kB/s, so it could never give the leecher 4 MiB
  // in time; it knows B because it was told (--peer).
  streaming::SessionConfig a_cfg = swarm::loopback_config(sw.dir / "a", 2048, {b});
  a_cfg.max_download = 32 * 1024;
  auto a = swarm::start_session(a_cfg, sw.torrent);
  REQUIRE(swarm::wait_for([&] { return a->stats().peers >= 1 && a->stats().downloaded > 0; }, 20s));
  std::string const a_addr = sw.peer_of(*a);

  // The leecher knows only A.
  auto l = swarm::start_session(swarm::loopback_config(sw.dir / "leech", 0, {a_addr}), sw.torrent);
  std::string error;
  REQUIRE(l->wait_metadata({}, &error));
  streaming::FileEntry chosen;
  REQUIRE(l->select_file("", &chosen, &error));
  auto stream = l->open_stream();
  auto const t0 = std::chrono::steady_clock::now();
  // The most peers the leecher had at once (once complete, it drops B: seeds part).
  std::atomic<int> most_peers{0};
  std::atomic<bool> reading{true};
  std::thread watch([&] {
    while (reading) {
      most_peers = std::max(most_peers.load(), l->stats().peers);
      std::this_thread::sleep_for(50ms);
    }
  });
  std::vector<uint8_t> got;
  bool const read_ok = swarm::read_range(*stream, 0, stream->size(), &got, 40s);
  reading = false;
  watch.join();
  REQUIRE(read_ok);
  double const took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(got == sw.content);
  // Two peers: A (given) and B (from A's PEX message). A sent under 1 MiB of the 4 MiB (alone
  // it would need over 30 min): the rest came from B, which uploaded far more than the 32 kB/s
  // A may take. (The peer count is only a 5-a-second snapshot: with B unlimited, the leecher
  // can be complete, and drop B, between two of them.)
  MESSAGE("most peers seen at once: " << most_peers.load());
  CHECK(most_peers.load() >= 1);
  CHECK(took < 40);
  CHECK(a->stats().uploaded < (1 << 20));
  CHECK(swarm::wait_for([&] { return sw.seeders[0]->stats().uploaded >= (3 << 20); }, 5s));
}
