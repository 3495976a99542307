#include "player/playlist.h"

#include <algorithm>
#include <cctype>

namespace player {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string extension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  return lower(path.substr(dot));
}

std::string dir_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string stem_of(const std::string& path) {
  std::string b = base_of(path);
  size_t dot = b.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t i0 = i, j0 = j;
      while (i0 < a.size() && a[i0] == '0') ++i0;  // leading zeros do not count
      while (j0 < b.size() && b[j0] == '0') ++j0;
      size_t i1 = i0, j1 = j0;
      while (i1 < a.size() && is_digit(a[i1])) ++i1;
      while (j1 < b.size() && is_digit(b[j1])) ++j1;
      if (i1 - i0 != j1 - j0) return i1 - i0 < j1 - j0;
      for (size_t k = 0; k < i1 - i0; ++k)
        if (a[i0 + k] != b[j0 + k]) return a[i0 + k] < b[j0 + k];
      i = i1;
      j = j1;
      continue;
    }
    char ca = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
    char cb = static_cast<char>(std::tolower(static_cast<unsigned char>(b[j])));
    if (ca != cb) return ca < cb;
    ++i;
    ++j;
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;  // equal ignoring case and zeros: any fixed order
}

bool is_video_name(const std::string& path) {
  static const char* const exts[] = {".mkv", ".mp4", ".m4v", ".webm", ".avi", ".mov", ".ts",
                                     ".m2ts", ".wmv", ".flv", ".ogv", ".mpg", ".mpeg"};
  std::string e = extension(path);
  return std::find(std::begin(exts), std::end(exts), e) != std::end(exts);
}

bool is_subtitle_name(const std::string& path) {
  static const char* const exts[] = {".srt", ".ass", ".ssa", ".vtt", ".webvtt"};
  std::string e = extension(path);
  return std::find(std::begin(exts), std::end(exts), e) != std::end(exts);
}

std::vector<int> episode_order(const std::vector<std::string>& paths) {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(paths.size()); ++i)
    if (is_video_name(paths[size_t(i)])) out.push_back(i);
  std::stable_sort(out.begin(), out.end(),
                   [&](int x, int y) { return natural_less(paths[size_t(x)], paths[size_t(y)]); });
  return out;
}

std::vector<int> sibling_subtitles(const std::vector<std::string>& paths, int video) {
  std::vector<int> out;
  if (video < 0 || video >= static_cast<int>(paths.size())) return out;
  int videos = 0;
  for (const std::string& p : paths) videos += is_video_name(p) ? 1 : 0;
  const std::string vdir = dir_of(paths[size_t(video)]);
  const std::string vstem = lower(stem_of(paths[size_t(video)]));
  auto is_subs_dir = [](const std::string& name) {
    std::string n = lower(name);
    return n == "subs" || n == "sub" || n == "subtitles";
  };
  for (int i = 0; i < static_cast<int>(paths.size()); ++i) {
    const std::string& p = paths[size_t(i)];
    if (!is_subtitle_name(p)) continue;
    if (videos == 1) {
      out.push_back(i);
      continue;
    }
    const std::string sdir = dir_of(p);
    const std::string sstem = lower(stem_of(p));
    const bool named = sstem.rfind(vstem, 0) == 0;
    bool near = sdir == vdir;
    // vdir/Subs/x.srt, or vdir/Subs/<video stem>/x.srt (the layout of many series releases).
    const std::string prefix = vdir.empty() ? std::string() : vdir + "/";
    if (!near && sdir.rfind(prefix, 0) == 0) {
      std::string rest = sdir.substr(prefix.size());
      size_t slash = rest.find('/');
      std::string first = rest.substr(0, slash);
      if (is_subs_dir(first)) {
        if (slash == std::string::npos) {
          near = true;
        } else if (lower(rest.substr(slash + 1)) == vstem) {
          out.push_back(i);  // the folder names the video: any file in it belongs
          continue;
        }
      }
    }
    if (near && named) out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](int x, int y) { return natural_less(paths[size_t(x)], paths[size_t(y)]); });
  return out;
}

}  // namespace player
