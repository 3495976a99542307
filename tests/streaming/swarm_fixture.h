// Loopback swarm fixture: a random "media" file, its .torrent, seeders as real Sessions on
// 127.0.0.1 with upload limits, and helpers to read a stream with a watchdog. Test-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "streaming/byte_source.h"
#include "streaming/session.h"

namespace swarm {

// A fresh directory under the test build dir, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& sub) const { return path_ + "/" + sub; }

 private:
  std::string path_;
};

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_file(const std::string& path);

// Loopback only: 127.0.0.1, OS-chosen port, no DHT/LSD/UPnP/NAT-PMP.
streaming::SessionConfig loopback_config(const std::string& save_path, int max_upload = 0,
                                         const std::vector<std::string>& peers = {});

// Creates a session and adds the source; REQUIREs success.
std::unique_ptr<streaming::Session> start_session(const streaming::SessionConfig& cfg,
                                                  const std::string& source);

// Waits (polling stats) until pred is true or the timeout passes; returns pred's last value.
bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

struct Swarm {
  // name.mkv of `size` random bytes in <dir>/src, a v1 torrent of it, and `seeders` seeding
  // sessions (each on its own hard link of the data), upload-limited to `upload_limit` B/s.
  Swarm(const std::string& test, int64_t size, int piece_size, int seeders, int upload_limit);

  std::vector<std::string> seeder_peers() const;  // "127.0.0.1:PORT" of each seeder
  std::string peer_of(const streaming::Session& s) const;

  TempDir dir;
  std::string file_name = "clip.mkv";
  std::vector<uint8_t> content;
  std::string torrent;
  std::vector<std::unique_ptr<streaming::Session>> seeders;
};

// Reads [pos, pos + len) through src (seeking first); the watchdog cancels the source after
// `timeout` so a stuck read fails the test instead of hanging it. False on error or timeout.
bool read_range(streaming::ByteSource& src, int64_t pos, int64_t len, std::vector<uint8_t>* out,
                std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace swarm
