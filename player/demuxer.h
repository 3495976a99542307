// Demuxer: opens the container through an AvioSource and runs the read thread that fills the
// packet queues (video, the chosen audio stream, every subtitle stream); performs seeks and audio
// stream switches requested from other threads. Does not decode anything.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "player/avio.h"
#include "player/media_types.h"
#include "player/queues.h"

extern "C" {
#include <libavformat/avformat.h>
}

namespace player {

using PacketQueue = BoundedQueue<PacketItem>;

class Demuxer {
 public:
  explicit Demuxer(streaming::ByteSource* src);
  ~Demuxer();

  // Opens the input and finds the streams (demuxer's caller thread, before start()).
  // audio: which audio stream, counted from 1 among the audio streams; 0 picks the best one,
  // -1 none. False + *error (one line) when the input is not playable media.
  bool open(std::string* error, int audio = 0);

  AVFormatContext* format() const { return fmt_; }
  int video_stream() const { return video_idx_; }
  int audio_stream() const { return audio_idx_.load(); }
  // Stream indices of the audio streams, and of the subtitle streams the player can show.
  const std::vector<int>& audio_streams() const { return audio_streams_; }
  const std::vector<int>& subtitle_streams() const { return sub_streams_; }
  // Fonts attached to the container (name, bytes), for the subtitle renderer.
  std::vector<std::pair<std::string, std::string>> attached_fonts() const;
  double duration() const;  // seconds, or -1
  double start_offset() const;  // the container's start time (s), subtracted from every time

  // Starts the read thread. Packets for the video stream go to vq, for the audio stream to aq,
  // for subtitle streams to sq (any may be null).
  void start(PacketQueue* vq, PacketQueue* aq, PacketQueue* sq = nullptr);

  // Any thread: seek to target seconds; the packets that follow carry `serial`. A newer
  // request replaces an older one; a read blocked on missing data is interrupted.
  // audio_stream >= -1 switches the audio stream (stream index, -1 none) with the seek; the
  // caller must have stopped the old audio decoder so the new one sees the serial's Flush.
  void request_seek(double target, int serial, int audio_stream = -2);

  // Exact seeks (the default, mpv's hr-seek): decode from the keyframe before the target and
  // show nothing before it. Off, a seek shows the keyframe at or before the target at once, as
  // mpv's --hr-seek=no, which reads and decodes up to a keyframe interval less. Containers
  // without an index of their own (MPEG-TS) always seek exactly. Call before start().
  void set_exact_seeks(bool exact) { exact_seeks_ = exact; }

  // Any thread: the byte the read thread reads or waits for now (-1 before the first read).
  int64_t read_position() const { return avio_.read_position(); }

  // How far the read thread got for `serial`: the latest packet time (s), or -1.
  double read_until(int serial) const;

  // After stop(): byte position of the keyframe at or before `t` seconds from the container's
  // index (the point a later seek to t will read from), or -1 when the index cannot tell.
  int64_t keyframe_pos(double t) const;

  // Any thread: abandon blocked reads (open included) without stopping the thread.
  void interrupt();

  // Any thread: interrupt everything and join the thread.
  void stop();

  // True once the read thread hit the end of the input for the given serial.
  bool eof_for(int serial) const { return eof_serial_.load() == serial; }
  // Non-empty when reading failed for good (not EOF); the player reports it.
  std::string fatal_error() const;

 private:
  void run();
  bool do_seek(double target, int serial);
  int64_t next_keyframe_within_a_frame(int64_t ts) const;
  void push_flush(int serial, double target);

  void apply_discard();  // read thread (or before start)

  streaming::ByteSource* src_;
  AvioSource avio_;
  AVFormatContext* fmt_ = nullptr;
  int video_idx_ = -1;
  std::atomic<int> audio_idx_{-1};
  std::vector<int> audio_streams_, sub_streams_;
  PacketQueue* vq_ = nullptr;
  PacketQueue* aq_ = nullptr;
  PacketQueue* sq_ = nullptr;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool seek_pending_ = false;
  double seek_target_ = 0;
  int seek_serial_ = 0;
  int seek_audio_ = -2;       // audio stream to switch to with the pending seek (-2: keep)
  std::atomic<bool> exact_seeks_{true};
  std::atomic<int> read_serial_{-1};
  std::atomic<double> read_until_{-1};
  int serial_ = 0;            // serial of the packets being read (read thread)
  std::atomic<int> eof_serial_{-1};
  double last_key_ = -1;      // pts of the last video keyframe read (read thread)
  double max_gop_ = 0;        // longest keyframe interval seen (read thread)
  std::string fatal_;
};

}  // namespace player
