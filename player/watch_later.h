// WatchLater: remembers playback positions per media — a torrent's info-hash and file index, or a
// hash of a local file's absolute path — one small JSON file each under the user's data folder
// ($XDG_DATA_HOME/cine/watch_later, else ~/.local/share/cine/watch_later). File names are made
// from hex digits only, never from names found in a torrent. It does not decide when to
// remember: resume_action() is that policy.
#pragma once

#include <cstdint>
#include <string>

namespace player {

struct ResumePoint {
  double position = 0;    // seconds
  int64_t byte_pos = -1;  // where the demuxer must read to resume there (keyframe), -1 unknown
  double duration = -1;
};

// How playback of a file ended, for the policy below.
enum class LeaveReason { Eof, Quit, QuitWatchLater, Limit, Error, Switch };
enum class ResumeAction { Save, Forget, Keep };

// Q saves always; a plain quit (q, closing the window, Ctrl-C) or moving to another file saves
// past 10 s and before 90 % (and forgets past 90 %); the end of the file forgets; limits
// (--length, --frames) and errors leave the store alone.
ResumeAction resume_action(LeaveReason reason, double position, double duration);

// The folder used when none is given ("" when neither XDG_DATA_HOME nor HOME is set).
std::string default_watch_later_dir();

// Keys. torrent_key: "t-<info-hash>-<file index>" (the hash must be 40 or 64 hex digits, else it
// is hashed too); local_file_key: "f-<SHA-256 of the absolute path, 32 hex digits>".
std::string torrent_key(const std::string& info_hash_hex, int file_index);
std::string local_file_key(const std::string& path);

// Thread contract: none needed; each call opens, reads or replaces one file.
class WatchLater {
 public:
  explicit WatchLater(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  bool load(const std::string& key, ResumePoint* out) const;
  // Creates the folder as needed and replaces the entry atomically. False + *error on failure.
  bool save(const std::string& key, const ResumePoint& p, std::string* error) const;
  void forget(const std::string& key) const;

 private:
  std::string path_for(const std::string& key) const;
  std::string dir_;
};

}  // namespace player
