// Text from outside (torrent names, file paths, magnet names, trackers) made safe to show in a
// terminal or the overlay. It does not decide what is stored on disk (libtorrent does that).
#pragma once

#include <string>

namespace streaming {

// True if s holds a C0/C1 control character, DEL, a Unicode bidi control (U+061C, U+200E/F,
// U+202A-U+202E, U+2066-U+2069) or bytes that are not UTF-8.
bool has_unsafe_chars(const std::string& s);

// s with every such character (or invalid byte) replaced by '?', cut to max_bytes (at a
// character boundary, with "..." appended) so an error line stays one short line.
std::string display_safe(const std::string& s, size_t max_bytes = 4096);

}  // namespace streaming
