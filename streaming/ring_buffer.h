// RingBuffer: a bounded window of a stream's bytes around the read head, filled out of order
// with verified data; read() blocks until the bytes at its position arrive. It does not fetch
// anything itself: whoever feeds it watches window() and the reader's position.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "streaming/piece_map.h"

namespace streaming {

// Threads: any number of producers may write(); one reader thread calls read()/seek();
// cancel(), resume(), fail() and the queries may come from any thread.
//
// The window is [base, base + capacity) clipped to the stream. A byte at stream position pos
// lives at buffer[pos % capacity], so the memory used never exceeds capacity, whatever is fed.
// The window follows the reader: a read or seek outside it, or past its middle, moves it so the
// position sits a quarter into it (room behind for small backward seeks, most of it ahead);
// bytes that fall out of the window are dropped.
class RingBuffer {
 public:
  RingBuffer(int64_t stream_size, int64_t capacity);

  // Stores the part of [pos, pos + len) inside the window; returns how many bytes were stored.
  // Wakes a reader waiting for them.
  int64_t write(int64_t pos, const uint8_t* data, size_t len);

  // Blocks until the byte at pos is present, then copies up to len contiguous present bytes.
  // Returns the count (> 0), 0 when pos >= stream size, -ECANCELED after cancel(), or the
  // error given to fail(). Moves the window to keep pos inside (see above).
  int64_t read(int64_t pos, uint8_t* buf, size_t len);
  // Same without blocking: -EAGAIN when the byte at pos is not present.
  int64_t try_read(int64_t pos, uint8_t* buf, size_t len);

  // Moves the window for a reader about to read at pos (drops what falls out of it).
  void seek(int64_t pos);

  // Wakes a blocked read() and makes reads fail with -ECANCELED until resume().
  void cancel();
  void resume();
  // Makes every read fail with -err (err > 0, e.g. EIO) from now on; for a dead source.
  void fail(int err);

  ByteRange window() const;
  // True when every byte of r (clipped to the window) is present; false for an empty clip.
  bool has(ByteRange r) const;
  // Present bytes contiguous from pos (0 if pos is absent).
  int64_t contiguous_from(int64_t pos) const;
  int64_t stream_size() const { return size_; }
  int64_t capacity() const { return cap_; }
  // Bytes of memory held (allocated on the first write, at most capacity).
  int64_t memory_bytes() const;
  // Bytes present in the window now (its fill, for the stats panel).
  int64_t present_bytes() const;

 private:
  int64_t copy_out_locked(int64_t pos, uint8_t* buf, size_t len) const;
  bool present_locked(int64_t pos) const;
  void follow_locked(int64_t pos);
  void move_window_locked(int64_t base);

  int64_t const size_;
  int64_t const cap_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable arrived_;
  // Allocated at the first write and left uninitialised: only what present_ lists is ever read.
  // (Zero-filling the default 64 MiB took 0.2 s inside the first write, on the session's thread,
  // while the reader waited for the file's first bytes.) Its pages are touched as data arrives.
  std::unique_ptr<uint8_t[]> buf_;
  int64_t base_ = 0;
  std::map<int64_t, int64_t> present_;  // begin -> end, disjoint, non-adjacent, inside window
  bool cancelled_ = false;
  int error_ = 0;
};

}  // namespace streaming
