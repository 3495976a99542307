// ContainerIndex: finds where a media file keeps its header and its index (MP4 moov, Matroska
// Cues, AVI idx1) from a few bytes fed to it, so the picker fetches them first. Pure: it asks
// for bytes at offsets (wanted()) and never reads files; it does not demux anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "streaming/piece_map.h"

namespace streaming {

enum class ContainerFormat { unknown, mp4, matroska, avi, mpegts, mpegps };
const char* to_string(ContainerFormat f);

// Feed it bytes of the file at any offsets, in any order, as they become available; after each
// feed, wanted() lists the (small) ranges it needs next, and is empty once done(). Only bytes
// near what it wants are kept (a few hundred KiB at most, and Cues up to 4 MiB).
//
// MP4/MOV: walks the top-level boxes (32-bit size, 64-bit largesize, size 0 = to the end) and
// finds moov before or after mdat, the mvhd's duration, and the tracks' sample tables for the
// keyframes. Matroska/WebM: EBML header, Segment, SeekHead entries (also a second SeekHead) for
// the Cues position, then the Cues element, whose points it reads; falls back to walking
// top-level elements. AVI: RIFF chunks up to idx1. MPEG-TS/PS: no index; the tail is flagged
// because demuxers read it for the duration.
class ContainerIndex {
 public:
  explicit ContainerIndex(int64_t file_size);

  void feed(int64_t offset, const uint8_t* data, size_t len);

  bool done() const { return wanted_.empty(); }
  // Ranges the parser must see next; empty when done.
  const std::vector<ByteRange>& wanted() const { return wanted_; }
  // What feed() keeps of the bytes it is given: each wanted range, and at least 256 KiB from
  // its start (an element's header is wanted first, and its body most often follows it in the
  // same blocks).
  std::vector<ByteRange> kept() const;

  ContainerFormat format() const { return format_; }
  int64_t size() const { return size_; }  // of the file
  // [0, end of the header): everything a demuxer reads before the first media data. Until that
  // is known, the first 64 KiB.
  ByteRange header() const { return header_; }
  // The index ranges found so far (moov, Cues, idx1, the tail of a transport stream).
  const std::vector<ByteRange>& index() const { return index_; }
  // The playing time in seconds the header states (Matroska's Segment Info, MP4's mvhd), or -1.
  double duration() const { return duration_; }
  // Where a seek to `seconds` starts reading, from the last keyframe at or before it: in
  // Matroska the position of the cluster that holds it (from the Cues), in MP4 the first byte
  // of its sample or of another track's sample at its time (from the moov's sample tables).
  // -1 while that index is not read (it is wanted once found) or lists none that early.
  int64_t keyframe_before(double seconds) const;
  // What the picker should treat as urgent: header, index, what the parser wants.
  std::vector<ByteRange> urgent() const;
  // While the parse is not done, a guess at the end of the file, where ffmpeg's MP4 (moov) and
  // Matroska (Cues) keep their index: fetching it with the header saves a round trip when right
  // and costs little when wrong (the whole file is downloaded in the end). Empty once done or
  // once the index is found.
  ByteRange guess() const;

 private:
  class Parse;
  bool get(int64_t off, size_t n, const uint8_t** out);
  void run();

  int64_t const size_;
  std::map<int64_t, std::vector<uint8_t>> cache_;  // disjoint, non-adjacent chunks
  std::vector<ByteRange> wanted_;
  ContainerFormat format_ = ContainerFormat::unknown;
  ByteRange header_;
  std::vector<ByteRange> index_;
  double duration_ = -1;
  std::vector<std::pair<double, int64_t>> keyframes_;  // (seconds, cluster position), sorted
};

}  // namespace streaming
