#include "streaming/torrent_stream.h"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace streaming {

StreamState::StreamState(const PieceMap& map, int64_t ring_bytes, std::string name,
                         std::function<void()> wake)
    : map_(map),
      ring_(map.file_size(), ring_bytes),
      name_(std::move(name)),
      wake_(std::move(wake)) {}

ByteRange StreamState::prefetch() const {
  std::lock_guard<std::mutex> lk(mu_);
  return prefetch_;
}

void StreamState::move_head(int64_t pos, bool wake_now) {
  int64_t const old = head_.exchange(pos);
  // Crossing into another piece changes what the picker wants; within a piece the periodic
  // re-plan is soon enough.
  if (wake_now || map_.piece_at(old) != map_.piece_at(pos)) wake_();
}

void StreamState::set_byte_rate(double r) {
  byte_rate_.store(r);
  wake_();
}

double StreamState::start_seconds(double duration) const {
  double const s = start_.load();
  if (s <= 0) return -1;
  return start_percent_.load() ? (duration > 0 ? duration * s / 100.0 : -1) : s;
}

double StreamState::start_fraction() const {
  double const s = start_.load();
  return s > 0 && start_percent_.load() ? std::min(s, 100.0) / 100.0 : -1;
}

void StreamState::set_prefetch(ByteRange r) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    prefetch_ = r;
  }
  if (r.empty()) start_.store(-1);  // the seek was made: the start is no longer ahead
  wake_();
}

void StreamState::set_seeks_after_open(double start, bool percent) {
  start_percent_.store(percent);
  start_.store(start);
  seeks_after_open_.store(true);
  opening_.store(true);
  wake_();
}

void StreamState::set_opening(bool v) {
  if (opening_.exchange(v) != v) wake_();
}

void StreamState::set_starting(bool v) {
  if (starting_.exchange(v) != v) wake_();
}

void StreamState::enable_seek_focus() { focus_.store(true); }

void StreamState::set_settling(bool v) {
  if (focus_.load() && settling_.exchange(v) != v) wake_();
}

void StreamState::detach() {
  detached_.store(true);
  wake_();
}

TorrentStream::TorrentStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}

TorrentStream::~TorrentStream() { state_->detach(); }

int64_t TorrentStream::read(uint8_t* buf, size_t len) {
  RingBuffer& ring = state_->ring();
  int64_t n = ring.try_read(pos_, buf, len);
  if (n == -EAGAIN) {
    // Not there yet: make sure the session knows where we wait before blocking.
    state_->move_head(pos_, true);
    n = ring.read(pos_, buf, len);
  }
  if (n > 0) {
    pos_ += n;
    state_->move_head(pos_, false);
  }
  return n;
}

bool TorrentStream::seek(int64_t pos) {
  if (pos < 0 || pos > size()) return false;
  pos_ = pos;
  state_->ring().seek(pos);
  state_->move_head(pos, true);
  return true;
}

void TorrentStream::set_byte_rate(double bytes_per_second) {
  state_->set_byte_rate(bytes_per_second);
}

void TorrentStream::prefetch(int64_t pos, int64_t len) {
  state_->set_prefetch(ByteRange{pos, pos + len}.intersect({0, size()}));
}

}  // namespace streaming
