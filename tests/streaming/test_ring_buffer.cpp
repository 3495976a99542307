#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "streaming/ring_buffer.h"

using streaming::ByteRange;
using streaming::RingBuffer;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> pattern(int64_t begin, int64_t len) {
  std::vector<uint8_t> v(static_cast<size_t>(len));
  for (int64_t i = 0; i < len; ++i) v[size_t(i)] = uint8_t((begin + i) * 131 % 251);
  return v;
}

int64_t write_range(RingBuffer& r, int64_t begin, int64_t len) {
  std::vector<uint8_t> v = pattern(begin, len);
  return r.write(begin, v.data(), v.size());
}

}  // namespace

TEST_CASE("ring buffer: out-of-order writes, contiguous reads") {
  RingBuffer r(1000, 1000);
  uint8_t buf[1000];
  CHECK(r.try_read(0, buf, 10) == -EAGAIN);
  CHECK(write_range(r, 100, 100) == 100);
  CHECK(r.try_read(0, buf, 10) == -EAGAIN);
  CHECK(write_range(r, 0, 50) == 50);
  CHECK(r.read(0, buf, 1000) == 50);  // stops at the gap
  CHECK(write_range(r, 50, 50) == 50);
  CHECK(r.contiguous_from(0) == 200);
  CHECK(r.read(0, buf, 1000) == 200);
  CHECK(std::vector<uint8_t>(buf, buf + 200) == pattern(0, 200));
  CHECK(r.has({120, 180}));
  CHECK_FALSE(r.has({150, 250}));
  CHECK(r.read(1000, buf, 10) == 0);  // end of stream
}

TEST_CASE("ring buffer: a blocked read is released by the arrival of its bytes") {
  RingBuffer r(10000, 4096);
  std::atomic<int64_t> got{-1000};
  uint8_t buf[64];
  auto start = Clock::now();
  std::thread reader([&] { got = r.read(500, buf, sizeof buf); });
  std::this_thread::sleep_for(100ms);
  CHECK(got.load() == -1000);  // still blocked
  write_range(r, 0, 400);      // not its bytes
  std::this_thread::sleep_for(50ms);
  CHECK(got.load() == -1000);
  write_range(r, 480, 100);  // covers 500
  reader.join();
  CHECK(got.load() == 64);
  CHECK(std::vector<uint8_t>(buf, buf + 64) == pattern(500, 64));
  CHECK(Clock::now() - start >= 150ms);
}

TEST_CASE("ring buffer: cancel releases a blocked read at once, resume undoes it") {
  RingBuffer r(10000, 4096);
  std::atomic<int64_t> got{-1000};
  uint8_t buf[16];
  std::thread reader([&] { got = r.read(0, buf, sizeof buf); });
  std::this_thread::sleep_for(50ms);
  auto const t0 = Clock::now();
  r.cancel();
  reader.join();
  CHECK(Clock::now() - t0 < 100ms);
  CHECK(got.load() == -ECANCELED);
  write_range(r, 0, 16);
  CHECK(r.read(0, buf, sizeof buf) == -ECANCELED);  // until resume()
  r.resume();
  CHECK(r.read(0, buf, sizeof buf) == 16);
}

TEST_CASE("ring buffer: fail() ends reads for good") {
  RingBuffer r(100, 100);
  uint8_t buf[4];
  std::thread reader([&] { CHECK(r.read(0, buf, 4) == -EIO); });
  std::this_thread::sleep_for(20ms);
  r.fail(EIO);
  reader.join();
  CHECK(r.read(0, buf, 4) == -EIO);
}

TEST_CASE("ring buffer: seek moves the window and drops what falls out") {
  RingBuffer r(100000, 1000);
  CHECK(r.window() == ByteRange{0, 1000});
  CHECK(write_range(r, 0, 1000) == 1000);
  CHECK(write_range(r, 1000, 100) == 0);  // outside the window: refused
  r.seek(50000);
  // The position sits a quarter into the window.
  CHECK(r.window() == ByteRange{49750, 50750});
  CHECK_FALSE(r.has({0, 10}));
  CHECK(r.contiguous_from(0) == 0);
  CHECK(write_range(r, 49000, 2000) == 1000);  // clipped to the window
  CHECK(r.has({49750, 50750}));
  // A small move backwards stays inside: nothing dropped.
  r.seek(49800);
  CHECK(r.window() == ByteRange{49750, 50750});
  CHECK(r.contiguous_from(49800) == 950);
  // Near the end the window stays inside the stream.
  r.seek(99990);
  CHECK(r.window() == ByteRange{99000, 100000});
}

TEST_CASE("ring buffer: memory stays within the bound while streaming through") {
  int64_t const size = 5'000'000, cap = 64 * 1024;
  RingBuffer r(size, cap);
  std::atomic<bool> done{false};
  std::atomic<int64_t> max_memory{0};
  // A producer that writes whatever the window allows, out of order, in 4 KiB chunks.
  std::thread producer([&] {
    while (!done) {
      ByteRange const w = r.window();
      for (int64_t chunk = (w.end - 1) / 4096 * 4096; chunk + 4096 > w.begin; chunk -= 4096) {
        if (r.has({chunk, std::min(size, chunk + 4096)})) continue;
        write_range(r, chunk, std::min<int64_t>(4096, size - chunk));
      }
      max_memory = std::max(max_memory.load(), r.memory_bytes());
      std::this_thread::yield();
    }
  });
  std::vector<uint8_t> buf(3000);
  int64_t pos = 0;
  bool same = true;
  while (pos < size) {
    int64_t const n = r.read(pos, buf.data(), buf.size());
    REQUIRE(n > 0);
    same = same && std::vector<uint8_t>(buf.begin(), buf.begin() + n) == pattern(pos, n);
    pos += n;
  }
  done = true;
  producer.join();
  CHECK(same);
  CHECK(pos == size);
  CHECK(max_memory.load() <= cap);
  CHECK(r.memory_bytes() <= cap);
  CHECK(r.read(size, buf.data(), buf.size()) == 0);
}

TEST_CASE("ring buffer: wrap-around keeps bytes at their stream position") {
  RingBuffer r(10000, 1000);
  uint8_t buf[1000];
  write_range(r, 0, 1000);
  CHECK(r.read(600, buf, 10) == 10);  // past the middle: window moves to [350, 1350)
  CHECK(r.window() == ByteRange{350, 1350});
  CHECK(write_range(r, 1000, 350) == 350);  // lands in the slots of bytes 0..349
  CHECK(r.read(900, buf, 1000) == 450);
  CHECK(std::vector<uint8_t>(buf, buf + 450) == pattern(900, 450));
}

TEST_CASE("ring buffer: present_bytes counts what the window holds") {
  RingBuffer ring(1000, 100);
  CHECK(ring.present_bytes() == 0);
  std::vector<uint8_t> d(40, 7);
  ring.write(10, d.data(), d.size());
  ring.write(30, d.data(), d.size());  // overlaps: 10..70
  CHECK(ring.present_bytes() == 60);
  ring.write(500, d.data(), d.size());  // outside the window: dropped
  CHECK(ring.present_bytes() == 60);
  ring.seek(600);  // the window moves on: what fell out is gone
  CHECK(ring.present_bytes() == 0);
}
