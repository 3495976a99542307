#include "streaming/container_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <set>

namespace streaming {

namespace {

constexpr int64_t kDefaultHeader = 64 << 10;   // what we ask for first, and the header until known
constexpr int64_t kKeepAhead = 256 << 10;      // bytes kept after the start of each wanted range
constexpr int64_t kTransportTail = 256 << 10;  // MPEG-TS/PS: demuxers read the end for duration
constexpr int64_t kTailGuess = 128 << 10;      // see guess()
constexpr int64_t kIndexTail = 16 << 20;       // an MP4 tail after mdat wanted whole (see mp4())

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }
uint32_t le32(const uint8_t* p) {
  return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}
bool is4(const uint8_t* p, const char* tag) { return std::memcmp(p, tag, 4) == 0; }
// An EBML unsigned integer: n (at most 8) big-endian bytes.
uint64_t ebml_uint(const uint8_t* p, uint64_t n) {
  uint64_t v = 0;
  for (uint64_t i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

// Matroska element IDs (with their length marker bits, as written in the file).
constexpr uint32_t kEbml = 0x1A45DFA3, kSegment = 0x18538067, kSeekHead = 0x114D9B74,
                   kSeek = 0x4DBB, kSeekId = 0x53AB, kSeekPosition = 0x53AC, kCues = 0x1C53BB6B,
                   kCluster = 0x1F43B675, kInfo = 0x1549A966, kTimecodeScale = 0x2AD7B1,
                   kDuration = 0x4489, kCuePoint = 0xBB, kCueTime = 0xB3,
                   kCueTrackPositions = 0xB7, kCueClusterPosition = 0xF1;
// Indexes larger than this are not read for their keyframes: Matroska Cues (a few hours of 2 s
// keyframes, one video track, take ~100 KiB) and an MP4 moov's sample tables (two hours of
// 24 fps video and AAC take ~2 MiB).
constexpr uint64_t kMaxKeyframeIndex = 4 << 20;

// An EBML element header decoded from bytes [p, p + n).
struct Element {
  uint32_t id = 0;
  uint64_t size = 0;
  bool unknown_size = false;
  int header_len = 0;
};

// Variable-length integer: the count of leading zero bits of the first byte gives the length.
int vint_length(uint8_t first, int max_len) {
  for (int len = 1; len <= max_len; ++len) {
    if (first & (0x80 >> (len - 1))) return len;
  }
  return 0;
}

enum class Decode { ok, short_input, invalid };

Decode decode_element(const uint8_t* p, size_t n, Element* e) {
  if (n < 1) return Decode::short_input;
  int const id_len = vint_length(p[0], 4);
  if (id_len == 0) return Decode::invalid;
  if (n < size_t(id_len) + 1) return Decode::short_input;
  e->id = 0;
  for (int i = 0; i < id_len; ++i) e->id = e->id << 8 | p[i];
  int const size_len = vint_length(p[id_len], 8);
  if (size_len == 0) return Decode::invalid;
  if (n < size_t(id_len + size_len)) return Decode::short_input;
  uint64_t v = p[id_len] & (0xFF >> size_len);
  bool all_ones = v == (0xFFu >> size_len);
  for (int i = 1; i < size_len; ++i) {
    v = v << 8 | p[id_len + i];
    all_ones = all_ones && p[id_len + i] == 0xFF;
  }
  e->size = v;
  e->unknown_size = all_ones;
  e->header_len = id_len + size_len;
  return Decode::ok;
}

// Calls fn(element, offset of its body) for each element of known size in p[begin, end), in
// order; stops at the first that does not decode, has an unknown size or runs past `end`, or
// when fn returns false.
template <typename Fn>
void each_element(const uint8_t* p, int64_t begin, int64_t end, Fn fn) {
  for (int64_t at = begin; at < end;) {
    Element e;
    if (decode_element(p + at, size_t(end - at), &e) != Decode::ok || e.unknown_size) return;
    int64_t const body = at + e.header_len;
    if (body + int64_t(e.size) > end || !fn(e, body)) return;
    at = body + int64_t(e.size);
  }
}

// An MP4 track with more samples than this is not read for its keyframes (two hours of 60 fps
// video have 432,000).
constexpr uint64_t kMaxSamples = 1 << 22;

// Calls fn(type, offset of its body, end of its body) for each MP4 box in p[begin, end), in
// order (32-bit sizes, 64-bit largesizes, size 0 = to `end`); stops at the first that is
// corrupt or runs past `end`.
template <typename Fn>
void each_box(const uint8_t* p, int64_t begin, int64_t end, Fn fn) {
  for (int64_t at = begin; at + 8 <= end;) {
    uint64_t size = be32(p + at);
    int64_t body = at + 8;
    if (size == 1) {
      if (at + 16 > end) return;
      size = be64(p + at + 8);
      body = at + 16;
    } else if (size == 0) {
      size = uint64_t(end - at);
    }
    if (size < uint64_t(body - at) || size > uint64_t(end - at)) return;
    fn(p + at + 4, body, at + int64_t(size));
    at += int64_t(size);
  }
}

// One track of an MP4's moov: where each sample is (stsc, stco/co64, stsz) and when it is
// decoded (stts, shifted by the edit list's start), and which samples are keyframes (stss).
class Mp4Track {
 public:
  // Parses the trak box's body p[begin, end); false if it lacks a table or they disagree.
  bool parse(const uint8_t* p, int64_t begin, int64_t end) {
    bool ok = true;
    each_box(p, begin, end, [&](const uint8_t* type, int64_t b, int64_t e) {
      if (is4(type, "mdia")) ok = ok && media(p, b, e);
      if (is4(type, "edts")) {
        each_box(p, b, e, [&](const uint8_t* t, int64_t eb, int64_t ee) {
          if (is4(t, "elst")) edit_list(p + eb, ee - eb);
        });
      }
    });
    uint64_t samples = 0;
    for (auto [count, delta] : stts_) samples += count;
    if (!ok || timescale_ == 0 || samples == 0 || chunks_.empty() || stsc_.empty() ||
        (sizes_.empty() && constant_size_ == 0) || (!sizes_.empty() && sizes_.size() != samples) ||
        (constant_size_ != 0 && sample_count_ != samples))
      return false;
    // (A constant sample size lets a few bytes claim billions of samples.)
    if (samples > kMaxSamples) return false;
    sample_count_ = samples;
    // Where each sample lies within its chunk, from the sizes before it.
    if (!sizes_.empty()) {
      size_before_.reserve(sizes_.size() + 1);
      size_before_.push_back(0);
      for (uint32_t n : sizes_) size_before_.push_back(size_before_.back() + n);
    }
    // Where each stts run and each stsc run starts (in samples), for binary searches.
    uint64_t first = 0, dts = 0;
    for (auto [count, delta] : stts_) {
      stts_first_.push_back({first, dts});
      first += count;
      dts += uint64_t(count) * delta;
    }
    first = 0;
    for (size_t i = 0; i < stsc_.size(); ++i) {
      auto [chunk, per_chunk] = stsc_[i];
      if (chunk == 0 || per_chunk == 0 || (i > 0 && chunk <= stsc_[i - 1].first)) return false;
      stsc_first_.push_back(first);
      uint64_t const next =
          i + 1 < stsc_.size() ? stsc_[i + 1].first : uint64_t(chunks_.size()) + 1;
      if (next < chunk) return false;
      first += (next - chunk) * per_chunk;
    }
    return first >= sample_count_;
  }

  bool video() const { return video_; }
  // The keyframes' sample numbers (from 0); every sample when the track has no stss.
  std::vector<uint64_t> keyframes() const {
    std::vector<uint64_t> out;
    if (!has_stss_) {
      for (uint64_t i = 0; i < sample_count_; ++i) out.push_back(i);
      return out;
    }
    for (uint32_t s : sync_)
      if (s >= 1 && s <= sample_count_) out.push_back(s - 1);
    return out;
  }
  // When a sample is decoded, in seconds of the presentation.
  double seconds(uint64_t sample) const {
    return (double(dts_of(sample)) - double(media_time_)) / double(timescale_);
  }
  // The last sample decoded at or before `t` seconds (the first if none is).
  uint64_t sample_at(double t) const {
    double const dts = t * double(timescale_) + double(media_time_);
    uint64_t lo = 0, hi = sample_count_ - 1;
    while (lo < hi) {  // the last sample whose time is <= t
      uint64_t const mid = lo + (hi - lo + 1) / 2;
      if (double(dts_of(mid)) <= dts) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  // The file offset of a sample, or -1 where the tables point nowhere.
  int64_t offset(uint64_t sample) const {
    auto it = std::upper_bound(stsc_first_.begin(), stsc_first_.end(), sample);
    size_t const run = size_t(it - stsc_first_.begin()) - 1;
    uint64_t const in_run = sample - stsc_first_[run];
    uint64_t const per_chunk = stsc_[run].second;
    uint64_t const chunk = stsc_[run].first + in_run / per_chunk;  // from 1
    if (chunk == 0 || chunk > chunks_.size()) return -1;
    uint64_t const first_in_chunk = sample - in_run % per_chunk;
    uint64_t const skip = constant_size_ != 0
                              ? (sample - first_in_chunk) * constant_size_
                              : size_before_[size_t(sample)] - size_before_[size_t(first_in_chunk)];
    return int64_t(chunks_[size_t(chunk - 1)] + skip);
  }

 private:
  uint64_t dts_of(uint64_t sample) const {
    auto it = std::upper_bound(stts_first_.begin(), stts_first_.end(),
                               std::make_pair(sample, std::numeric_limits<uint64_t>::max()));
    size_t const run = size_t(std::prev(it) - stts_first_.begin());
    return stts_first_[run].second + (sample - stts_first_[run].first) * stts_[run].second;
  }

  bool media(const uint8_t* p, int64_t begin, int64_t end) {
    bool ok = true;
    each_box(p, begin, end, [&](const uint8_t* type, int64_t b, int64_t e) {
      const uint8_t* q = p + b;
      int64_t const n = e - b;
      if (is4(type, "mdhd") && n >= 24) timescale_ = be32(q + (q[0] == 1 ? 20 : 12));
      if (is4(type, "hdlr") && n >= 12) video_ = is4(q + 8, "vide");
      if (is4(type, "minf")) {
        each_box(p, b, e, [&](const uint8_t* t, int64_t mb, int64_t me) {
          if (is4(t, "stbl")) ok = ok && tables(p, mb, me);
        });
      }
    });
    return ok;
  }

  // A full box's entry count and its entries of `entry` bytes each, checked against its size.
  static bool entries(const uint8_t* q, int64_t n, int64_t skip, int64_t entry, uint32_t* count) {
    if (n < skip + 4) return false;
    *count = be32(q + skip);
    return int64_t(*count) <= (n - skip - 4) / entry;
  }

  bool tables(const uint8_t* p, int64_t begin, int64_t end) {
    bool ok = true;
    each_box(p, begin, end, [&](const uint8_t* type, int64_t b, int64_t e) {
      const uint8_t* q = p + b;
      int64_t const n = e - b;
      uint32_t count = 0;
      if (is4(type, "stts")) {
        ok = ok && entries(q, n, 4, 8, &count);
        for (uint32_t i = 0; ok && i < count; ++i)
          stts_.push_back({be32(q + 8 + 8 * i), be32(q + 12 + 8 * i)});
      } else if (is4(type, "stss")) {
        ok = ok && entries(q, n, 4, 4, &count);
        has_stss_ = true;
        for (uint32_t i = 0; ok && i < count; ++i) sync_.push_back(be32(q + 8 + 4 * i));
      } else if (is4(type, "stsc")) {
        ok = ok && entries(q, n, 4, 12, &count);
        for (uint32_t i = 0; ok && i < count; ++i)
          stsc_.push_back({be32(q + 8 + 12 * i), be32(q + 12 + 12 * i)});
      } else if (is4(type, "stsz")) {
        ok = ok && n >= 12;
        if (ok) {
          constant_size_ = be32(q + 4);
          sample_count_ = be32(q + 8);
        }
        if (ok && constant_size_ == 0) {
          ok = entries(q, n, 8, 4, &count);
          for (uint32_t i = 0; ok && i < count; ++i) sizes_.push_back(be32(q + 12 + 4 * i));
        }
      } else if (is4(type, "stco") || is4(type, "co64")) {
        int64_t const width = is4(type, "co64") ? 8 : 4;
        ok = ok && entries(q, n, 4, width, &count);
        for (uint32_t i = 0; ok && i < count; ++i)
          chunks_.push_back(width == 8 ? be64(q + 8 + 8 * i) : be32(q + 8 + 4 * i));
      }
    });
    return ok;
  }

  // The first edit that is not empty says at which decode time the presentation starts (ffmpeg
  // writes one to skip AAC priming and B-frame delay).
  void edit_list(const uint8_t* q, int64_t n) {
    if (n < 8) return;
    bool const v1 = q[0] == 1;
    int64_t const entry = v1 ? 20 : 12;
    uint32_t const count = be32(q + 4);
    for (uint32_t i = 0; i < count && 8 + entry * (int64_t(i) + 1) <= n; ++i) {
      const uint8_t* e = q + 8 + entry * i;
      int64_t const media_time = v1 ? int64_t(be64(e + 8)) : int32_t(be32(e + 4));
      if (media_time >= 0) {
        media_time_ = media_time;
        return;
      }
    }
  }

  bool video_ = false;
  uint32_t timescale_ = 0;
  int64_t media_time_ = 0;
  bool has_stss_ = false;
  uint32_t constant_size_ = 0;
  uint64_t sample_count_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> stts_;  // (samples, duration each)
  std::vector<std::pair<uint64_t, uint64_t>> stts_first_;  // (first sample, its dts) per run
  std::vector<uint32_t> sync_;
  std::vector<std::pair<uint32_t, uint32_t>> stsc_;  // (first chunk from 1, samples per chunk)
  std::vector<uint64_t> stsc_first_;                 // first sample per stsc run
  std::vector<uint32_t> sizes_;
  std::vector<uint64_t> size_before_;  // the sum of sizes_ before each sample
  std::vector<uint64_t> chunks_;
};

}  // namespace

const char* to_string(ContainerFormat f) {
  switch (f) {
    case ContainerFormat::mp4:
      return "mp4";
    case ContainerFormat::matroska:
      return "matroska";
    case ContainerFormat::avi:
      return "avi";
    case ContainerFormat::mpegts:
      return "mpegts";
    case ContainerFormat::mpegps:
      return "mpegps";
    case ContainerFormat::unknown:
      break;
  }
  return "unknown";
}

// One pass over the cached bytes. Every read of missing bytes records a wanted range and makes
// that branch of the parse stop; independent branches (e.g. the Cues header while the walk
// over the segment is stuck) go on, so several ranges can be wanted at once.
class ContainerIndex::Parse {
 public:
  explicit Parse(ContainerIndex& ci) : ci_(ci), size_(ci.size_) {}

  void run() {
    const uint8_t* p = nullptr;
    int64_t const probe = std::min<int64_t>(size_, 12);
    if (probe < 8 || !ci_.get(0, size_t(probe), &p)) return;
    if (be32(p) == kEbml) {
      ci_.format_ = ContainerFormat::matroska;
      matroska();
    } else if (probe >= 12 && is4(p, "RIFF") && is4(p + 8, "AVI ")) {
      ci_.format_ = ContainerFormat::avi;
      avi();
    } else if (is_mp4_box(p + 4)) {
      ci_.format_ = ContainerFormat::mp4;
      mp4();
    } else if (p[0] == 0 && p[1] == 0 && p[2] == 1 && p[3] == 0xBA) {
      ci_.format_ = ContainerFormat::mpegps;
      transport();
    } else if (looks_like_ts()) {
      ci_.format_ = ContainerFormat::mpegts;
      transport();
    }
  }

 private:
  static bool is_mp4_box(const uint8_t* type) {
    for (const char* t : {"ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "styp"}) {
      if (is4(type, t)) return true;
    }
    return false;
  }

  bool looks_like_ts() {
    // 188-byte packets (TS) or 192-byte ones with a 4-byte timestamp prefix (M2TS).
    for (int const stride : {188, 192}) {
      int const lead = stride == 192 ? 4 : 0;
      int64_t const need = lead + 2 * stride + 1;
      const uint8_t* p = nullptr;
      if (size_ < need) continue;
      if (!ci_.get(0, size_t(need), &p)) return false;
      if (p[lead] == 0x47 && p[lead + stride] == 0x47 && p[lead + 2 * stride] == 0x47) return true;
    }
    return false;
  }

  void set_header_end(int64_t end) {
    ci_.header_ = {0, std::min(size_, std::max<int64_t>(end, 0))};
  }
  void add_index(int64_t begin, int64_t end) {
    ByteRange const r = ByteRange{begin, end}.intersect({0, size_});
    if (!r.empty()) ci_.index_.push_back(r);
  }

  // MP4/MOV: top-level boxes. ffmpeg writes moov after mdat unless -movflags +faststart.
  void mp4() {
    int64_t off = 0;
    bool moov = false, media = false;
    for (int boxes = 0; off + 8 <= size_ && boxes < 4096 && !(moov && media); ++boxes) {
      const uint8_t* p = nullptr;
      if (!ci_.get(off, 8, &p)) {
        // Past the media data with no moov yet: what follows is almost always the moov
        // (ffmpeg writes it last) and it runs to the end. Asking for the whole tail at once
        // fetches its pieces side by side instead of one after the other (box header, then
        // the rest once its size is known).
        if (media && !moov && size_ - off <= kIndexTail && !ci_.wanted_.empty() &&
            ci_.wanted_.back().begin == off)
          ci_.wanted_.back().end = size_;
        return;
      }
      uint64_t box = be32(p);
      int hdr = 8;
      bool const is_moov = is4(p + 4, "moov"), is_mdat = is4(p + 4, "mdat"),
                 is_moof = is4(p + 4, "moof");
      if (box == 1) {
        if (off + 16 > size_ || !ci_.get(off, 16, &p)) return;
        box = be64(p + 8);
        hdr = 16;
      } else if (box == 0) {
        box = uint64_t(size_ - off);
      }
      if (box < uint64_t(hdr)) return;  // corrupt: stop with what we have
      int64_t const end = box > uint64_t(size_ - off) ? size_ : off + int64_t(box);
      if (is_moov) {
        add_index(off, end);
        moov = true;
        movie_duration(off + hdr, end);
        sample_tables(off + hdr, end);
      }
      if ((is_mdat || is_moof) && !media) {
        // The header is everything up to the first media data (mdat's own header included).
        set_header_end(is_mdat ? off + hdr : off);
        media = true;
      }
      off = end;
    }
  }

  // The movie header (mvhd) among the moov's first children: its timescale and duration give
  // the playing time, from which a start position's bytes can be guessed before the demuxer has
  // opened the file. A branch of its own: bytes it misses do not stop the walk over the boxes.
  void movie_duration(int64_t off, int64_t end) {
    for (int children = 0; children < 16 && off + 8 <= end; ++children) {
      const uint8_t* p = nullptr;
      if (!ci_.get(off, 8, &p)) return;
      uint64_t const box = be32(p);
      if (is4(p + 4, "mvhd")) {
        // version and flags, then (version 1) 64-bit times and duration, else 32-bit.
        if (off + 8 + 32 > end || !ci_.get(off + 8, 32, &p)) return;
        bool const v1 = p[0] == 1;
        uint32_t const scale = be32(p + (v1 ? 20 : 12));
        uint64_t const units = v1 ? be64(p + 24) : be32(p + 16);
        bool const unknown = v1 ? units == ~uint64_t(0) : units == 0xFFFFFFFFu;
        if (scale > 0 && units > 0 && !unknown) ci_.duration_ = double(units) / double(scale);
        return;
      }
      if (box < 8) return;  // 64-bit or to-the-end sizes do not occur for the moov's children
      off += int64_t(box);
    }
  }

  // The moov's sample tables, for the keyframes a seek lands on. A branch of its own, like the
  // movie header: it wants the whole moov, which the demuxer reads before it can seek anyway.
  // Each keyframe of the (first) video track is listed at the first byte that a seek there
  // reads: the keyframe's, or the sample of another track at its time where that lies before
  // it (ffmpeg reads the samples of a second's time in the order they lie in the file).
  void sample_tables(int64_t begin, int64_t end) {
    if (end - begin > int64_t(kMaxKeyframeIndex)) return;
    const uint8_t* p = nullptr;
    if (end <= begin || !ci_.get(begin, size_t(end - begin), &p)) return;
    std::vector<Mp4Track> tracks;
    each_box(p, 0, end - begin, [&](const uint8_t* type, int64_t b, int64_t e) {
      Mp4Track t;
      if (is4(type, "trak") && t.parse(p, b, e)) tracks.push_back(std::move(t));
    });
    auto video = std::find_if(tracks.begin(), tracks.end(), [](const Mp4Track& t) { return t.video(); });
    if (video == tracks.end()) return;
    std::vector<std::pair<double, int64_t>> points;
    for (uint64_t k : video->keyframes()) {
      double const t = video->seconds(k);
      int64_t at = video->offset(k);
      if (at < 0) continue;
      for (const Mp4Track& other : tracks) {
        if (&other == &*video) continue;
        int64_t const o = other.offset(other.sample_at(t));
        if (o >= 0) at = std::min(at, o);
      }
      if (at < size_) points.emplace_back(t, at);
    }
    std::sort(points.begin(), points.end());
    ci_.keyframes_ = std::move(points);
  }

  Decode element_at(int64_t off, int64_t limit, Element* e) {
    int64_t const n = std::min<int64_t>(12, limit - off);
    const uint8_t* p = nullptr;
    if (n <= 0) return Decode::invalid;
    if (!ci_.get(off, size_t(n), &p)) return Decode::short_input;
    return decode_element(p, size_t(n), e);
  }

  // Segment Info: the duration (a float in TimecodeScale units, 1 ms unless it says otherwise).
  void info(int64_t data, uint64_t len) {
    if (len > (64 << 10)) return;  // absurd: ignore it
    const uint8_t* p = nullptr;
    int64_t const n = std::min<int64_t>(int64_t(len), size_ - data);
    if (n <= 0 || !ci_.get(data, size_t(n), &p)) return;
    uint64_t scale = 1000000;
    double duration = -1;
    each_element(p, 0, n, [&](const Element& c, int64_t body) {
      if (c.id == kTimecodeScale && c.size >= 1 && c.size <= 8) {
        scale = ebml_uint(p + body, c.size);
      } else if (c.id == kDuration && (c.size == 4 || c.size == 8)) {
        if (c.size == 4) {
          uint32_t const bits = be32(p + body);
          float f;
          std::memcpy(&f, &bits, sizeof f);
          duration = double(f);
        } else {
          uint64_t const bits = be64(p + body);
          std::memcpy(&duration, &bits, sizeof duration);
        }
      }
      return true;
    });
    double const seconds = duration * double(scale) / 1e9;
    if (std::isfinite(seconds) && seconds > 0) ci_.duration_ = seconds;
    if (scale > 0) timecode_scale_ = scale;
  }

  // The Cues' points: each keyframe's time and the position of the cluster that holds it
  // (relative to the Segment's data). A branch of its own, after the walk: the Cues are usually
  // the last thing in the file, and their bytes are wanted only once where they are is known.
  void cue_points(int64_t data, uint64_t len, int64_t segment) {
    if (len == 0 || len > kMaxKeyframeIndex || data + int64_t(len) > size_) return;
    const uint8_t* p = nullptr;
    if (!ci_.get(data, size_t(len), &p)) return;
    std::vector<std::pair<double, int64_t>> points;
    each_element(p, 0, int64_t(len), [&](const Element& point, int64_t body) {
      if (point.id != kCuePoint) return true;
      uint64_t time = 0;
      int64_t cluster = -1;
      bool has_time = false;
      each_element(p, body, body + int64_t(point.size), [&](const Element& c, int64_t cbody) {
        if (c.id == kCueTime && c.size >= 1 && c.size <= 8) {
          time = ebml_uint(p + cbody, c.size);
          has_time = true;
        } else if (c.id == kCueTrackPositions && cluster < 0) {
          each_element(p, cbody, cbody + int64_t(c.size), [&](const Element& t, int64_t tbody) {
            if (t.id == kCueClusterPosition && t.size >= 1 && t.size <= 8)
              cluster = segment + int64_t(ebml_uint(p + tbody, t.size));
            return true;
          });
        }
        return true;
      });
      if (has_time && cluster >= segment && cluster < size_)
        points.emplace_back(double(time) * double(timecode_scale_) / 1e9, cluster);
      return true;
    });
    std::sort(points.begin(), points.end());
    ci_.keyframes_ = std::move(points);
  }

  // Parses a SeekHead's entries; returns false if its bytes are missing.
  bool seek_head(int64_t data, uint64_t len, int64_t segment, std::set<int64_t>* more_heads,
                 int64_t* cues_pos) {
    if (len > (1 << 20)) return true;  // absurd: ignore it
    const uint8_t* p = nullptr;
    int64_t const n = std::min<int64_t>(int64_t(len), size_ - data);
    if (n <= 0) return true;
    if (!ci_.get(data, size_t(n), &p)) return false;
    for (int64_t at = 0; at < n;) {
      Element seek;
      if (decode_element(p + at, size_t(n - at), &seek) != Decode::ok || seek.unknown_size) break;
      int64_t const body = at + seek.header_len;
      int64_t const body_end = std::min<int64_t>(n, body + int64_t(seek.size));
      if (seek.id == kSeek) {
        uint32_t target = 0;
        int64_t pos = -1;
        each_element(p, body, body_end, [&](const Element& child, int64_t cbody) {
          if (child.size > 8) return false;
          uint64_t const v = ebml_uint(p + cbody, child.size);
          if (child.id == kSeekId) target = uint32_t(v);
          if (child.id == kSeekPosition) pos = segment + int64_t(v);
          return true;
        });
        if (pos >= 0 && pos < size_) {
          if (target == kCues) *cues_pos = pos;
          if (target == kSeekHead) more_heads->insert(pos);
        }
      }
      at = body + int64_t(seek.size);
    }
    return true;
  }

  // Matroska/WebM: Segment children up to the first Cluster; the Cues via the SeekHead.
  void matroska() {
    Element e;
    if (element_at(0, size_, &e) != Decode::ok || e.unknown_size) return;
    int64_t const seg_off = e.header_len + int64_t(e.size);
    Element seg;
    if (element_at(seg_off, size_, &seg) != Decode::ok || seg.id != kSegment) return;
    int64_t const segment = seg_off + seg.header_len;
    int64_t const seg_end =
        seg.unknown_size ? size_ : std::min<int64_t>(size_, segment + int64_t(seg.size));

    int64_t cues_pos = -1, first_cluster = -1, cues_body = -1;
    uint64_t cues_len = 0;
    bool cues_found = false;
    std::set<int64_t> heads, heads_done;
    int clusters = 0;
    for (int64_t pos = segment, steps = 0; pos < seg_end && steps < 256; ++steps) {
      Decode const d = element_at(pos, seg_end, &e);
      if (d != Decode::ok) break;  // wanted (short) or garbage: the walk stops here
      int64_t const data = pos + e.header_len;
      if (e.id == kSeekHead) {
        heads_done.insert(pos);
        seek_head(data, e.size, segment, &heads, &cues_pos);
      } else if (e.id == kInfo && !e.unknown_size) {
        info(data, e.size);
      } else if (e.id == kCues && !e.unknown_size) {
        add_index(pos, data + int64_t(e.size));
        cues_found = true;
        cues_body = data;
        cues_len = e.size;
      } else if (e.id == kCluster) {
        if (first_cluster < 0) first_cluster = pos;
        // Past the first cluster the walk only looks for Cues the SeekHead did not point to,
        // one round trip per cluster: keep that short.
        if (cues_pos >= 0 || cues_found || ++clusters > 16) break;
      }
      if (e.unknown_size) break;
      pos = data + int64_t(e.size);
    }
    // A SeekHead may point to a second one (written at the end, with the Cues entry).
    for (int rounds = 0; cues_pos < 0 && rounds < 4; ++rounds) {
      auto it =
          std::find_if(heads.begin(), heads.end(), [&](int64_t h) { return !heads_done.count(h); });
      if (it == heads.end()) break;
      heads_done.insert(*it);
      if (element_at(*it, seg_end, &e) != Decode::ok || e.id != kSeekHead) continue;
      seek_head(*it + e.header_len, e.size, segment, &heads, &cues_pos);
    }
    if (cues_pos >= 0 && !cues_found && element_at(cues_pos, seg_end, &e) == Decode::ok &&
        e.id == kCues && !e.unknown_size) {
      add_index(cues_pos, cues_pos + e.header_len + int64_t(e.size));
      cues_body = cues_pos + e.header_len;
      cues_len = e.size;
    }
    if (first_cluster >= 0) set_header_end(first_cluster);
    if (cues_body >= 0) cue_points(cues_body, cues_len, segment);
  }

  // AVI: RIFF chunks; the header ends where LIST movi's data starts; idx1 follows movi.
  void avi() {
    const uint8_t* p = nullptr;
    if (!ci_.get(0, 12, &p)) return;
    int64_t const riff_len = le32(p + 4);  // 0 in some streamed files: then up to the end
    int64_t const riff_end = riff_len ? std::min<int64_t>(size_, 8 + riff_len) : size_;
    int64_t pos = 12;
    for (int chunks = 0; pos + 8 <= riff_end && chunks < 4096; ++chunks) {
      int64_t const n = std::min<int64_t>(12, riff_end - pos);
      if (!ci_.get(pos, size_t(n), &p)) return;
      int64_t const len = le32(p + 4);
      if (is4(p, "LIST") && n >= 12 && is4(p + 8, "movi")) set_header_end(pos + 12);
      if (is4(p, "idx1")) {
        add_index(pos, pos + 8 + len);
        return;
      }
      pos += 8 + len + (len & 1);
    }
  }

  void transport() {
    set_header_end(kTransportTail);
    add_index(size_ - kTransportTail, size_);
  }

  ContainerIndex& ci_;
  int64_t const size_;
  uint64_t timecode_scale_ = 1000000;  // Matroska: ns per timecode unit, from Segment Info
};

ContainerIndex::ContainerIndex(int64_t file_size) : size_(std::max<int64_t>(0, file_size)) {
  run();
}

bool ContainerIndex::get(int64_t off, size_t n, const uint8_t** out) {
  ByteRange const r = ByteRange{off, off + int64_t(n)}.intersect({0, size_});
  if (r.size() != int64_t(n) || n == 0) return false;
  auto it = cache_.upper_bound(off);
  if (it != cache_.begin()) {
    --it;
    if (it->first <= off && it->first + int64_t(it->second.size()) >= r.end) {
      *out = it->second.data() + (off - it->first);
      return true;
    }
  }
  for (ByteRange w : wanted_) {
    if (w.begin <= r.begin && r.end <= w.end) return false;
  }
  wanted_.push_back(r);
  return false;
}

void ContainerIndex::feed(int64_t offset, const uint8_t* data, size_t len) {
  if (done()) return;
  // Keep only what lies near a wanted range: the parse continues from there.
  bool changed = false;
  for (ByteRange keep : kept()) {
    ByteRange const r = keep.intersect({offset, offset + int64_t(len)});
    if (r.empty()) continue;
    int64_t begin = r.begin, end = r.end;
    std::vector<uint8_t> bytes(data + (begin - offset), data + (end - offset));
    // Merge with overlapping or adjacent chunks.
    auto it = cache_.upper_bound(begin);
    if (it != cache_.begin() &&
        std::prev(it)->first + int64_t(std::prev(it)->second.size()) >= begin)
      --it;
    while (it != cache_.end() && it->first <= end) {
      int64_t const cb = it->first, ce = cb + int64_t(it->second.size());
      std::vector<uint8_t> merged;
      int64_t const nb = std::min(begin, cb), ne = std::max(end, ce);
      merged.resize(size_t(ne - nb));
      std::memcpy(merged.data() + (cb - nb), it->second.data(), it->second.size());
      std::memcpy(merged.data() + (begin - nb), bytes.data(), bytes.size());
      bytes.swap(merged);
      begin = nb;
      end = ne;
      it = cache_.erase(it);
    }
    cache_.emplace(begin, std::move(bytes));
    changed = true;
  }
  if (changed) run();
}

void ContainerIndex::run() {
  wanted_.clear();
  index_.clear();
  header_ = ByteRange{0, std::min(size_, kDefaultHeader)};
  format_ = ContainerFormat::unknown;
  duration_ = -1;
  keyframes_.clear();
  if (size_ == 0) return;
  // The first request asks for the whole default header at once: format probing and most
  // header walks are satisfied by that one read.
  const uint8_t* p = nullptr;
  if (get(0, size_t(header_.end), &p)) {
    Parse(*this).run();
    return;
  }
  // Most containers tell their layout in the first KiB: parse whatever prefix is there (the
  // first piece) instead of waiting for all of it, so a moov at the end is asked for at once.
  // The rest of the default header stays wanted only while the format is unknown.
  if (cache_.empty() || cache_.begin()->first != 0) return;
  std::vector<ByteRange> const first = wanted_;
  wanted_.clear();
  Parse(*this).run();
  if (format_ == ContainerFormat::unknown) wanted_ = first;
}

std::vector<ByteRange> ContainerIndex::kept() const {
  std::vector<ByteRange> out;
  for (ByteRange w : wanted_)
    out.push_back(ByteRange{w.begin, w.begin + std::max(w.size(), kKeepAhead)}.intersect({0, size_}));
  return out;
}

std::vector<ByteRange> ContainerIndex::urgent() const {
  std::vector<ByteRange> out;
  auto add = [&](ByteRange r) {
    if (!r.empty() && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  };
  add(header_);
  for (ByteRange r : index_) add(r);
  for (ByteRange r : wanted_) add(r);
  return out;
}

ByteRange ContainerIndex::guess() const {
  // Once the index is found (a moov at the start, Cues named in the SeekHead) the guess has no
  // purpose, though the parse may still want bytes (the box after the moov, to find mdat).
  if (done() || !index_.empty()) return {};
  return ByteRange{size_ - kTailGuess, size_}.intersect({0, size_});
}

int64_t ContainerIndex::keyframe_before(double seconds) const {
  auto it = std::upper_bound(keyframes_.begin(), keyframes_.end(),
                             std::make_pair(seconds, std::numeric_limits<int64_t>::max()));
  if (it == keyframes_.begin()) return -1;
  return std::prev(it)->second;
}

}  // namespace streaming
