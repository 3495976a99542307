// Whole-file helpers of the streaming layer: reads with one-line errors, and writes that
// replace the file by a rename so no reader (or crash) ever sees half of it. Not for media data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace streaming {

// Reads all of path (at most max_bytes). False with "cannot open PATH: reason" otherwise.
bool read_whole_file(const std::string& path, int64_t max_bytes, std::vector<char>* out,
                     std::string* error);

// Writes bytes to a temporary name unique to this process and call, then renames it over path.
// Safe when several writers (sessions sharing a save path) target the same file.
bool write_file_atomically(const std::string& path, const std::vector<char>& bytes,
                           std::string* error);

}  // namespace streaming
