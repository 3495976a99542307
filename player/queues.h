// Bounded, abortable queues between pipeline stages, each item tagged with a seek serial.
// Packets flow demuxer -> decoder; frames flow decoder -> output. No FFmpeg policy lives here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace player {

// A bounded FIFO with a byte budget and a count budget. push() blocks while full, pop() while
// empty; abort() releases both for good. Items carry their own serial; flush() drops everything
// and bumps the queue's serial so producers/consumers can tell stale work (ffplay's idea).
// Thread-safe: any thread may call any method.
template <typename T>
class BoundedQueue {
 public:
  BoundedQueue(size_t max_count, size_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {}
  // Once push() has found the queue full, it waits until at most `n` items are left (not just
  // until one slot frees), so that a producer much faster than its consumer works in bursts.
  void set_refill_at(size_t n) {
    std::lock_guard<std::mutex> lk(mu_);
    refill_at_ = n;
  }

  // Blocks while full (then until the refill mark, if one is set). Returns false if aborted
  // (item dropped).
  bool push(T item, size_t bytes) {
    std::unique_lock<std::mutex> lk(mu_);
    if (full_locked()) {
      not_full_.wait(lk, [&] { return aborted_ || (!full_locked() && items_.size() <= refill_at_); });
    }
    if (aborted_) return false;
    bytes_ += bytes;
    items_.push_back(Entry{std::move(item), bytes});
    not_empty_.notify_one();
    return true;
  }

  // Blocks until an item is there, the queue is aborted, or the timeout elapses.
  std::optional<T> pop(std::chrono::milliseconds timeout = std::chrono::milliseconds::max()) {
    std::unique_lock<std::mutex> lk(mu_);
    auto ready = [&] { return aborted_ || !items_.empty() || wake_; };
    if (timeout == std::chrono::milliseconds::max()) {
      not_empty_.wait(lk, ready);
    } else {
      not_empty_.wait_for(lk, timeout, ready);
    }
    wake_ = false;
    if (aborted_ || items_.empty()) return std::nullopt;
    Entry e = std::move(items_.front());
    items_.pop_front();
    bytes_ -= e.bytes;
    not_full_.notify_all();
    return std::move(e.item);
  }

  std::optional<T> try_pop() { return pop(std::chrono::milliseconds(0)); }

  // Waits until the queue holds an item (or is aborted/woken) for at most timeout.
  bool wait_nonempty(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    not_empty_.wait_for(lk, timeout, [&] { return aborted_ || !items_.empty() || wake_; });
    wake_ = false;
    return !items_.empty();
  }

  // Looks at the front item without removing it; f is called under the lock.
  template <typename F>
  bool peek(F&& f) {
    std::lock_guard<std::mutex> lk(mu_);
    if (items_.empty()) return false;
    f(items_.front().item);
    return true;
  }

  // Drops every queued item and returns the new serial.
  int flush() {
    std::lock_guard<std::mutex> lk(mu_);
    items_.clear();
    bytes_ = 0;
    ++serial_;
    not_full_.notify_all();
    return serial_;
  }

  // Makes one blocked pop() return nullopt early without aborting (used to re-check flags).
  void wake() {
    std::lock_guard<std::mutex> lk(mu_);
    wake_ = true;
    not_empty_.notify_all();
  }

  void abort() {
    std::lock_guard<std::mutex> lk(mu_);
    aborted_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool aborted() const {
    std::lock_guard<std::mutex> lk(mu_);
    return aborted_;
  }
  int serial() const {
    std::lock_guard<std::mutex> lk(mu_);
    return serial_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lk(mu_);
    return items_.size();
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lk(mu_);
    return bytes_;
  }
  bool full() const {
    std::lock_guard<std::mutex> lk(mu_);
    return full_locked();
  }
  size_t max_count() const { return max_count_; }

 private:
  struct Entry {
    T item;
    size_t bytes;
  };
  bool full_locked() const {
    return items_.size() >= max_count_ || (max_bytes_ && bytes_ >= max_bytes_);
  }

  const size_t max_count_;
  const size_t max_bytes_;
  size_t refill_at_ = size_t(-1);
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Entry> items_;
  size_t bytes_ = 0;
  int serial_ = 0;
  bool aborted_ = false;
  bool wake_ = false;
};

}  // namespace player
