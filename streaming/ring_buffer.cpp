#include "streaming/ring_buffer.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

namespace streaming {

RingBuffer::RingBuffer(int64_t stream_size, int64_t capacity)
    : size_(std::max<int64_t>(0, stream_size)),
      cap_(std::max<int64_t>(1, std::min(capacity, std::max<int64_t>(1, stream_size)))) {
  assert(capacity > 0 && "RingBuffer needs a positive capacity");
}

ByteRange RingBuffer::window() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ByteRange{base_, base_ + cap_}.intersect({0, size_});
}

int64_t RingBuffer::memory_bytes() const {
  std::lock_guard<std::mutex> lk(mu_);
  return buf_ ? cap_ : 0;
}

int64_t RingBuffer::present_bytes() const {
  std::lock_guard<std::mutex> lk(mu_);
  int64_t n = 0;
  for (auto const& [begin, end] : present_) n += end - begin;
  return n;
}

int64_t RingBuffer::write(int64_t pos, const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lk(mu_);
  ByteRange const r =
      ByteRange{pos, pos + int64_t(len)}.intersect({base_, base_ + cap_}).intersect({0, size_});
  if (r.empty()) return 0;
  if (!buf_) buf_.reset(new uint8_t[size_t(cap_)]);

  // Copy, wrapping around the end of the buffer at most once (r.size() <= cap_).
  const uint8_t* src = data + (r.begin - pos);
  size_t const slot = size_t(r.begin % cap_);
  size_t const first = std::min<size_t>(size_t(r.size()), size_t(cap_) - slot);
  std::memcpy(buf_.get() + slot, src, first);
  std::memcpy(buf_.get(), src + first, size_t(r.size()) - first);

  // Merge [r.begin, r.end) into the present set.
  int64_t begin = r.begin, end = r.end;
  auto it = present_.upper_bound(begin);
  if (it != present_.begin() && std::prev(it)->second >= begin) --it;
  while (it != present_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = present_.erase(it);
  }
  present_.emplace(begin, end);
  arrived_.notify_all();
  return r.size();
}

bool RingBuffer::present_locked(int64_t pos) const {
  auto it = present_.upper_bound(pos);
  return it != present_.begin() && std::prev(it)->second > pos;
}

int64_t RingBuffer::copy_out_locked(int64_t pos, uint8_t* buf, size_t len) const {
  auto it = present_.upper_bound(pos);
  if (it == present_.begin() || std::prev(it)->second <= pos) return -EAGAIN;
  size_t const n = size_t(std::min<int64_t>(int64_t(len), std::prev(it)->second - pos));
  size_t const slot = size_t(pos % cap_);
  size_t const first = std::min(n, size_t(cap_) - slot);
  std::memcpy(buf, buf_.get() + slot, first);
  std::memcpy(buf + first, buf_.get(), n - first);
  return int64_t(n);
}

void RingBuffer::follow_locked(int64_t pos) {
  if (pos < 0 || pos >= size_) return;
  if (pos >= base_ && pos - base_ < cap_ / 2) return;
  int64_t base = std::max<int64_t>(0, pos - cap_ / 4);
  base = std::min(base, std::max<int64_t>(0, size_ - cap_));
  if (base != base_) move_window_locked(base);
}

void RingBuffer::move_window_locked(int64_t base) {
  base_ = base;
  ByteRange const w{base_, base_ + cap_};
  std::map<int64_t, int64_t> kept;
  for (auto [begin, end] : present_) {
    ByteRange const r = ByteRange{begin, end}.intersect(w);
    if (!r.empty()) kept.emplace(r.begin, r.end);
  }
  present_.swap(kept);
}

int64_t RingBuffer::try_read(int64_t pos, uint8_t* buf, size_t len) {
  std::lock_guard<std::mutex> lk(mu_);
  if (error_) return -error_;
  if (cancelled_) return -ECANCELED;
  if (pos >= size_) return 0;
  if (len == 0) return 0;
  follow_locked(pos);
  return copy_out_locked(pos, buf, len);
}

int64_t RingBuffer::read(int64_t pos, uint8_t* buf, size_t len) {
  std::unique_lock<std::mutex> lk(mu_);
  if (pos >= size_ || len == 0) return error_ ? -error_ : cancelled_ ? -ECANCELED : 0;
  follow_locked(pos);
  arrived_.wait(lk, [&] { return error_ || cancelled_ || present_locked(pos); });
  if (error_) return -error_;
  if (cancelled_) return -ECANCELED;
  return copy_out_locked(pos, buf, len);
}

void RingBuffer::seek(int64_t pos) {
  std::lock_guard<std::mutex> lk(mu_);
  follow_locked(pos);
}

void RingBuffer::cancel() {
  std::lock_guard<std::mutex> lk(mu_);
  cancelled_ = true;
  arrived_.notify_all();
}

void RingBuffer::resume() {
  std::lock_guard<std::mutex> lk(mu_);
  cancelled_ = false;
}

void RingBuffer::fail(int err) {
  std::lock_guard<std::mutex> lk(mu_);
  error_ = err > 0 ? err : EIO;
  arrived_.notify_all();
}

bool RingBuffer::has(ByteRange r) const {
  std::lock_guard<std::mutex> lk(mu_);
  r = r.intersect({base_, base_ + cap_}).intersect({0, size_});
  if (r.empty()) return false;
  auto it = present_.upper_bound(r.begin);
  return it != present_.begin() && std::prev(it)->second >= r.end;
}

int64_t RingBuffer::contiguous_from(int64_t pos) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = present_.upper_bound(pos);
  if (it == present_.begin() || std::prev(it)->second <= pos) return 0;
  return std::prev(it)->second - pos;
}

}  // namespace streaming
