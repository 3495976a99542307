#include <doctest/doctest.h>

#include "streaming/piece_map.h"

using streaming::ByteRange;
using streaming::PieceIndex;
using streaming::PieceMap;
using streaming::PieceSpan;

TEST_CASE("piece map: a single file covering the torrent") {
  PieceMap m(0, 1050, 1050, 100);  // 11 pieces, the last one 50 bytes
  CHECK(m.num_pieces() == 11);
  CHECK(m.file_pieces() == PieceSpan{PieceIndex(0), PieceIndex(11)});
  CHECK(m.piece_at(0) == PieceIndex(0));
  CHECK(m.piece_at(99) == PieceIndex(0));
  CHECK(m.piece_at(100) == PieceIndex(1));
  CHECK(m.piece_at(1049) == PieceIndex(10));
  CHECK(m.piece_at(5000) == PieceIndex(10));  // clamped
  CHECK(m.piece_bytes(PieceIndex(10)) == 50);
  CHECK(m.piece_bytes(PieceIndex(11)) == 0);
  CHECK(m.file_bytes(PieceIndex(10)) == ByteRange{1000, 1050});
  CHECK(m.pieces_for({150, 250}) == PieceSpan{PieceIndex(1), PieceIndex(3)});
  CHECK(m.pieces_for({200, 300}) == PieceSpan{PieceIndex(2), PieceIndex(3)});  // half-open
  CHECK(m.pieces_for({300, 300}).empty());
  CHECK(m.pieces_for({1000, 99999}) == PieceSpan{PieceIndex(10), PieceIndex(11)});
}

TEST_CASE("piece map: a file in the middle of a multi-file torrent") {
  // Files: [0, 250) other, [250, 1250) ours, [1250, 2000) other.
  PieceMap m(250, 1000, 2000, 100);
  CHECK(m.num_pieces() == 20);
  CHECK(m.file_pieces() == PieceSpan{PieceIndex(2), PieceIndex(13)});
  CHECK(m.piece_at(0) == PieceIndex(2));
  CHECK(m.file_bytes(PieceIndex(2)) == ByteRange{0, 50});  // shares piece 2 with file 0
  CHECK(m.file_bytes(PieceIndex(3)) == ByteRange{50, 150});
  CHECK(m.file_bytes(PieceIndex(12)) == ByteRange{950, 1000});  // shares piece 12 with file 2
  CHECK(m.file_bytes(PieceIndex(1)).empty());
  CHECK(m.file_bytes(PieceIndex(13)).empty());
  CHECK(m.piece_begin(PieceIndex(3)) == 300);
}

TEST_CASE("piece map: empty file") {
  PieceMap m(100, 0, 200, 100);
  CHECK(m.file_pieces().empty());
  CHECK(m.pieces_for({0, 10}).empty());
}
