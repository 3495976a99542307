// Playback clocks: a pts that advances with wall time while running, tagged with the seek
// serial it belongs to. Not a scheduler: the main loop reads it to decide what is due.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

namespace player {

inline double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Thread-safe. set() anchors pts at the current wall time; get() extrapolates while not paused,
// at the playback speed. get() returns NAN until set() was called for the current serial.
class Clock {
 public:
  // frozen: the clock holds pts without advancing (e.g. audio ran out of data).
  void set(double pts, int serial, bool frozen = false, double at = now_seconds()) {
    std::lock_guard<std::mutex> lk(mu_);
    pts_ = pts;
    anchor_ = at;
    serial_ = serial;
    frozen_ = frozen;
  }
  double get(int want_serial) const {
    std::lock_guard<std::mutex> lk(mu_);
    if (serial_ != want_serial || std::isnan(pts_)) return NAN;
    if (paused_ || frozen_) return pts_;
    return pts_ + (now_seconds() - anchor_) * speed_;
  }
  // Media seconds per wall second from now on.
  void set_speed(double s) {
    std::lock_guard<std::mutex> lk(mu_);
    if (s == speed_) return;
    double now = now_seconds();
    if (!paused_ && !frozen_ && !std::isnan(pts_)) pts_ += (now - anchor_) * speed_;
    anchor_ = now;
    speed_ = s;
  }
  void set_paused(bool p) {
    std::lock_guard<std::mutex> lk(mu_);
    if (p == paused_) return;
    double now = now_seconds();
    if (p && !frozen_ && !std::isnan(pts_)) pts_ += (now - anchor_) * speed_;
    anchor_ = now;
    paused_ = p;
  }
  // Back to the state of a new clock (no time, not paused, speed 1).
  void reset() {
    std::lock_guard<std::mutex> lk(mu_);
    pts_ = NAN;
    anchor_ = 0;
    serial_ = -1;
    paused_ = frozen_ = false;
    speed_ = 1.0;
  }
  void invalidate() {
    std::lock_guard<std::mutex> lk(mu_);
    pts_ = NAN;
  }
  int serial() const {
    std::lock_guard<std::mutex> lk(mu_);
    return serial_;
  }

 private:
  mutable std::mutex mu_;
  double pts_ = NAN;
  double anchor_ = 0;
  int serial_ = -1;
  bool paused_ = false;
  bool frozen_ = false;
  double speed_ = 1.0;
};

}  // namespace player
