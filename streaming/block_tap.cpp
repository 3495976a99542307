#include "streaming/block_tap.h"

#include <utility>

namespace streaming {

void BlockTap::want(std::vector<ByteRange> ranges, int64_t piece_length) {
  std::lock_guard<std::mutex> lk(mu_);
  ranges_ = std::move(ranges);
  piece_length_ = piece_length;
}

void BlockTap::on_block(int piece, int start, const char* data, int len) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (ranges_.empty() || piece_length_ <= 0 || piece < 0 || start < 0 || len <= 0) return;
    ByteRange const block{int64_t(piece) * piece_length_ + start,
                          int64_t(piece) * piece_length_ + start + len};
    bool kept = false;
    for (ByteRange r : ranges_) {
      ByteRange const part = block.intersect(r);
      if (part.empty() || pending_ + size_t(part.size()) > kMaxPending) continue;
      const auto* p = reinterpret_cast<const uint8_t*>(data) + (part.begin - block.begin);
      chunks_.push_back(Chunk{part.begin, std::vector<uint8_t>(p, p + part.size())});
      pending_ += size_t(part.size());
      kept = true;
    }
    if (!kept) return;
    notify = notify_;
  }
  if (notify) notify();
}

std::vector<BlockTap::Chunk> BlockTap::take() {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Chunk> out;
  out.swap(chunks_);
  pending_ = 0;
  return out;
}

void BlockTap::set_notify(std::function<void()> notify) {
  std::lock_guard<std::mutex> lk(mu_);
  notify_ = std::move(notify);
}

}  // namespace streaming
