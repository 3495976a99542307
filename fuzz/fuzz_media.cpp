// libFuzzer: mutated media -> a ByteSource over the bytes -> player::AvioSource -> FFmpeg's
// demuxers (open, probe, read every packet, seek back and read again), and the container index
// parser the piece picker uses (streaming::ContainerIndex) on the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "player/avio.h"
#include "streaming/byte_source.h"
#include "streaming/container_index.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

namespace {

class MemorySource final : public streaming::ByteSource {
 public:
  MemorySource(const uint8_t* d, size_t n) : data_(d), size_(n) {}
  int64_t read(uint8_t* buf, size_t len) override {
    if (pos_ >= int64_t(size_)) return 0;
    size_t const n = std::min(len, size_ - size_t(pos_));
    std::memcpy(buf, data_ + pos_, n);
    pos_ += int64_t(n);
    return int64_t(n);
  }
  bool seek(int64_t pos) override {
    if (pos < 0 || pos > int64_t(size_)) return false;
    pos_ = pos;
    return true;
  }
  int64_t size() const override { return int64_t(size_); }
  int64_t position() const override { return pos_; }
  void cancel() override {}
  void resume() override {}
  std::string describe() const override { return "fuzz input"; }

 private:
  const uint8_t* data_;
  size_t size_;
  int64_t pos_ = 0;
};

void index(const uint8_t* data, size_t size) {
  streaming::ContainerIndex ix{static_cast<int64_t>(size)};
  // Feed what it asks for, as a torrent would, for a bounded number of rounds.
  for (int round = 0; round < 64 && !ix.done(); ++round) {
    auto const wanted = ix.wanted();
    for (const auto& r : wanted) {
      int64_t const b = std::max<int64_t>(0, r.begin), e = std::min<int64_t>(int64_t(size), r.end);
      if (b < e) ix.feed(b, data + b, size_t(e - b));
    }
  }
  (void)ix.urgent();
  (void)ix.guess();
  for (double t : {-1.0, 0.0, 0.5, 7.0, ix.duration(), 1e12}) (void)ix.keyframe_before(t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  av_log_set_level(AV_LOG_QUIET);
  index(data, size);

  MemorySource src(data, size);
  player::AvioSource avio(&src);
  AVFormatContext* fmt = avformat_alloc_context();
  fmt->pb = avio.context();
  fmt->interrupt_callback = avio.interrupt_callback();
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  fmt->probesize = 256 << 10;
  fmt->max_analyze_duration = 500000;  // microseconds: keep each run short
  if (avformat_open_input(&fmt, nullptr, nullptr, nullptr) < 0) return 0;  // frees fmt
  if (avformat_find_stream_info(fmt, nullptr) >= 0) {
    AVPacket* pkt = av_packet_alloc();
    for (int pass = 0; pass < 2; ++pass) {
      for (int i = 0; i < 2000 && av_read_frame(fmt, pkt) >= 0; ++i) av_packet_unref(pkt);
      av_seek_frame(fmt, -1, 0, AVSEEK_FLAG_BACKWARD);
    }
    av_packet_free(&pkt);
  }
  avformat_close_input(&fmt);
  return 0;
}
