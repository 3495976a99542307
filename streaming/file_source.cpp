#include "streaming/file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace streaming {

std::unique_ptr<FileSource> FileSource::open(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = "cannot open '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (error) *error = "cannot open '" + path + "': not a regular file";
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, st.st_size, path));
}

FileSource::~FileSource() { ::close(fd_); }

int64_t FileSource::read(uint8_t* buf, size_t len) {
  if (cancelled_) return -ECANCELED;
  if (pos_ >= size_) return 0;
  for (;;) {
    ssize_t n = ::pread(fd_, buf, len, pos_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    pos_ += n;
    return n;
  }
}

bool FileSource::seek(int64_t pos) {
  if (pos < 0 || pos > size_) return false;
  pos_ = pos;
  return true;
}

}  // namespace streaming
