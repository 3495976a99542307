#include "player/overlay_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace player {

namespace {

constexpr double kWaitWindowSeconds = 2.0;  // how much ahead of the read head "waiting" counts

int64_t file_size_of(const OverlaySnapshot& s) {
  if (s.file_size > 0) return s.file_size;
  const SwarmSnapshot& w = s.swarm;
  if (w.piece_size > 0 && !w.pieces.empty())
    return int64_t(w.pieces.size()) * w.piece_size - w.file_offset;
  return -1;
}

RegionKind kind_of(char c) {
  switch (c) {
    case 'h': return RegionKind::Verified;
    case 'r': return RegionKind::InFlight;
    case 'c': return RegionKind::Critical;
    default: return RegionKind::Missing;
  }
}

void push_region(std::vector<SeekbarRegion>* out, Lane lane, RegionKind kind, double b, double e) {
  b = std::clamp(b, 0.0, 1.0);
  e = std::clamp(e, 0.0, 1.0);
  if (e <= b) return;
  if (!out->empty() && out->back().lane == lane && out->back().kind == kind &&
      std::fabs(out->back().end - b) < 1e-12) {
    out->back().end = e;
    return;
  }
  out->push_back({lane, kind, b, e});
}

}  // namespace

double seekbar_time_at(double x, double bar_x, double bar_w, double duration) {
  if (bar_w <= 0 || duration <= 0) return 0;
  return std::clamp((x - bar_x) / bar_w, 0.0, 1.0) * duration;
}

double seconds_ahead(const OverlaySnapshot& s) {
  double ahead = s.buffered_until >= 0 ? std::max(0.0, s.buffered_until - s.position) : 0.0;
  if (s.swarm.have && s.byte_rate > 0) ahead += double(s.swarm.buffered_ahead) / s.byte_rate;
  if (s.duration > 0) ahead = std::min(ahead, std::max(0.0, s.duration - s.position));
  return ahead;
}

std::vector<SeekbarRegion> seekbar_regions(const OverlaySnapshot& s) {
  std::vector<SeekbarRegion> out;
  // Time lane.
  if (s.duration > 0) {
    const double played = std::clamp(s.position / s.duration, 0.0, 1.0);
    const double buffered = std::clamp((s.position + seconds_ahead(s)) / s.duration, played, 1.0);
    push_region(&out, Lane::Time, RegionKind::Played, 0, played);
    push_region(&out, Lane::Time, RegionKind::Buffered, played, buffered);
    push_region(&out, Lane::Time, RegionKind::Ahead, buffered, 1);
  } else {
    push_region(&out, Lane::Time, RegionKind::Ahead, 0, 1);
  }
  // Data lane.
  const SwarmSnapshot& w = s.swarm;
  const int64_t size = file_size_of(s);
  if (!w.have || w.pieces.empty() || w.piece_size <= 0 || size <= 0) {
    push_region(&out, Lane::Data, w.have ? RegionKind::Missing : RegionKind::Local, 0, 1);
    return out;
  }
  double covered = 0;
  for (size_t i = 0; i < w.pieces.size(); ++i) {
    const double b = double(int64_t(i) * w.piece_size - w.file_offset) / double(size);
    const double e = double(int64_t(i + 1) * w.piece_size - w.file_offset) / double(size);
    push_region(&out, Lane::Data, kind_of(w.pieces[i]), std::max(b, covered), e);
    covered = std::max(covered, std::clamp(e, 0.0, 1.0));
  }
  push_region(&out, Lane::Data, RegionKind::Missing, covered, 1);
  return out;
}

double seekbar_read_head(const OverlaySnapshot& s) {
  const int64_t size = file_size_of(s);
  if (s.read_head < 0 || size <= 0) return -1;
  return std::clamp(double(s.read_head) / double(size), 0.0, 1.0);
}

std::string format_time(double s) {
  if (!(s >= 0)) s = 0;
  long t = static_cast<long>(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

std::string format_bytes(double b) {
  char buf[32];
  if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.0f kB", b / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f B", std::max(0.0, b));
  return buf;
}

std::string format_rate(double bps) { return format_bytes(bps) + "/s"; }

std::string buffering_text(const OverlaySnapshot& s) {
  if (!s.buffering) return {};
  const SwarmSnapshot& w = s.swarm;
  if (w.have && !w.pieces.empty() && w.piece_size > 0 && s.read_head >= 0) {
    const int64_t head_piece = (s.read_head + w.file_offset) / w.piece_size;
    const int64_t window = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(std::max(s.byte_rate * kWaitWindowSeconds, 1.0) / w.piece_size)));
    int64_t first = -1, n = 0;
    for (int64_t p = std::max<int64_t>(0, head_piece); p < int64_t(w.pieces.size()); ++p) {
      if (w.pieces[size_t(p)] != 'h') {
        if (first < 0) first = p;
        ++n;
      } else if (first >= 0) {
        break;
      }
      if (first >= 0 && p - first + 1 >= window) break;
      if (first < 0 && p - head_piece >= window) break;  // verified ahead: not waiting on pieces
    }
    if (n > 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "waiting for %lld piece%s, %s", static_cast<long long>(n),
                    n == 1 ? "" : "s", format_bytes(double(n) * w.piece_size).c_str());
      return buf;
    }
  }
  if (s.buffering_what == "opening") return "opening the file";
  if (s.buffering_what == "seeking") return "seeking";
  return s.buffering_what.empty() ? std::string("waiting for data") : "waiting for data (" + s.buffering_what + ")";
}

std::string time_text(const OverlaySnapshot& s) {
  return format_time(s.position) + " / " + (s.duration > 0 ? format_time(s.duration) : std::string("--:--"));
}

std::string swarm_text(const OverlaySnapshot& s, bool unicode) {
  const SwarmSnapshot& w = s.swarm;
  if (!w.have) return {};
  char buf[256];
  const int leechers = std::max(0, w.peers - w.seeds);
  std::snprintf(buf, sizeof buf, "%s %s  %s %s  %d peer%s (%d seed%s / %d leecher%s)  %.0f%%",
                unicode ? "\xE2\x86\x93" : "down", format_rate(double(w.download_rate)).c_str(),
                unicode ? "\xE2\x86\x91" : "up", format_rate(double(w.upload_rate)).c_str(), w.peers,
                w.peers == 1 ? "" : "s", w.seeds, w.seeds == 1 ? "" : "s", leechers,
                leechers == 1 ? "" : "s", w.progress * 100);
  std::string out = buf;
  if (w.ratio >= 0) {
    std::snprintf(buf, sizeof buf, "  ratio %.2f", w.ratio);
    out += buf;
  }
  return out;
}

}  // namespace player
