#include "streaming/files.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace streaming {

namespace fs = std::filesystem;

bool read_whole_file(const std::string& path, int64_t max_bytes, std::vector<char>* out,
                     std::string* error) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    *error = "cannot open " + path + ": no such file";
    return false;
  }
  if (fs::is_directory(path, ec)) {
    *error = "cannot open " + path + ": is a directory";
    return false;
  }
  auto const size = fs::file_size(path, ec);
  if (ec || int64_t(size) > max_bytes) {
    *error = "cannot open " + path + ": " + (ec ? ec.message() : "file too large");
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  out->assign(size_t(size), 0);
  if (!in.read(out->data(), std::streamsize(size))) {
    *error = "cannot read " + path;
    return false;
  }
  return true;
}

bool write_file_atomically(const std::string& path, const std::vector<char>& bytes,
                           std::string* error) {
  static std::atomic<unsigned> counter{0};
  std::string const tmp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(bytes.data(), std::streamsize(bytes.size())) || !out.flush()) {
      fs::remove(tmp, ec);
      *error = "cannot write " + path;
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    *error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace streaming
