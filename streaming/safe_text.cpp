#include "streaming/safe_text.h"

#include <cstdint>

namespace streaming {

namespace {

// Length of the UTF-8 sequence at s[i] and its code point; 0 when invalid.
size_t decode_utf8(const std::string& s, size_t i, uint32_t* cp) {
  auto const b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char const c = b(0);
  size_t n;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    v = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    v = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    v = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    v = v << 6 | (b(k) & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
      (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return n;
}

bool unsafe_code_point(uint32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
         cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

bool has_unsafe_chars(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t const n = decode_utf8(s, i, &cp);
    if (n == 0 || unsafe_code_point(cp)) return true;
    i += n;
  }
  return false;
}

std::string display_safe(const std::string& s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = decode_utf8(s, i, &cp);
    bool const bad = n == 0 || unsafe_code_point(cp);
    if (n == 0) n = 1;
    if (out.size() + n > max_bytes) {
      out += "...";
      break;
    }
    if (bad)
      out += '?';
    else
      out.append(s, i, n);
    i += n;
  }
  return out;
}

}  // namespace streaming
