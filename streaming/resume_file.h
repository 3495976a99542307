// Decoding of Cine's resume files (libtorrent resume data plus a "cine-clean" flag), kept apart
// so the fuzzer reaches it without a session. Reading and writing the files is Session's job.
#pragma once

#include <string>
#include <vector>

namespace libtorrent {
struct add_torrent_params;
}

namespace streaming {

// buf: a resume file's bytes. False (and *out untouched) unless it is a bencoded dictionary
// that libtorrent reads as resume data for info_hash (lowercase hex). Without the clean flag
// the piece lists are dropped, so libtorrent hashes what is on disk instead of trusting them.
bool parse_resume_file(const std::vector<char>& buf, const std::string& info_hash,
                       libtorrent::add_torrent_params* out);

}  // namespace streaming
