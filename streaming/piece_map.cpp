#include "streaming/piece_map.h"

#include <algorithm>
#include <cassert>

namespace streaming {

PieceMap::PieceMap(int64_t file_offset, int64_t file_size, int64_t total_size, int piece_size)
    : file_offset_(file_offset),
      file_size_(file_size),
      total_size_(total_size),
      piece_size_(piece_size) {
  assert(piece_size > 0 && "PieceMap needs a positive piece size");
  assert(file_offset >= 0 && file_size >= 0 && file_offset + file_size <= total_size &&
         "the file must lie inside the torrent");
  num_pieces_ = int((total_size + piece_size - 1) / piece_size);
}

PieceSpan PieceMap::file_pieces() const { return pieces_for({0, file_size_}); }

PieceIndex PieceMap::piece_at(int64_t pos) const {
  pos = std::clamp<int64_t>(pos, 0, std::max<int64_t>(0, file_size_ - 1));
  return PieceIndex(int((file_offset_ + pos) / piece_size_));
}

PieceSpan PieceMap::pieces_for(ByteRange r) const {
  r = r.intersect({0, file_size_});
  if (r.empty()) return {};
  int64_t const first = (file_offset_ + r.begin) / piece_size_;
  int64_t const last = (file_offset_ + r.end - 1) / piece_size_;
  return {PieceIndex(int(first)), PieceIndex(int(last + 1))};
}

ByteRange PieceMap::file_bytes(PieceIndex p) const {
  int64_t const begin = piece_begin(p) - file_offset_;
  return ByteRange{begin, begin + piece_bytes(p)}.intersect({0, file_size_});
}

int64_t PieceMap::piece_bytes(PieceIndex p) const {
  if (p.value < 0 || p.value >= num_pieces_) return 0;
  return std::min<int64_t>(piece_size_, total_size_ - piece_begin(p));
}

}  // namespace streaming
