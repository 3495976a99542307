// Test helper: a leecher in its own process so test_swarm can kill -9 it mid-download.
// Usage: swarm_leech_helper TORRENT SAVE_PATH PEER SAVE_AT_PIECES
// Prints "pieces N" lines; once N >= SAVE_AT_PIECES it saves resume data and prints
// "saved N"; then it keeps downloading until killed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "streaming/session.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s TORRENT SAVE_PATH PEER SAVE_AT_PIECES\n", argv[0]);
    return 2;
  }
  streaming::SessionConfig cfg;
  cfg.save_path = argv[2];
  cfg.listen_interface = "127.0.0.1";
  cfg.dht = cfg.lsd = cfg.upnp = cfg.natpmp = false;
  cfg.peers = {argv[3]};
  std::string error;
  auto s = streaming::Session::create(cfg, &error);
  if (!s || !s->add(argv[1], &error) || !s->wait_checked({}, &error)) {
    std::fprintf(stderr, "helper: %s\n", error.c_str());
    return 1;
  }
  streaming::FileEntry chosen;
  if (!s->select_file("", &chosen, &error)) return 1;
  int const save_at = std::atoi(argv[4]);
  bool saved = false;
  for (;;) {
    int const have = s->stats().pieces_have;
    if (!saved && have >= save_at) {
      s->save_resume();
      std::printf("saved %d\n", have);
      saved = true;
    }
    std::printf("pieces %d\n", have);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}
