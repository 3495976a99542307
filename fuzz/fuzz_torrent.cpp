// libFuzzer: .torrent bytes -> Cine's torrent loading (libtorrent's parser, then the Metadata
// Cine shows: names made display-safe, sizes, files).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "streaming/safe_text.h"
#include "streaming/session.h"
#include "streaming/torrent_tools.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<char> const bytes(data, data + size);
  streaming::Metadata m;
  std::string error;
  if (streaming::parse_torrent_metadata(bytes, &m, &error)) {
    std::string const text = streaming::format_metadata(m);
    if (streaming::has_unsafe_chars(m.name)) __builtin_trap();
    for (const streaming::FileEntry& f : m.files)
      if (streaming::has_unsafe_chars(f.path) || f.size < 0) __builtin_trap();
    (void)text;
  }
  return 0;
}
