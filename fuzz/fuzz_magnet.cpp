// libFuzzer: magnet URIs -> Cine's magnet check (and the text `cine info` prints for it).
#include <cstddef>
#include <cstdint>
#include <string>

#include "streaming/magnet.h"
#include "streaming/safe_text.h"
#include "streaming/torrent_tools.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string const uri(reinterpret_cast<const char*>(data), size);
  streaming::MagnetInfo mi;
  std::string error;
  if (streaming::parse_magnet(uri, &mi, &error)) {
    // What passes is safe to print and names no local file or script as a tracker.
    if (streaming::has_unsafe_chars(mi.name)) __builtin_trap();
    if (mi.btih.size() != 40 && mi.btmh.size() != 64) __builtin_trap();
    (void)streaming::format_magnet(mi);
  } else if (error.find('\x1b') != std::string::npos || error.size() > 1000) {
    __builtin_trap();  // error lines are one short, printable line
  }
  (void)streaming::display_safe(uri, 64);
  return 0;
}
