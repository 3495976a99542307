// TorrentStream: the ByteSource the player reads a torrent's file through. Reads come out of a
// RingBuffer that the session fills; the position and the player's hints are published in a
// StreamState for the session's picker. No libtorrent here: the session does the fetching.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "streaming/byte_source.h"
#include "streaming/piece_map.h"
#include "streaming/ring_buffer.h"

namespace streaming {

// Shared by the stream (the player's reader thread) and the session's pump thread. The ring,
// the atomics and the hint (under its mutex) are safe to touch from both.
class StreamState {
 public:
  // wake: called (from the reader thread) when the session should look at the state at once;
  // it must only signal, never block.
  StreamState(const PieceMap& map, int64_t ring_bytes, std::string name,
              std::function<void()> wake);

  RingBuffer& ring() { return ring_; }
  const PieceMap& map() const { return map_; }
  const std::string& name() const { return name_; }

  // The reader's position: where the picker's read head is.
  int64_t head() const { return head_.load(); }
  double byte_rate() const { return byte_rate_.load(); }
  ByteRange prefetch() const;
  // The player will seek right after opening (ByteSource::will_seek_after_open).
  bool seeks_after_open() const { return seeks_after_open_.load(); }
  // Where that seek goes, in seconds, for a file of `duration` seconds; -1 when not known or
  // the seek was made (ByteSource::prefetch with an empty range withdraws the hint).
  double start_seconds(double duration) const;
  // For a start given in percent (`--start=70%`), that share of the file (0.7), which needs no
  // duration; -1 otherwise or once the seek was made.
  double start_fraction() const;
  // Between will_seek_after_open (or, for the session's first stream, a start position it was
  // told of: SessionConfig::opens_to_seek) and start_position_reached: see PickerInput::opening.
  bool opening() const { return opening_.load(); }
  // From the stream's creation (for a reader that tells: SessionConfig::seek_focus) until
  // start_position_reached, when it does not open to seek: see PickerInput::starting.
  bool starting() const { return starting_.load(); }
  // From a seek until the player can play on (ByteSource::playback_pending/ready): see
  // PickerInput::settling. Only when the session enabled it (SessionConfig::seek_focus).
  bool settling() const { return settling_.load(); }
  // True once the TorrentStream is gone; the session then stops feeding this state.
  bool detached() const { return detached_.load(); }

  // Reader side.
  void move_head(int64_t pos, bool wake_now);
  void set_byte_rate(double r);
  void set_prefetch(ByteRange r);
  void set_seeks_after_open(double start, bool percent);
  void set_opening(bool v);
  void set_starting(bool v);
  void enable_seek_focus();
  void set_settling(bool v);
  void detach();

 private:
  PieceMap const map_;
  RingBuffer ring_;
  std::string const name_;
  std::function<void()> const wake_;
  std::atomic<int64_t> head_{0};
  std::atomic<double> byte_rate_{0};
  std::atomic<bool> detached_{false};
  std::atomic<bool> seeks_after_open_{false};
  std::atomic<double> start_{-1};
  std::atomic<bool> start_percent_{false};
  std::atomic<bool> opening_{false};
  std::atomic<bool> starting_{false};
  std::atomic<bool> focus_{false};
  std::atomic<bool> settling_{false};
  mutable std::mutex mu_;
  ByteRange prefetch_;  // guarded by mu_
};

class TorrentStream final : public ByteSource {
 public:
  explicit TorrentStream(std::shared_ptr<StreamState> state);
  ~TorrentStream() override;

  int64_t read(uint8_t* buf, size_t len) override;
  bool seek(int64_t pos) override;
  int64_t size() const override { return state_->map().file_size(); }
  int64_t position() const override { return pos_; }
  void cancel() override { state_->ring().cancel(); }
  void resume() override { state_->ring().resume(); }
  void set_byte_rate(double bytes_per_second) override;
  void prefetch(int64_t pos, int64_t len) override;
  void will_seek_after_open(double start, bool percent) override {
    state_->set_seeks_after_open(start, percent);
  }
  void start_position_reached() override {
    state_->set_opening(false);
    state_->set_starting(false);
  }
  void playback_ready() override { state_->set_settling(false); }
  void playback_pending() override { state_->set_settling(true); }
  std::string describe() const override { return state_->name(); }

 private:
  std::shared_ptr<StreamState> state_;
  int64_t pos_ = 0;  // reader thread only
};

}  // namespace streaming
