// BlockTap: copies of the blocks peers deliver, taken as they arrive and before their piece is
// hash-checked, for the few byte ranges the session asks for. The session feeds them to a
// second ContainerIndex to learn early where the file keeps its header and index (an MP4 moov
// behind the media data, the Matroska Cues): with 1 MiB pieces the first piece passes its
// check about a third of a second after its first block came in, and the index piece can be
// asked for that much sooner. Unchecked bytes only ever steer which pieces are asked for
// first; nothing from them is played or written.
// Pure: the session's libtorrent extension calls on_block() on libtorrent's network thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "streaming/piece_map.h"

namespace streaming {

class BlockTap {
 public:
  struct Chunk {
    int64_t offset = 0;  // torrent-relative
    std::vector<uint8_t> bytes;
  };

  // The torrent-relative ranges to copy from now on (empty: none) and the torrent's piece
  // length, which turns a block's (piece, offset) into a torrent offset.
  void want(std::vector<ByteRange> ranges, int64_t piece_length);
  // Called for each block that arrives: keeps the parts inside the wanted ranges (at most
  // kMaxPending bytes wait for take()), then calls the notifier if it kept any.
  void on_block(int piece, int start, const char* data, int len);
  // The chunks kept since the last call, in arrival order.
  std::vector<Chunk> take();
  // Called (on the network thread, without the tap's lock) when on_block() kept something.
  void set_notify(std::function<void()> notify);

  static constexpr size_t kMaxPending = 1 << 20;

 private:
  std::mutex mu_;
  std::vector<ByteRange> ranges_;
  int64_t piece_length_ = 0;
  std::vector<Chunk> chunks_;
  size_t pending_ = 0;
  std::function<void()> notify_;
};

}  // namespace streaming
