// Damaged media, made here from the generated clips (truncated, zeroed middle, bit flips,
// destroyed header or tail, lying box sizes and durations, random bytes): `cine play` plays what
// is playable and ends, or exits with one clear line — never a crash (signal) or a hang.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include "hostile_fixture.h"

using namespace hostile;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes big-endian v at s[at..at+4) if in range.
void put_be32(std::string* s, size_t at, uint32_t v) {
  if (at + 4 > s->size()) return;
  for (int k = 0; k < 4; ++k) (*s)[at + size_t(k)] = char(v >> (24 - 8 * k));
}

struct Damage {
  std::string name;
  std::function<void(std::string*)> apply;
};

std::vector<Damage> damages() {
  return {
      {"truncated 50%", [](std::string* s) { s->resize(s->size() / 2); }},
      {"truncated 95%", [](std::string* s) { s->resize(s->size() * 95 / 100); }},
      {"zeroed middle",
       [](std::string* s) {
         std::fill(s->begin() + long(s->size() * 3 / 10), s->begin() + long(s->size() / 2), 0);
       }},
      {"bit flips",
       [](std::string* s) {
         std::mt19937 rng(7);
         for (int i = 0; i < 300; ++i) (*s)[rng() % s->size()] ^= char(1 << (rng() % 8));
       }},
      {"header destroyed",
       [](std::string* s) {
         std::mt19937 rng(3);
         for (size_t i = 0; i < std::min<size_t>(4096, s->size()); ++i) (*s)[i] = char(rng());
       }},
      {"tail destroyed",
       [](std::string* s) {
         std::mt19937 rng(5);
         for (size_t i = s->size() - std::min<size_t>(65536, s->size()); i < s->size(); ++i)
           (*s)[i] = char(rng());
       }},
      {"lying box sizes",
       [](std::string* s) {
         // Every MP4 box header and every Matroska/EBML size byte we can find claims more.
         for (const char* box : {"moov", "trak", "stsz", "stco", "mdat", "mdia", "stbl"}) {
           for (size_t at = s->find(box); at != std::string::npos && at >= 4;
                at = s->find(box, at + 4))
             put_be32(s, at - 4, 0x7ffffff0u);
         }
         for (const char* entries : {"stsz", "stco", "stts", "stsc"}) {
           size_t const at = s->find(entries);
           if (at != std::string::npos) put_be32(s, at + 12, 0x3fffffffu);
         }
         // Matroska: Segment (18 53 80 67) and Cluster (1F 43 B6 75) sizes to "huge".
         for (const std::string& id :
              {std::string("\x18\x53\x80\x67"), std::string("\x1f\x43\xb6\x75")})
           for (size_t at = s->find(id); at != std::string::npos; at = s->find(id, at + 4))
             if (at + 5 < s->size()) (*s)[at + 4] = char(0x08), (*s)[at + 5] = char(0x7f);
       }},
      {"lying duration",
       [](std::string* s) {
         for (const char* hdr : {"mvhd", "mdhd"})
           for (size_t at = s->find(hdr); at != std::string::npos; at = s->find(hdr, at + 4))
             put_be32(s, at + 16, 0xfffffff0u);  // version-0 duration field
         // Matroska Duration (44 89, float): 1e300 seconds.
         size_t const at = s->find("\x44\x89");
         if (at != std::string::npos && at + 11 < s->size() && (*s)[at + 2] == char(0x88)) {
           const unsigned char huge[8] = {0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c};
           for (int k = 0; k < 8; ++k) (*s)[at + 3 + size_t(k)] = char(huge[k]);
         }
       }},
  };
}

}  // namespace

TEST_CASE("damaged media: plays what is playable or exits with one line; no crash, no hang") {
  const char* const clips[] = {"clip.mkv", "faststart.mp4", "moov_end.mp4", "clip.webm", "clip.ts"};
  for (const char* clip : clips) {
    std::string const original = read_all(fs::path(CINE_MEDIA_DIR) / clip);
    REQUIRE(original.size() > 100000);
    for (const Damage& d : damages()) {
      CAPTURE(clip);
      CAPTURE(d.name);
      Sandbox sb("media");
      std::string bytes = original;
      d.apply(&bytes);
      fs::path const p = sb.root / (std::string("damaged-") + clip);
      write_bytes(p, bytes);
      // --no-sync: as fast as decoding goes; a 12 s clip takes a second or two.
      auto r = run_cine(sb, {"play", p.string(), "--no-sync"}, 60);
      CHECK_FALSE(r.timed_out);
      CHECK(r.code >= 0);
      CHECK(r.code < 128);  // not a signal
      CHECK(r.seconds < 30);
      if (r.code != 0) {
        auto const lines = cine_test::split_lines(r.err);
        REQUIRE(!lines.empty());
        CHECK(lines.back().rfind("cine: ", 0) == 0);
      }
      CHECK(sb.escaped().empty());
    }
  }
}

TEST_CASE("random bytes named .mkv and an empty file: one clear line") {
  Sandbox sb("random");
  std::mt19937 rng(11);
  std::string junk(300000, '\0');
  for (char& c : junk) c = char(rng());
  for (const char* name : {"random.mkv", "random.mp4", "random.webm", "random.ts"}) {
    CAPTURE(name);
    write_bytes(sb.root / name, junk);
    auto r = run_cine(sb, {"play", (sb.root / name).string(), "--no-sync"}, 30);
    check_clean_failure(r, "not a playable media file");
  }
}
