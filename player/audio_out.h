// Audio outputs: the SDL device and a null twin that consumes samples at real-time pace (or
// at once with no sync). Both drive the audio clock, the player's master clock.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "player/clock.h"
#include "player/decoder.h"

namespace player {

// Thread contract: create/start/set_* from the main thread; fill() runs on the device thread
// (SDL callback or the null output's thread); clock() and starving() from any thread.
class AudioOut {
 public:
  // Opens the default SDL audio device near `want`. nullptr + *error when there is none.
  static std::unique_ptr<AudioOut> create_sdl(const AudioFormat& want, std::string* error);
  // No device: consumes samples at real-time pace (realtime) or as fast as they come.
  static std::unique_ptr<AudioOut> create_null(const AudioFormat& fmt, bool realtime);
  virtual ~AudioOut() = default;

  const AudioFormat& format() const { return fmt_; }
  // Begins pulling chunks from q; chunks whose serial differs from *serial are dropped.
  virtual void start(AudioChunkQueue* q, const std::atomic<int>* serial) = 0;
  virtual void stop() = 0;
  virtual void set_paused(bool paused) = 0;
  void set_volume(double v) { volume_ = v; }  // 0..1.3
  void set_muted(bool m) { muted_ = m; }

  // Time of the sample now leaving the speaker for serial s, or NAN when not known yet.
  double clock(int s) const { return clock_.get(s); }
  // True when the output wanted samples of the current serial and had none.
  bool starving() const { return starving_.load(); }
  // True once it has played anything of the current serial.
  bool started(int s) const { return clock_.serial() == s; }

 protected:
  // Fills out with len bytes of device-format audio (silence where none), updates the clock.
  void fill(uint8_t* out, int len, double latency_seconds);
  void reset_pending() {
    std::lock_guard<std::mutex> lk(mu_);
    have_chunk_ = false;
  }

  AudioFormat fmt_;
  AudioChunkQueue* q_ = nullptr;
  const std::atomic<int>* serial_ = nullptr;
  Clock clock_;
  std::atomic<double> volume_{1.0};
  std::atomic<bool> muted_{false};
  std::atomic<bool> starving_{false};

 private:
  std::mutex mu_;  // pending chunk (device thread; reset_pending from others)
  AudioChunk chunk_;
  size_t offset_ = 0;
  bool have_chunk_ = false;
};

}  // namespace player
