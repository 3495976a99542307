// PieceMap: maps byte ranges of the streamed file to the half-open span of torrent pieces that
// hold them, and back. Pure arithmetic on sizes; it knows nothing of libtorrent or piece state.
#pragma once

#include <cstdint>

namespace streaming {

// A piece of the torrent, by index (strong type: never mixed up with a byte offset or a count).
struct PieceIndex {
  int value = 0;

  constexpr PieceIndex() = default;
  constexpr explicit PieceIndex(int v) : value(v) {}

  constexpr PieceIndex& operator++() {
    ++value;
    return *this;
  }
  constexpr PieceIndex next() const { return PieceIndex(value + 1); }

  friend constexpr bool operator==(PieceIndex a, PieceIndex b) { return a.value == b.value; }
  friend constexpr bool operator!=(PieceIndex a, PieceIndex b) { return a.value != b.value; }
  friend constexpr bool operator<(PieceIndex a, PieceIndex b) { return a.value < b.value; }
  friend constexpr bool operator<=(PieceIndex a, PieceIndex b) { return a.value <= b.value; }
  friend constexpr bool operator>(PieceIndex a, PieceIndex b) { return a.value > b.value; }
  friend constexpr bool operator>=(PieceIndex a, PieceIndex b) { return a.value >= b.value; }
};

// Half-open span of pieces [begin, end).
struct PieceSpan {
  PieceIndex begin;
  PieceIndex end;

  constexpr bool empty() const { return end <= begin; }
  constexpr int size() const { return empty() ? 0 : end.value - begin.value; }
  constexpr bool contains(PieceIndex p) const { return begin <= p && p < end; }
  friend constexpr bool operator==(PieceSpan a, PieceSpan b) {
    return a.begin == b.begin && a.end == b.end;
  }
};

// Half-open byte range [begin, end). Whether offsets are relative to the file or to the whole
// torrent is said by whoever hands one out; PieceMap speaks file-relative ranges.
struct ByteRange {
  int64_t begin = 0;
  int64_t end = 0;

  constexpr bool empty() const { return end <= begin; }
  constexpr int64_t size() const { return empty() ? 0 : end - begin; }
  constexpr bool contains(int64_t pos) const { return begin <= pos && pos < end; }
  constexpr ByteRange intersect(ByteRange o) const {
    ByteRange r{begin > o.begin ? begin : o.begin, end < o.end ? end : o.end};
    return r.empty() ? ByteRange{r.begin, r.begin} : r;
  }
  friend constexpr bool operator==(ByteRange a, ByteRange b) {
    return a.begin == b.begin && a.end == b.end;
  }
};

class PieceMap {
 public:
  PieceMap() = default;
  // file_offset/file_size: where the file lies inside the torrent's concatenated data;
  // total_size: the torrent's size (the last piece may be short); piece_size > 0.
  PieceMap(int64_t file_offset, int64_t file_size, int64_t total_size, int piece_size);

  int64_t file_size() const { return file_size_; }
  int64_t file_offset() const { return file_offset_; }
  int piece_size() const { return piece_size_; }
  int num_pieces() const { return num_pieces_; }  // of the whole torrent

  // Pieces overlapping any byte of the file (empty for an empty file).
  PieceSpan file_pieces() const;
  // The piece holding file byte pos (pos clamped into the file).
  PieceIndex piece_at(int64_t pos) const;
  // Pieces overlapping file bytes r (clamped to the file); empty for an empty range.
  PieceSpan pieces_for(ByteRange r) const;
  // The bytes of piece p that belong to the file, file-relative (empty if none).
  ByteRange file_bytes(PieceIndex p) const;
  // Size in bytes of piece p of the torrent (the last one may be short).
  int64_t piece_bytes(PieceIndex p) const;
  // Torrent-relative offset of the first byte of piece p.
  int64_t piece_begin(PieceIndex p) const { return int64_t(p.value) * piece_size_; }

 private:
  int64_t file_offset_ = 0;
  int64_t file_size_ = 0;
  int64_t total_size_ = 0;
  int piece_size_ = 1;
  int num_pieces_ = 0;
};

}  // namespace streaming
