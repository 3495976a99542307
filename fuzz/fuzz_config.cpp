// libFuzzer: config files (src/config.cpp: mpv-like key=value lines -> --key=value arguments).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "src/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::string const path = [] {
    char tmpl[] = "/tmp/cine-fuzz-config-XXXXXX";
    int const fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    return std::string(tmpl);
  }();
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  std::vector<std::string> args;
  std::string error;
  if (cine::load_config(path, &args, &error)) {
    for (const std::string& a : args)
      if (a.rfind("--", 0) != 0) __builtin_trap();  // every line becomes an option, nothing else
  } else if (error.empty()) {
    __builtin_trap();
  }
  return 0;
}
