// ByteSource: the read/seek/size/cancel contract the player reads media bytes through.
// It knows nothing of FFmpeg or libtorrent; files and torrents implement it.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

namespace streaming {

// Modelled on mpv's stream_cb: read() blocks like read(2) until at least one byte at the current
// position is available, short reads are fine, 0 means end of data. cancel() may be called from
// any other thread, never blocks, and makes a blocked or future read() return -ECANCELED until
// resume() is called. All other calls come from one reader thread at a time.
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Reads up to len bytes at the current position and advances it. Returns the number of bytes
  // read (> 0), 0 at end of data, or a negative errno (-ECANCELED after cancel(), -EIO, ...).
  virtual int64_t read(uint8_t* buf, size_t len) = 0;

  // Moves the read position to pos (0 <= pos <= size()). Must not wait for data: a torrent
  // source only moves its read head (which re-targets the piece picker). False if out of range.
  virtual bool seek(int64_t pos) = 0;

  // Total size in bytes, or -1 when unknown.
  virtual int64_t size() const = 0;

  // Current read position.
  virtual int64_t position() const = 0;

  // Thread-safe, non-blocking: wake any blocked read() and fail reads with -ECANCELED.
  virtual void cancel() = 0;
  // Undo cancel(): reads block and succeed again.
  virtual void resume() = 0;

  // Hint from the player: the media's average byte rate (bytes per second of playback), once
  // the container has told it. Sources that prefetch use it to space their deadlines.
  virtual void set_byte_rate(double /*bytes_per_second*/) {}

  // Hint from the player: the byte position the demuxer will need next after a seek in the
  // media timeline, when it can tell (e.g. from the container index, or a guess from the byte
  // rate before the index is read). An empty range withdraws it. Purely advisory.
  virtual void prefetch(int64_t /*pos*/, int64_t /*len*/) {}

  // Hint from the player, before it opens the container: it will seek as soon as the container
  // is open (a start position: `start` seconds, or percent of the duration when `percent`).
  // The container's index is then needed with its header, not after the first seconds of
  // playback from the start; a source that knows the duration before the player does (from
  // the header's bytes) may fetch a guess at the start's bytes alongside the index, until the
  // seek withdraws its prefetch hint. Purely advisory.
  virtual void will_seek_after_open(double /*start*/, bool /*percent*/) {}
  // ... and the first picture (or, without video, the sound) at that position is out, or the
  // seek will not be made. Until then a torrent source fetches only the header, the index, what
  // the demuxer probes and, once it has sought, the first pieces at the new position
  // (PickerInput::opening). Purely advisory; may come from any thread.
  virtual void start_position_reached() {}

  // Hints from the player: a seek begins, and playback can go on (its picture, or without video
  // its sound, is out and its pre-roll buffered; also said after the first picture at start).
  // In between a torrent source opened for a player (SessionConfig::seek_focus) fetches only
  // what is needed next. May come from any thread. Purely advisory.
  virtual void playback_ready() {}
  virtual void playback_pending() {}

  // A short human-readable name for messages (file path, torrent file name).
  virtual std::string describe() const = 0;
};

}  // namespace streaming
