// AvioSource: adapts a streaming::ByteSource to an FFmpeg AVIOContext, with an interrupt flag
// for the format context. Does not own the AVFormatContext; does own its AVIOContext.
#pragma once

#include <atomic>
#include <cstdint>

#include "streaming/byte_source.h"

extern "C" {
#include <libavformat/avio.h>
}

namespace player {

// Thread contract: the AVIOContext is used by the demuxer thread only. interrupt() and
// clear_interrupt() may be called from any thread; interrupt() also cancels a blocked read.
class AvioSource {
 public:
  explicit AvioSource(streaming::ByteSource* src);
  ~AvioSource();
  AvioSource(const AvioSource&) = delete;
  AvioSource& operator=(const AvioSource&) = delete;

  AVIOContext* context() const { return ctx_; }
  // Fills an AVIOInterruptCB that reports interrupt() to FFmpeg's blocking loops.
  AVIOInterruptCB interrupt_callback();

  void interrupt();
  void clear_interrupt();
  bool interrupted() const { return interrupted_.load(); }
  streaming::ByteSource* source() const { return src_; }
  // Any thread: the byte position the demuxer reads (or waits for) now, -1 before any read.
  int64_t read_position() const { return read_pos_.load(); }

 private:
  static int read_cb(void* opaque, uint8_t* buf, int size);
  static int64_t seek_cb(void* opaque, int64_t offset, int whence);
  static int interrupt_cb(void* opaque);

  streaming::ByteSource* src_;
  AVIOContext* ctx_ = nullptr;
  std::atomic<bool> interrupted_{false};
  std::atomic<int64_t> read_pos_{-1};
};

}  // namespace player
