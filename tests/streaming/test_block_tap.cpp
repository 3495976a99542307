// BlockTap: which parts of arriving blocks it keeps, and when it says so.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "streaming/block_tap.h"

using namespace streaming;

namespace {

std::string text(const BlockTap::Chunk& c) { return std::string(c.bytes.begin(), c.bytes.end()); }

}  // namespace

TEST_CASE("block tap: keeps only the wanted parts of a block, at torrent offsets") {
  BlockTap tap;
  int notified = 0;
  tap.set_notify([&] { ++notified; });
  const std::string block = "0123456789";  // piece 2, offset 4 of 100-byte pieces: bytes 204..213
  tap.on_block(2, 4, block.data(), int(block.size()));
  CHECK(tap.take().empty());  // nothing wanted yet
  CHECK(notified == 0);

  tap.want({{206, 209}, {212, 300}, {0, 10}}, 100);
  tap.on_block(2, 4, block.data(), int(block.size()));
  CHECK(notified == 1);
  std::vector<BlockTap::Chunk> got = tap.take();
  REQUIRE(got.size() == 2);
  CHECK(got[0].offset == 206);
  CHECK(text(got[0]) == "234");
  CHECK(got[1].offset == 212);
  CHECK(text(got[1]) == "89");
  CHECK(tap.take().empty());

  // A block outside every wanted range is not kept and wakes nobody.
  tap.on_block(5, 0, block.data(), int(block.size()));
  CHECK(tap.take().empty());
  CHECK(notified == 1);

  // Wanting nothing turns it off.
  tap.want({}, 100);
  tap.on_block(2, 4, block.data(), int(block.size()));
  CHECK(tap.take().empty());
}

TEST_CASE("block tap: bad block coordinates and the pending cap") {
  BlockTap tap;
  tap.want({{0, int64_t(4) << 30}}, 1 << 20);
  const std::string block = "abcd";
  tap.on_block(-1, 0, block.data(), 4);
  tap.on_block(0, -5, block.data(), 4);
  tap.on_block(0, 0, block.data(), 0);
  CHECK(tap.take().empty());
  // Pieces past 2 GiB do not overflow the offset.
  tap.on_block(3000, 8, block.data(), 4);
  std::vector<BlockTap::Chunk> got = tap.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].offset == int64_t(3000) * (1 << 20) + 8);

  // No more than kMaxPending bytes wait for take(): later blocks are dropped until then.
  std::vector<char> big(16384, 'x');
  size_t kept = 0;
  for (int i = 0; i < 200; ++i) tap.on_block(i / 64, (i % 64) * 16384, big.data(), int(big.size()));
  for (const BlockTap::Chunk& c : tap.take()) kept += c.bytes.size();
  CHECK(kept <= BlockTap::kMaxPending);
  CHECK(kept >= BlockTap::kMaxPending - big.size());
  tap.on_block(0, 0, big.data(), int(big.size()));
  CHECK(tap.take().size() == 1);
}
