// FileSource: a ByteSource over a local file (pread-based). Never blocks beyond disk I/O.
// Not for torrents: TorrentStream waits for verified pieces; this one reads what is on disk.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "streaming/byte_source.h"

namespace streaming {

class FileSource : public ByteSource {
 public:
  // Opens path for reading. Returns nullptr and sets *error ("cannot open 'x': reason").
  static std::unique_ptr<FileSource> open(const std::string& path, std::string* error);
  ~FileSource() override;

  int64_t read(uint8_t* buf, size_t len) override;
  bool seek(int64_t pos) override;
  int64_t size() const override { return size_; }
  int64_t position() const override { return pos_; }
  void cancel() override { cancelled_ = true; }
  void resume() override { cancelled_ = false; }
  std::string describe() const override { return path_; }

 private:
  FileSource(int fd, int64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  int64_t size_;
  int64_t pos_ = 0;
  std::string path_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace streaming
