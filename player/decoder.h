// Decoder threads: one per stream. They pop packets, decode, drop output older than the
// current seek target (exact seeks), and push frames (video) or converted audio chunks.
// They never present anything and never touch SDL.
#pragma once

#include <atomic>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "player/demuxer.h"
#include "player/media_types.h"
#include "player/queues.h"
#include "player/tempo.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libswresample/swresample.h>
}

namespace player {

using VideoFrameQueue = BoundedQueue<VideoFrame>;
using AudioChunkQueue = BoundedQueue<AudioChunk>;

// The audio format the output device wants; decoders convert to it.
struct AudioFormat {
  int sample_rate = 48000;
  int channels = 2;
  AVSampleFormat sample_fmt = AV_SAMPLE_FMT_FLT;  // interleaved
  int bytes_per_second() const {
    return sample_rate * channels * av_get_bytes_per_sample(sample_fmt);
  }
  int bytes_per_frame() const { return channels * av_get_bytes_per_sample(sample_fmt); }
};

// Decoding threads for a video stream of this size and frame rate. One thread for streams a
// single core decodes comfortably in real time (up to 1920x1088 at 30 fps): frame threads cost
// CPU in handing frames over and hold each picture back by a packet. One per core (at most 16)
// above that. A single-threaded decoder that turns out too slow switches to one per core itself.
int video_decode_threads(int width, int height, double fps, unsigned cores);

// How many decoded pictures of this size the video frame queue holds, and the mark the decoder
// waits for once the queue is full before it decodes again. Up to 14 pictures within 48 MB, at
// least 6: a single-threaded decoder that runs ahead of playback then decodes about ten frames
// in a row and rests, instead of one frame each time the output takes one (on the development
// machine 1080p H.264 costs ~3.5 % less CPU so). Where only 6 fit it waits for one free slot.
struct FrameQueueShape {
  int frames = 6;
  int refill_at = 5;
};
FrameQueueShape video_frame_queue_shape(int width, int height);

// Common part: codec context, packet loop, serial handling, EOF drain.
// Thread contract: construct/open/start from the owner thread; the decode loop runs on its own
// thread; finished_serial() and serial bookkeeping are atomics readable from any thread.
class Decoder {
 public:
  virtual ~Decoder();
  // Opens the decoder for stream `index` of fmt. False + *error if unsupported.
  bool open(AVFormatContext* fmt, int index, std::string* error);
  void start(PacketQueue* in, const std::atomic<int>* wanted_serial);
  void stop();  // the queues must be aborted by the owner first (or request_stop() called)
  // Any thread: makes the decode loop return at its next step without aborting the queues (a
  // decoder that pushes into a full output queue needs that queue flushed to get there).
  void request_stop();
  // Serial whose stream end the decoder has fully drained (-1 none).
  int finished_serial() const { return finished_serial_.load(); }
  AVCodecContext* codec() const { return ctx_; }
  AVStream* stream() const { return stream_; }
  // Threads of the codec context now in use (any thread; changes when a slow decoder switches).
  int threads() const { return threads_.load(); }

 protected:
  // Called on the decoder thread for every decoded frame of the current serial.
  // Returns false if the output queue was aborted.
  virtual bool on_frame(AVFrame* frame, int serial, double seek_target) = 0;
  virtual void on_flush() {}
  // Threads the codec context should have; a change applies at the next keyframe or seek.
  virtual int wanted_threads() const { return all_cores_threads(); }
  // Called on the decoder thread before each packet of the current serial is sent, and after
  // its frames were taken.
  virtual void before_packet(const AVPacket*, double /*seek_target*/) {}
  virtual void after_packet() {}
  // Called on the decoder thread with the first packet of each serial (after a seek or at the
  // start), before the codec context sees it. Returns false if the output queue was aborted.
  virtual bool on_first_packet(const AVPacket*, int /*serial*/, double /*seek_target*/) { return true; }
  static int all_cores_threads();
  // A codec context for the stream with `threads` threads, opened; nullptr if that fails.
  AVCodecContext* new_context(int threads) const;
  double packet_time(const AVPacket* p) const;
  double frame_time(const AVFrame* f) const;

  AVCodecContext* ctx_ = nullptr;
  AVStream* stream_ = nullptr;
  double start_offset_ = 0;  // container start time, subtracted so positions start at 0

 private:
  void run();
  bool drain_frames(int serial, double target);
  bool open_context(int threads);

  PacketQueue* in_ = nullptr;
  const std::atomic<int>* wanted_serial_ = nullptr;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
  std::atomic<int> finished_serial_{-1};
  std::atomic<int> threads_{0};
  AVFrame* frame_ = nullptr;
  bool first_of_serial_ = false;
};

class VideoDecoder : public Decoder {
 public:
  explicit VideoDecoder(VideoFrameQueue* out) : out_(out) {}
  ~VideoDecoder() override;
  // When set, writes "pts_ms adler32" per decoded frame (after exact-seek dropping), for tests.
  void set_hash_file(FILE* f) { hash_file_ = f; }
  // Before open(): a single-threaded decoder switches to one thread per core once decoding takes
  // more than this fraction of the frame interval on average (tests lower it to force a switch).
  void set_slow_fraction(double f) { slow_fraction_ = f; }
  double frame_rate() const;

 protected:
  bool on_frame(AVFrame* frame, int serial, double seek_target) override;
  void on_flush() override;
  int wanted_threads() const override;
  void before_packet(const AVPacket* pkt, double seek_target) override;
  void after_packet() override;
  bool on_first_packet(const AVPacket* pkt, int serial, double seek_target) override;

 private:
  bool reorders() const;
  // Hands a picture of `serial` on to the frame queue (or keeps it back, before an exact seek's
  // target). Returns false if the queue was aborted.
  bool present(AVFrame* frame, int serial, double seek_target);
  VideoFrameQueue* out_;
  double slow_fraction_ = 0.5;
  double cost_avg_ = 0;  // moving average of the CPU seconds per packet, single-threaded
  int cost_samples_ = 0;
  bool measuring_ = false;  // this packet's cost is being measured, from cost_from_
  timespec cost_from_{};
  bool too_slow_ = false;  // sticky: decode with one thread per core from the next keyframe
  FILE* hash_file_ = nullptr;
  FramePtr last_dropped_;  // shown instead when a seek targets past the last frame
  bool output_any_ = false;
  int last_serial_ = -1;
  // The keyframe shown ahead of the codec context (on_first_packet): the context's own output
  // up to this time is dropped. NaN when none is pending.
  double preview_pts_ = NAN;
  int max_b_frames_ = 0;      // the most reordering the codec contexts reported so far
  int64_t frames_seen_ = 0;   // frames the codec contexts gave out, to trust max_b_frames_

  friend class Decoder;
 public:
  // Called at the end of the stream: if every frame of this serial was before the seek
  // target, present the last one rather than nothing.
  bool flush_last_dropped(int serial);
};

class AudioDecoder : public Decoder {
 public:
  AudioDecoder(AudioChunkQueue* out, AudioFormat fmt) : out_(out), fmt_(fmt) {}
  ~AudioDecoder() override;
  // Any thread: playback speed for the audio decoded from now on (pitch kept; float output).
  void set_speed(double s) { speed_ = s; }
  // Before start(): sees every chunk pushed (decoder thread), for tests.
  using Tap = std::function<void(const AudioChunk&)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }

 protected:
  bool on_frame(AVFrame* frame, int serial, double seek_target) override;
  void on_flush() override;

 private:
  AudioChunkQueue* out_;
  AudioFormat fmt_;
  SwrContext* swr_ = nullptr;
  int swr_in_rate_ = 0, swr_in_fmt_ = -1;
  AVChannelLayout swr_in_layout_{};
  double next_pts_ = NAN;  // continuity for frames without timestamps
  std::atomic<double> speed_{1.0};
  std::unique_ptr<Tempo> tempo_;
  bool tempo_active_ = false;
  Tap tap_;
};

// Checksum of a frame's visible pixels (per-plane rows, ignoring padding).
uint32_t frame_checksum(const AVFrame* f);

}  // namespace player
