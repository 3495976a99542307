// Bad peers on a loopback swarm: a seeder whose data was corrupted after the torrent was made
// (it trusts its resume data, so it serves the damaged pieces) is banned, the pieces come again
// from the honest seeder (which stays), and the stream stays byte-identical.
//
// The corrupt seeder has its own loopback address (127.0.0.2), as a bad peer on the internet has
// its own IP: libtorrent's smart-ban plugin finds the sender of a failed block by IP alone (the
// first peer entry with that address), so on one shared address it banned the honest seeder
// again and again, and the download crawled along on reconnects.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/streaming/swarm_fixture.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("bad peer: corrupt data is rejected, the peer banned, the honest seeder kept") {
  int const piece = 32 << 10;
  swarm::Swarm sw("badpeer", 4 << 20, piece, 1, 384 << 10);  // honest: ~11 s for the file
  std::string error;

  // The corrupt seeder: a private copy, checked and saved clean, then damaged in place (every
  // third piece) and restarted on its resume data, which lists every piece as verified.
  std::string const bad = sw.dir / "bad";
  swarm::write_file(bad + "/" + sw.file_name, sw.content);
  {
    auto s = swarm::start_session(swarm::loopback_config(bad), sw.torrent);
    REQUIRE(s->wait_checked({}, &error));
    REQUIRE(s->finished());
  }
  {
    std::fstream f(bad + "/" + sw.file_name, std::ios::in | std::ios::out | std::ios::binary);
    for (int64_t at = 1000; at < int64_t(sw.content.size()); at += 3 * piece) {
      f.seekp(at);
      f.write("CORRUPTED", 9);
    }
  }
  auto corrupt_cfg = swarm::loopback_config(bad);
  corrupt_cfg.listen_interface = "127.0.0.2";
  auto corrupt = swarm::start_session(corrupt_cfg, sw.torrent);
  REQUIRE(corrupt->wait_checked({}, &error));
  REQUIRE_MESSAGE(corrupt->finished(), "the corrupt seeder re-hashed its data; nothing to test");

  // The leecher knows the corrupt seeder first; it is unthrottled, so it would serve most of it.
  swarm::TempDir leech("badpeer-leech");
  auto s = swarm::start_session(
      swarm::loopback_config(leech.path(), 0,
                             {"127.0.0.2:" + std::to_string(corrupt->listen_port()),
                              sw.seeder_peers()[0]}),
      sw.torrent);
  REQUIRE(s->wait_metadata({}, &error));
  streaming::FileEntry chosen;
  REQUIRE(s->select_file("", &chosen, &error));
  auto stream = s->open_stream();
  REQUIRE(stream);
  std::vector<uint8_t> got;
  REQUIRE(swarm::read_range(*stream, 0, stream->size(), &got, 90s));
  CHECK(got == sw.content);
  CHECK(swarm::wait_for([&] { return s->finished(); }, 30s));
  CHECK(swarm::read_file(leech / sw.file_name) == sw.content);
  // The honest seeder served the rest; the corrupt one was dropped.
  CHECK(sw.seeders[0]->stats().uploaded > int64_t(sw.content.size()) / 3);
  CHECK(swarm::wait_for([&] { return corrupt->stats().peers == 0; }, 5s));
  MESSAGE("corrupt seeder uploaded " << corrupt->stats().uploaded << ", honest "
                                     << sw.seeders[0]->stats().uploaded);
}
