// Demuxer: opens the container through an AvioSource and runs the read thread that fills the
// packet queues; performs seeks requested from other threads. Does not decode anything.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

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
  // False + *error (one line) when the input is not playable media.
  bool open(std::string* error);

  AVFormatContext* format() const { return fmt_; }
  int video_stream() const { return video_idx_; }
  int audio_stream() const { return audio_idx_; }
  double duration() const;  // seconds, or -1

  // Starts the read thread. Packets for stream v go to vq, for a to aq (either may be null).
  void start(PacketQueue* vq, PacketQueue* aq);

  // Any thread: seek to target seconds; the packets that follow carry `serial`. A newer
  // request replaces an older one; a read blocked on missing data is interrupted.
  void request_seek(double target, int serial);

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
  void push_flush(int serial, double target);

  streaming::ByteSource* src_;
  AvioSource avio_;
  AVFormatContext* fmt_ = nullptr;
  int video_idx_ = -1, audio_idx_ = -1;
  PacketQueue* vq_ = nullptr;
  PacketQueue* aq_ = nullptr;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool seek_pending_ = false;
  double seek_target_ = 0;
  int seek_serial_ = 0;
  int serial_ = 0;            // serial of the packets being read (read thread)
  std::atomic<int> eof_serial_{-1};
  double last_key_ = -1;      // pts of the last video keyframe read (read thread)
  double max_gop_ = 0;        // longest keyframe interval seen (read thread)
  std::string fatal_;
};

}  // namespace player
