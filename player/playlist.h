// Playlist helpers for multi-file torrents: natural ("episode") ordering of file names and the
// subtitle files that belong with a video. Pure functions on names; no I/O, no torrent.
#pragma once

#include <string>
#include <vector>

namespace player {

// Natural order: runs of digits compare by value (S01E02 < S01E10), the rest case-insensitively.
bool natural_less(const std::string& a, const std::string& b);

bool is_video_name(const std::string& path);
bool is_subtitle_name(const std::string& path);

// Indices of the video files among `paths`, in natural order of their paths.
std::vector<int> episode_order(const std::vector<std::string>& paths);

// Indices of subtitle files among `paths` that go with the video `paths[video]`: same folder (or
// a Subs/Subtitles folder beside it, or below one named after the video) and a name that starts
// with the video's stem; with a single video in the list, every subtitle file goes with it.
std::vector<int> sibling_subtitles(const std::vector<std::string>& paths, int video);

}  // namespace player
