// Items that travel through the player's queues: packets, decoded video frames, audio chunks.
// Plain RAII holders around FFmpeg objects; no threads or policy here.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
}

namespace player {

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

// What the demuxer sends a decoder. A Flush starts a new serial (after open or a seek) and
// tells the decoder to drop output before seek_target; Eof asks it to drain.
struct PacketItem {
  enum class Kind { Data, Flush, Eof } kind = Kind::Data;
  PacketPtr pkt;
  int serial = 0;
  double seek_target = -1;  // with Flush: drop decoded output before this time (s); <0: none
};

struct VideoFrame {
  FramePtr frame;
  double pts = 0;        // seconds
  double duration = 0;   // seconds (estimated from the frame rate when unknown)
  int serial = 0;
  int64_t pos = -1;      // byte position of the frame's packet in the file, -1 unknown
  bool key = false;      // a keyframe (decoding can start here)
};

// Audio already converted to the output device's format (interleaved), and already stretched
// to the playback speed: each sample stands for `speed` samples' worth of media time.
struct AudioChunk {
  std::vector<uint8_t> data;
  double pts = 0;        // media time of the first sample
  int serial = 0;
  double speed = 1.0;
};

}  // namespace player
