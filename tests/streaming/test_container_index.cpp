// ContainerIndex on media made by the ffmpeg CLI (tests/media/make_media.sh, plus an AVI made
// here) and on synthetic bytes for the cases ffmpeg does not write at test sizes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "streaming/container_index.h"

using streaming::ByteRange;
using streaming::ContainerFormat;
using streaming::ContainerIndex;

namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "missing test media: " << path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string media(const std::string& name) { return std::string(CINE_MEDIA_DIR) + "/" + name; }

// Answers the parser's wants like the session does: whole 64 KiB "pieces" around each wanted
// range. Returns the number of rounds it took.
int drive(ContainerIndex& ci, const std::vector<uint8_t>& file, int64_t piece = 64 << 10) {
  int rounds = 0;
  while (!ci.done() && rounds < 50) {
    ++rounds;
    std::vector<ByteRange> const wants = ci.wanted();
    for (ByteRange w : wants) {
      for (int64_t p = w.begin / piece * piece; p < w.end; p += piece) {
        int64_t const end = std::min<int64_t>(int64_t(file.size()), p + piece);
        ci.feed(p, file.data() + p, size_t(end - p));
      }
    }
  }
  return rounds;
}

uint32_t be32_at(const std::vector<uint8_t>& f, int64_t off) {
  return uint32_t(f[size_t(off)]) << 24 | uint32_t(f[size_t(off + 1)]) << 16 |
         uint32_t(f[size_t(off + 2)]) << 8 | f[size_t(off + 3)];
}

std::string tag_at(const std::vector<uint8_t>& f, int64_t off) {
  return std::string(reinterpret_cast<const char*>(f.data() + off), 4);
}

// A sparse "file": bytes at a few offsets, zeros elsewhere.
struct SparseFile {
  int64_t size = 0;
  std::map<int64_t, std::vector<uint8_t>> chunks;
  void feed_wanted(ContainerIndex& ci) const {
    for (int round = 0; round < 20 && !ci.done(); ++round) {
      for (ByteRange w : ci.wanted()) {
        std::vector<uint8_t> buf(size_t(w.size()), 0);
        for (const auto& [off, bytes] : chunks) {
          ByteRange const r = w.intersect({off, off + int64_t(bytes.size())});
          if (!r.empty())
            std::memcpy(buf.data() + (r.begin - w.begin), bytes.data() + (r.begin - off),
                        size_t(r.size()));
        }
        ci.feed(w.begin, buf.data(), buf.size());
      }
    }
  }
};

void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}
void put_be64(std::vector<uint8_t>& v, uint64_t x) {
  put_be32(v, uint32_t(x >> 32));
  put_be32(v, uint32_t(x));
}
void put_tag(std::vector<uint8_t>& v, const char* t) { v.insert(v.end(), t, t + 4); }
void put_bytes(std::vector<uint8_t>& v, std::initializer_list<uint8_t> b) { v.insert(v.end(), b); }
// A movie header box: version 1 (64-bit times and duration; the 32 bytes of body the parse
// reads) or version 0 (32-bit; its whole 100 bytes of body).
void put_mvhd(std::vector<uint8_t>& v, int version, uint32_t timescale, uint64_t duration) {
  put_be32(v, version == 1 ? 8 + 32 : 8 + 100);
  put_tag(v, "mvhd");
  put_bytes(v, {uint8_t(version), 0, 0, 0});
  if (version == 1) {
    put_be64(v, 0);  // creation
    put_be64(v, 0);  // modification
    put_be32(v, timescale);
    put_be64(v, duration);
  } else {
    put_be32(v, 0);
    put_be32(v, 0);
    put_be32(v, timescale);
    put_be32(v, uint32_t(duration));
    v.resize(v.size() + 80, 0);
  }
}

// An MP4 box around `body`.
std::vector<uint8_t> box(const char* tag, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> v;
  put_be32(v, uint32_t(8 + body.size()));
  put_tag(v, tag);
  v.insert(v.end(), body.begin(), body.end());
  return v;
}
std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> v;
  for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}
// A full box's body: version and flags, then 32-bit words.
std::vector<uint8_t> full(uint8_t version, std::initializer_list<uint32_t> words) {
  std::vector<uint8_t> v = {version, 0, 0, 0};
  for (uint32_t w : words) put_be32(v, w);
  return v;
}

}  // namespace

TEST_CASE("container index: MP4 with moov at the end (ffmpeg's default)") {
  std::vector<uint8_t> const f = slurp(media("moov_end.mp4"));
  ContainerIndex ci(int64_t(f.size()));
  CHECK(ci.wanted().size() == 1);
  CHECK(ci.wanted()[0] == ByteRange{0, 64 << 10});
  // Before anything is known: the header, and a guess at the end of the file.
  CHECK(ci.urgent() == std::vector<ByteRange>{{0, 64 << 10}});
  CHECK(ci.guess() == ByteRange{int64_t(f.size()) - (128 << 10), int64_t(f.size())});
  int const rounds = drive(ci, f);
  CHECK(rounds <= 3);
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::mp4);
  REQUIRE(ci.index().size() == 1);
  ByteRange const moov = ci.index()[0];
  CHECK(tag_at(f, moov.begin + 4) == "moov");
  CHECK(be32_at(f, moov.begin) == uint32_t(moov.size()));
  CHECK(moov.end == int64_t(f.size()));
  // The header ends right after mdat's box header, before the index.
  CHECK(tag_at(f, ci.header().end - 4) == "mdat");
  CHECK(ci.header().end < moov.begin);
  std::vector<ByteRange> const urgent = ci.urgent();
  CHECK(urgent.size() == 2);  // header and moov
  CHECK(ci.guess().empty());
  // The movie header's duration (the clip is 12 s).
  CHECK(ci.duration() == doctest::Approx(12.0).epsilon(0.01));
}

TEST_CASE("container index: MP4 with moov at the end asks for the whole tail at once") {
  std::vector<uint8_t> const f = slurp(media("moov_end.mp4"));
  int64_t const size = int64_t(f.size());
  ContainerIndex ci(size);
  ci.feed(0, f.data(), size_t(64 << 10));
  REQUIRE_FALSE(ci.done());
  // The mdat's size points past the media data; the moov's own header is not there yet, but
  // the rest of the file is wanted in one go (not its first 8 bytes, then the rest).
  std::vector<ByteRange> const wants = ci.wanted();
  REQUIRE(wants.size() == 1);
  CHECK(wants[0].end == size);
  CHECK(tag_at(f, wants[0].begin + 4) == "moov");
  std::vector<ByteRange> const urgent = ci.urgent();
  CHECK(std::find(urgent.begin(), urgent.end(), wants[0]) != urgent.end());
  // Fed, it is parsed as usual.
  ci.feed(wants[0].begin, f.data() + wants[0].begin, size_t(wants[0].size()));
  REQUIRE(ci.done());
  REQUIRE(ci.index().size() == 1);
  CHECK(ci.index()[0] == wants[0]);
}

TEST_CASE("container index: MP4 with +faststart") {
  std::vector<uint8_t> const f = slurp(media("faststart.mp4"));
  ContainerIndex ci(int64_t(f.size()));
  CHECK_FALSE(ci.guess().empty());
  // The moov's box header alone (as the first block of a piece tells it): the index is known,
  // so no guess at the tail, though the parse still wants the box after the moov.
  ci.feed(0, f.data(), 64);
  REQUIRE(ci.index().size() == 1);
  CHECK_FALSE(ci.done());
  CHECK(ci.guess().empty());
  CHECK(ci.duration() < 0);  // the mvhd is not there yet
  drive(ci, f);
  CHECK(ci.duration() == doctest::Approx(12.0).epsilon(0.01));
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::mp4);
  REQUIRE(ci.index().size() == 1);
  CHECK(tag_at(f, ci.index()[0].begin + 4) == "moov");
  // moov comes before the media data: the header covers it.
  CHECK(ci.index()[0].end <= ci.header().end);
  CHECK(tag_at(f, ci.header().end - 4) == "mdat");
}

TEST_CASE("container index: MP4 keyframes from the sample tables, as FFmpeg reads them") {
  for (const char* name : {"moov_end", "faststart"}) {
    CAPTURE(name);
    std::vector<uint8_t> const f = slurp(media(std::string(name) + ".mp4"));
    ContainerIndex ci(int64_t(f.size()));
    drive(ci, f);
    REQUIRE(ci.done());
    // ffprobe's video keyframes (make_media.sh): decode time and byte position, 1 s apart.
    std::ifstream in(media(std::string(name) + ".keyframes"));
    std::vector<std::pair<double, int64_t>> keys;
    double t = 0;
    int64_t pos = 0;
    while (in >> t >> pos) keys.emplace_back(t, pos);
    REQUIRE(keys.size() >= 10);
    CHECK(ci.keyframe_before(keys[0].first - 0.01) == -1);
    int64_t prev = -1;
    for (auto [time, at] : keys) {
      CAPTURE(time);
      // A seek just after the keyframe reads from it, or from the audio beside it: no later,
      // and not much earlier (the clip interleaves a few KiB of audio per video frame).
      int64_t const k = ci.keyframe_before(time + 0.01);
      CHECK(k <= at);
      CHECK(k > at - (32 << 10));
      CHECK(k > prev);
      // Just before it, the keyframe before.
      if (prev >= 0) CHECK(ci.keyframe_before(time - 0.01) == prev);
      prev = k;
    }
  }
}

TEST_CASE("container index: MP4 sample tables with 64-bit chunk offsets, one sample size, no stss") {
  // One video track past 4 GiB: 10 samples of 1000 bytes, 1 s each (timescale 100), 5 to a
  // chunk; no stss, so each is a keyframe; a version-1 edit list starts the show at 0.5 s.
  int64_t const base = 5ll << 30;
  std::vector<uint8_t> co64 = full(0, {2});
  put_be64(co64, uint64_t(base));
  put_be64(co64, uint64_t(base + 100000));
  std::vector<uint8_t> elst = full(1, {1});
  put_be64(elst, 1000);  // segment duration
  put_be64(elst, 50);    // media time
  put_be32(elst, 0x10000);
  std::vector<uint8_t> hdlr = full(0, {0});
  put_tag(hdlr, "vide");
  hdlr.resize(hdlr.size() + 13, 0);
  std::vector<uint8_t> const stbl =
      cat({box("stts", full(0, {1, 10, 100})), box("stsc", full(0, {1, 1, 5, 1})),
           box("stsz", full(0, {1000, 10})), box("co64", co64)});
  std::vector<uint8_t> const trak =
      box("trak", cat({box("edts", box("elst", elst)),
                       box("mdia", cat({box("mdhd", full(0, {0, 0, 100, 1000, 0})),
                                        box("hdlr", hdlr),
                                        box("minf", box("stbl", stbl))}))}));
  std::vector<uint8_t> mvhd;
  put_mvhd(mvhd, 0, 1000, 10000);
  std::vector<uint8_t> file = cat({box("ftyp", {'i', 's', 'o', 'm', 0, 0, 2, 0}),
                                   box("moov", cat({mvhd, trak}))});
  put_be32(file, 1);  // a 64-bit mdat to past the chunks
  put_tag(file, "mdat");
  put_be64(file, uint64_t(base + 200000 - (int64_t(file.size()) - 8)));
  SparseFile sf;
  sf.chunks[0] = file;
  sf.size = base + 200000;
  ContainerIndex ci(sf.size);
  sf.feed_wanted(ci);
  REQUIRE(ci.done());
  CHECK(ci.duration() == doctest::Approx(10.0));
  // Sample i shows at i - 0.5 s, at base + 1000 i in its chunk of 5.
  CHECK(ci.keyframe_before(-0.6) == -1);
  CHECK(ci.keyframe_before(-0.5) == base);
  CHECK(ci.keyframe_before(2.6) == base + 3000);
  CHECK(ci.keyframe_before(4.6) == base + 100000);
  CHECK(ci.keyframe_before(7.5) == base + 100000 + 3000);
  CHECK(ci.keyframe_before(1e9) == base + 100000 + 4000);

  // Tables that disagree (a chunk offset fewer than the samples need): no keyframes, no crash.
  std::vector<uint8_t> bad = file;
  auto const at = std::search(bad.begin(), bad.end(), std::begin("co64"), std::end("co64") - 1);
  REQUIRE(at != bad.end());
  *(at + 4 + 4 + 3) = 1;  // entry count 2 -> 1
  SparseFile sb;
  sb.chunks[0] = bad;
  sb.size = sf.size;
  ContainerIndex ci2(sb.size);
  sb.feed_wanted(ci2);
  REQUIRE(ci2.done());
  CHECK(ci2.keyframe_before(7.5) == -1);
}

TEST_CASE("container index: Matroska and WebM Cues through the SeekHead") {
  for (const char* name : {"clip.mkv", "clip.webm"}) {
    CAPTURE(name);
    std::vector<uint8_t> const f = slurp(media(name));
    ContainerIndex ci(int64_t(f.size()));
    int const rounds = drive(ci, f);
    CHECK(rounds <= 3);
    REQUIRE(ci.done());
    CHECK(ci.format() == ContainerFormat::matroska);
    REQUIRE(ci.index().size() == 1);
    ByteRange const cues = ci.index()[0];
    CHECK(be32_at(f, cues.begin) == 0x1C53BB6B);  // Cues
    CHECK(cues.begin > int64_t(f.size()) / 2);    // ffmpeg writes them at the end
    CHECK(cues.end <= int64_t(f.size()));
    CHECK(be32_at(f, ci.header().end) == 0x1F43B675);  // the first Cluster
    // The duration its Segment Info states (make_media.sh: 12 s).
    CHECK(ci.duration() == doctest::Approx(12.0).epsilon(0.01));
    // Its Cues' keyframes (1 s apart): none before the first, then each second's cluster.
    CHECK(ci.keyframe_before(0.0) == -1);
    int64_t prev = -1;
    for (double t : {0.5, 5.5, 11.9}) {
      CAPTURE(t);
      int64_t const k = ci.keyframe_before(t);
      REQUIRE(k > prev);
      CHECK(be32_at(f, k) == 0x1F43B675);  // a Cluster
      prev = k;
    }
  }
}

TEST_CASE("container index: the same answers with small pieces") {
  for (const char* name : {"moov_end.mp4", "clip.mkv"}) {
    CAPTURE(name);
    std::vector<uint8_t> const f = slurp(media(name));
    ContainerIndex big(int64_t(f.size())), small(int64_t(f.size()));
    drive(big, f);
    drive(small, f, 16 << 10);
    REQUIRE(small.done());
    CHECK(small.index() == big.index());
    CHECK(small.header() == big.header());
  }
}

TEST_CASE("container index: MPEG-TS has no index but its tail is wanted") {
  std::vector<uint8_t> const f = slurp(media("clip.ts"));
  ContainerIndex ci(int64_t(f.size()));
  drive(ci, f);
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::mpegts);
  REQUIRE(ci.index().size() == 1);
  CHECK(ci.index()[0].end == int64_t(f.size()));
}

TEST_CASE("container index: AVI idx1") {
  std::string const avi = std::string(STREAMING_TEST_DIR) + "/clip.avi";
  if (!fs::exists(avi)) {
    std::string const cmd =
        std::string(CINE_FFMPEG) +
        " -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x120:rate=25"
        " -f lavfi -i sine -t 3 -c:v mpeg4 -c:a pcm_s16le '" +
        avi + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  std::vector<uint8_t> const f = slurp(avi);
  ContainerIndex ci(int64_t(f.size()));
  drive(ci, f);
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::avi);
  REQUIRE(ci.index().size() == 1);
  CHECK(tag_at(f, ci.index()[0].begin) == "idx1");
  CHECK(tag_at(f, ci.header().end - 4) == "movi");
}

TEST_CASE("container index: MP4 with a 64-bit mdat and moov past 4 GiB") {
  SparseFile sf;
  std::vector<uint8_t> head;
  put_be32(head, 24);
  put_tag(head, "ftyp");
  put_tag(head, "isom");
  put_be32(head, 0x200);
  put_tag(head, "isom");
  put_tag(head, "mp41");
  int64_t const mdat_size = (5ll << 30) + 16;
  put_be32(head, 1);  // size 1: the 64-bit largesize follows the type
  put_tag(head, "mdat");
  put_be64(head, uint64_t(mdat_size));
  sf.chunks[0] = head;
  int64_t const moov_at = 24 + mdat_size;
  std::vector<uint8_t> moov;
  put_be32(moov, 1000);
  put_tag(moov, "moov");
  // A child before the movie header, then a version-1 mvhd (64-bit times and duration).
  put_be32(moov, 16);
  put_tag(moov, "free");
  put_be64(moov, 0);
  put_mvhd(moov, 1, 90000, 90000ull * 100000);  // 100000 s: more than 32 bits of units
  sf.chunks[moov_at] = moov;
  sf.size = moov_at + 1000;

  ContainerIndex ci(sf.size);
  sf.feed_wanted(ci);
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::mp4);
  REQUIRE(ci.index().size() == 1);
  CHECK(ci.index()[0] == ByteRange{moov_at, moov_at + 1000});
  CHECK(ci.header() == ByteRange{0, 24 + 16});
  CHECK(ci.duration() == doctest::Approx(100000.0));
}

TEST_CASE("container index: an MP4 movie header of unknown duration gives none") {
  // A version-0 mvhd (100 bytes of body) whose duration says "unknown" (all ones).
  std::vector<uint8_t> f;
  put_be32(f, 8 + 8 + 100);
  put_tag(f, "moov");
  put_mvhd(f, 0, 1000, 0xFFFFFFFFu);
  put_be32(f, 8);
  put_tag(f, "mdat");
  f.resize(f.size() + 4096, 0);
  ContainerIndex ci(int64_t(f.size()));
  ci.feed(0, f.data(), f.size());
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::mp4);
  CHECK(ci.index().size() == 1);
  CHECK(ci.duration() < 0);
  // The same header with a duration: 2.5 s.
  f[16 + 16] = 0, f[16 + 17] = 0, f[16 + 18] = 0x09, f[16 + 19] = 0xC4;
  ContainerIndex known(int64_t(f.size()));
  known.feed(0, f.data(), f.size());
  CHECK(known.duration() == doctest::Approx(2.5));
}

TEST_CASE("container index: Matroska with unknown-size Segment, a second SeekHead, a float32 duration") {
  // EBML header (empty body), Segment of unknown size, SeekHead -> second SeekHead -> Cues.
  SparseFile sf;
  std::vector<uint8_t> b;
  put_bytes(b, {0x1A, 0x45, 0xDF, 0xA3, 0x80});  // EBML, size 0
  put_bytes(b,
            {0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});  // Segment
  int64_t const segment = int64_t(b.size());
  int64_t const second_head = 0x100000, cues = 0x200000;  // relative to the segment
  // SeekHead { Seek { SeekID = SeekHead, SeekPosition = second_head } }
  put_bytes(b, {0x11, 0x4D, 0x9B, 0x74, 0x90});
  put_bytes(b, {0x4D, 0xBB, 0x8D});
  put_bytes(b, {0x53, 0xAB, 0x84, 0x11, 0x4D, 0x9B, 0x74});
  put_bytes(b, {0x53, 0xAC, 0x83, 0x10, 0x00, 0x00});
  // Info { TimecodeScale = 500000 ns, Duration = 20000.0 as a 4-byte float }: 10 s.
  put_bytes(b, {0x15, 0x49, 0xA9, 0x66, 0x8E});
  put_bytes(b, {0x2A, 0xD7, 0xB1, 0x83, 0x07, 0xA1, 0x20});
  put_bytes(b, {0x44, 0x89, 0x84, 0x46, 0x9C, 0x40, 0x00});
  // Void, then the first Cluster (size 1000).
  put_bytes(b, {0xEC, 0x82, 0x00, 0x00});
  int64_t const cluster = int64_t(b.size());
  put_bytes(b, {0x1F, 0x43, 0xB6, 0x75, 0x43, 0xE8});
  sf.chunks[0] = b;
  std::vector<uint8_t> h2;
  put_bytes(h2, {0x11, 0x4D, 0x9B, 0x74, 0x90});
  put_bytes(h2, {0x4D, 0xBB, 0x8D});
  put_bytes(h2, {0x53, 0xAB, 0x84, 0x1C, 0x53, 0xBB, 0x6B});
  put_bytes(h2, {0x53, 0xAC, 0x83, 0x20, 0x00, 0x00});
  sf.chunks[segment + second_head] = h2;
  std::vector<uint8_t> c;
  put_bytes(c, {0x1C, 0x53, 0xBB, 0x6B, 0x42, 0x00});  // Cues, size 0x200
  // CuePoint { CueTime 4000 (2 s), CueTrackPositions { CueTrack 1, CueClusterPosition 0x1000 } }
  put_bytes(c, {0xBB, 0x8D, 0xB3, 0x82, 0x0F, 0xA0, 0xB7, 0x87, 0xF7, 0x81, 0x01, 0xF1, 0x82, 0x10,
                0x00});
  // CuePoint { CueTime 10000 (5 s), CueTrackPositions { CueClusterPosition 0x3000 } }
  put_bytes(c, {0xBB, 0x8A, 0xB3, 0x82, 0x27, 0x10, 0xB7, 0x84, 0xF1, 0x82, 0x30, 0x00});
  sf.chunks[segment + cues] = c;
  sf.size = segment + cues + 6 + 0x200;

  ContainerIndex ci(sf.size);
  sf.feed_wanted(ci);
  REQUIRE(ci.done());
  CHECK(ci.format() == ContainerFormat::matroska);
  REQUIRE(ci.index().size() == 1);
  CHECK(ci.index()[0] == ByteRange{segment + cues, sf.size});
  CHECK(ci.header() == ByteRange{0, cluster});
  CHECK(ci.duration() == doctest::Approx(10.0));
  // The Cues' points, in the Info's timecode scale, relative to the Segment's data.
  CHECK(ci.keyframe_before(1.9) == -1);
  CHECK(ci.keyframe_before(2.0) == segment + 0x1000);
  CHECK(ci.keyframe_before(4.9) == segment + 0x1000);
  CHECK(ci.keyframe_before(7.0) == segment + 0x3000);
}

TEST_CASE("container index: unknown or tiny inputs finish without an index") {
  std::vector<uint8_t> noise(100000);
  uint32_t x = 12345;
  for (auto& v : noise) v = uint8_t((x = x * 1103515245 + 12345) >> 24);
  ContainerIndex ci(int64_t(noise.size()));
  drive(ci, noise);
  CHECK(ci.done());
  CHECK(ci.format() == ContainerFormat::unknown);
  CHECK(ci.index().empty());
  CHECK(ci.header() == ByteRange{0, 64 << 10});

  std::vector<uint8_t> tiny = {1, 2, 3};
  ContainerIndex t(3);
  drive(t, tiny);
  CHECK(t.done());
  CHECK(t.header() == ByteRange{0, 3});

  ContainerIndex empty(0);
  CHECK(empty.done());

  // A truncated MP4: moov never comes; the walk ends at the end of the data.
  std::vector<uint8_t> const f = slurp(media("truncated.mp4"));
  ContainerIndex tr(int64_t(f.size()));
  drive(tr, f);
  CHECK(tr.done());
  CHECK(tr.index().empty());
}
