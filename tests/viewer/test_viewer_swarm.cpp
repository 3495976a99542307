// `cine play` streaming a multi-file torrent (two episodes and a subtitle file beside one) from
// loopback seeders: under Xvfb, screenshots taken mid-download show the seek bar's verified and
// missing data in their colours and the subtitle line found beside the video; headless, `>`
// moves to the next episode in natural order, and Q remembers the position per info-hash and
// file so the next play (from an empty download folder) starts there.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>

#include "player/overlay.h"
#include "player/watch_later.h"
#include "run_process.h"
#include "viewer_fixture.h"

using namespace viewer_test;
namespace fs = std::filesystem;

namespace {

constexpr int kSeederRate = 160 * 1000;  // bytes/s each: two of them stream the 2 Mb/s episode

cine_test::ProcessResult cine(std::vector<std::string> args, std::vector<std::string> env, double timeout = 90) {
  args.insert(args.begin(), CINE_BINARY);
  env.push_back("SDL_AUDIODRIVER=dummy");
  return cine_test::run_process(args, timeout, env);
}

// The last n lines of a text file, for a failure's message.
std::string last_lines(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    lines.push_back(l);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "\n" + l;
  return out;
}

int file_index(const streaming::Metadata& md, const std::string& suffix) {
  for (const auto& f : md.files)
    if (f.path.size() >= suffix.size() && f.path.compare(f.path.size() - suffix.size(), suffix.size(), suffix) == 0)
      return f.index;
  return -1;
}

// The row of the seek bar's data lane: the lowest run of rows near the bottom holding a long
// stretch of verified-data blue. Returns -1 when there is none.
int data_lane_row(const Shot& s) {
  for (int y = s.h() - 1; y > s.h() / 2; --y) {
    int blue = 0;
    for (int x = 0; x < s.w(); ++x) blue += near(s.at(x, y), player::OverlayColors::kVerified, 10);
    if (blue >= 30) return y - 1;  // one row up: inside the lane, off its edge
  }
  return -1;
}

int white_pixels(const Shot& s, int y0, int y1) {
  int n = 0;
  for (int y = std::max(0, y0); y < std::min(s.h(), y1); ++y)
    for (int x = s.w() / 8; x < s.w() * 7 / 8; ++x) {
      Rgb c = s.at(x, y);
      n += c.r >= 235 && c.g >= 235 && c.b >= 235;
    }
  return n;
}

}  // namespace

TEST_CASE("Xvfb: mid-download screenshots show verified and missing data, and the subtitle line") {
  if (!have_xvfb()) {
    MESSAGE("Xvfb not installed; skipped");
    return;
  }
  const std::string dir = fresh_dir("swarm_xvfb");
  Seeders seeders;
  std::string err;
  REQUIRE_MESSAGE(start_seeders(vmedia("series"), dir + "/series.torrent", 2, kSeederRate, &seeders, &err), err);
  const std::string a = dir + "/mid_download.bmp", b = dir + "/no_subtitle.bmp", c = dir + "/stats.bmp";
  std::vector<std::string> args = {"play", dir + "/series.torrent", "--file=Show.S01E02.mkv", "--vo=sdl",
                                   "--ao=null", "--length=8.5", "--quiet", "--no-resume-playback",
                                   "--screenshot-at=4," + a, "--screenshot-at=7.5," + b,
                                   "--key-at=7.7,i", "--screenshot-at=8," + c,
                                   "--stats-json=" + dir + "/events.jsonl"};
  for (auto& l : leech_args(seeders, dir + "/leech")) args.push_back(l);
  cine_test::ProcessResult r;
  std::string display;
  for (int attempt = 0; attempt < 3; ++attempt) {
    // Other test runs may start X servers at the same moment: on a lost race, start another.
    Xvfb x;
    REQUIRE(x.ok());
    display = x.display();
    r = cine(args, {"DISPLAY=" + x.display(), "SDL_VIDEODRIVER=x11"});
    if (r.code == 0 || r.err.find("not available") == std::string::npos) break;
    fs::remove_all(dir + "/leech");
    usleep(300 * 1000);
  }
  INFO(display);
  INFO(r.err);
  INFO("last events: " << last_lines(dir + "/events.jsonl", 6));
  REQUIRE(r.code == 0);
  auto ev = read_events(dir + "/events.jsonl");
  auto sel = events_named(ev, "file_selected");
  REQUIRE(sel.size() == 1);
  CHECK(sel[0]["name"].get<std::string>().find("Show.S01E02.mkv") != std::string::npos);
  // Mid-download: at the first screenshot the episode was not complete.
  auto prog = events_named(ev, "progress");
  REQUIRE(!prog.empty());
  CHECK(prog.front()["downloaded"].get<int64_t>() < int64_t(fs::file_size(vmedia("series/Show.S01E02.mkv"))));

  Shot sa(a);
  REQUIRE(sa.ok());
  const int row = data_lane_row(sa);
  REQUIRE(row > sa.h() / 2);
  int verified_left = 0, verified = 0, missing = 0, in_flight = 0;
  for (int xx = 0; xx < sa.w(); ++xx) {
    Rgb px = sa.at(xx, row);
    const bool v = near(px, player::OverlayColors::kVerified, 10);
    verified += v;
    if (v && xx < sa.w() / 3) ++verified_left;
    if (xx < sa.w() / 2) continue;
    missing += near(px, player::OverlayColors::kMissing, 6);
    in_flight += near(px, player::OverlayColors::kInFlight, 10) || near(px, player::OverlayColors::kCritical, 10);
  }
  MESSAGE("data lane row " << row << ": verified " << verified << " (left third " << verified_left
                           << "); right half: missing " << missing << ", requested " << in_flight);
  CHECK(verified_left >= 20);         // the start of the file is downloaded and verified
  CHECK(missing + in_flight >= 40);   // much of the rest is not there yet: missing or requested
  CHECK(missing >= 10);
  // The subtitle line from Show.S01E02.srt (1 s to 6 s), above the controls (and above the
  // seek bar's white knob, which pokes out of the bar).
  const int sub_a = white_pixels(sa, sa.h() / 2, row - 24);
  Shot sb(b);
  REQUIRE(sb.ok());
  const int sub_b = white_pixels(sb, sb.h() / 2, row - 24);
  MESSAGE("white pixels where subtitles go: " << sub_a << " with a line, " << sub_b << " without");
  CHECK(sub_a >= 100);
  CHECK(sub_b <= 10);
  Shot sc(c);
  CHECK(sc.ok());
}

TEST_CASE("'>' moves to the next episode in natural order; the window-less run keeps the contract") {
  const std::string dir = fresh_dir("swarm_next");
  Seeders seeders;
  std::string err;
  REQUIRE_MESSAGE(start_seeders(vmedia("series"), dir + "/series.torrent", 2, 2 * kSeederRate, &seeders, &err), err);
  std::vector<std::string> args = {"play", dir + "/series.torrent", "--vo=null", "--ao=null", "--length=4",
                                   "--quiet", "--no-resume-playback", "--key-at=1.5,>",
                                   "--stats-json=" + dir + "/events.jsonl"};
  for (auto& l : leech_args(seeders, dir + "/leech")) args.push_back(l);
  auto r = cine(args, {"SDL_VIDEODRIVER=dummy"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto ev = read_events(dir + "/events.jsonl");
  auto sel = events_named(ev, "file_selected");
  REQUIRE(sel.size() == 2);
  CHECK(sel[0]["name"].get<std::string>().find("Show.S01E02.mkv") != std::string::npos);  // the largest
  CHECK(sel[1]["name"].get<std::string>().find("Show.S01E10.mkv") != std::string::npos);  // E02 -> E10
  CHECK(events_named(ev, "opened").size() == 2);
  CHECK(events_named(ev, "first_frame").size() == 2);
  CHECK(ev.back()["event"] == "exit");
  CHECK(ev.back()["code"] == 0);
}

TEST_CASE("Q remembers the position per info-hash and file; the next play fetches and starts there") {
  const std::string dir = fresh_dir("swarm_resume");
  const std::string wl = dir + "/wl";
  Seeders seeders;
  std::string err;
  REQUIRE_MESSAGE(start_seeders(vmedia("series"), dir + "/series.torrent", 2, 2 * kSeederRate, &seeders, &err), err);
  auto play = [&](std::vector<std::string> extra, const std::string& leech) {
    std::vector<std::string> args = {"play", dir + "/series.torrent", "--file=Show.S01E02.mkv", "--vo=null",
                                     "--ao=null", "--quiet", "--watch-later-directory=" + wl};
    args.insert(args.end(), extra.begin(), extra.end());
    for (auto& l : leech_args(seeders, leech)) args.push_back(l);
    auto r = cine(args, {"SDL_VIDEODRIVER=dummy"});
    INFO(r.err);
    CHECK(r.code == 0);
  };
  play({"--start=5", "--key-at=6.5,Q"}, dir + "/leech1");
  const int idx = file_index(seeders.metadata, "Show.S01E02.mkv");
  REQUIRE(idx >= 0);
  const std::string key = player::torrent_key(seeders.metadata.info_hash, idx);
  CHECK(fs::exists(wl + "/" + key + ".json"));
  player::ResumePoint rp;
  REQUIRE(player::WatchLater(wl).load(key, &rp));
  CHECK(rp.position == doctest::Approx(6.5).epsilon(0.02));
  CHECK(rp.byte_pos > 0);

  play({"--frames=1", "--stats-json=" + dir + "/e2.jsonl"}, dir + "/leech2");
  auto ff = events_named(read_events(dir + "/e2.jsonl"), "first_frame");
  REQUIRE(ff.size() == 1);
  CHECK(ff[0]["pos"].get<double>() >= rp.position - 0.001);
  CHECK(ff[0]["pos"].get<double>() <= rp.position + 0.05);
}
