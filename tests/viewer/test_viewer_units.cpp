// Pure parts of the viewer: mpv's key bindings, SDL key naming, natural episode order, subtitle
// files beside a video, the watch-later store and its policy, and the tempo stretcher.
#include <doctest/doctest.h>
#include <SDL2/SDL_keycode.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "player/keymap.h"
#include "player/playlist.h"
#include "player/tempo.h"
#include "player/watch_later.h"

using namespace player;
using K = Command::Kind;

namespace {
void check_key(const std::string& name, K kind, double value = 0) {
  CAPTURE(name);
  auto c = command_for_key(name);
  REQUIRE(c.has_value());
  CHECK(c->kind == kind);
  CHECK(c->value == doctest::Approx(value));
}
}  // namespace

TEST_CASE("keys as mpv: every binding of the brief") {
  check_key("SPACE", K::TogglePause);
  check_key("p", K::TogglePause);
  check_key("LEFT", K::SeekRelative, -5);
  check_key("RIGHT", K::SeekRelative, 5);
  check_key("UP", K::SeekRelative, 60);
  check_key("DOWN", K::SeekRelative, -60);
  check_key("Shift+LEFT", K::SeekRelative, -1);
  check_key("Shift+RIGHT", K::SeekRelative, 1);
  check_key("Shift+UP", K::SeekRelative, 5);
  check_key("Shift+DOWN", K::SeekRelative, -5);
  check_key("[", K::SpeedMultiply, 1 / 1.1);
  check_key("]", K::SpeedMultiply, 1.1);
  check_key(".", K::FrameStep);
  check_key(",", K::FrameBackStep);
  check_key("f", K::ToggleFullscreen);
  check_key("m", K::ToggleMute);
  check_key("9", K::VolumeAdd, -2);
  check_key("0", K::VolumeAdd, 2);
  check_key("j", K::CycleSub, 1);
  check_key("J", K::CycleSub, -1);
  check_key("#", K::CycleAudio, 1);
  check_key("v", K::ToggleSubVisibility);
  check_key("z", K::SubDelayAdd, -0.1);
  check_key("Z", K::SubDelayAdd, 0.1);
  check_key("i", K::ToggleStats);
  check_key("?", K::ToggleHelp);
  check_key("q", K::Quit);
  check_key("Q", K::QuitWatchLater);
  check_key("<", K::PlaylistPrev);
  check_key(">", K::PlaylistNext);
  check_key("F8", K::ToggleFilePicker);
  check_key("ESC", K::ExitFullscreen);
  check_key("WHEEL_UP", K::VolumeAdd, 2);
  check_key("WHEEL_RIGHT", K::SeekRelative, 10);
  check_key("x", K::SubDelayAdd, 0.1);
  CHECK_FALSE(command_for_key("y").has_value());
  CHECK_FALSE(command_for_key("Ctrl+q").has_value());
  CHECK(key_help().size() >= 10);
}

TEST_CASE("SDL key events are named like mpv; printing keys are left to text input") {
  CHECK(key_name(SDLK_LEFT, KMOD_NONE) == "LEFT");
  CHECK(key_name(SDLK_RIGHT, KMOD_LSHIFT) == "Shift+RIGHT");
  CHECK(key_name(SDLK_UP, KMOD_RSHIFT) == "Shift+UP");
  CHECK(key_name(SDLK_SPACE, KMOD_NONE) == "SPACE");
  CHECK(key_name(SDLK_ESCAPE, KMOD_NONE) == "ESC");
  CHECK(key_name(SDLK_F8, KMOD_NONE) == "F8");
  CHECK(key_name(SDLK_BACKSPACE, KMOD_NONE) == "BS");
  CHECK(key_name(SDLK_KP_ENTER, KMOD_NONE) == "ENTER");
  CHECK(key_name(SDLK_q, KMOD_NONE).empty());     // arrives as text "q"
  CHECK(key_name(SDLK_3, KMOD_LSHIFT).empty());   // "#" on a US layout: text input
  CHECK(key_name(SDLK_q, KMOD_LCTRL) == "Ctrl+q");
}

TEST_CASE("natural order puts S01E02 before S01E10") {
  CHECK(natural_less("Show.S01E02.mkv", "Show.S01E10.mkv"));
  CHECK_FALSE(natural_less("Show.S01E10.mkv", "Show.S01E02.mkv"));
  CHECK(natural_less("ep2", "ep10"));
  CHECK(natural_less("ep002", "ep10"));
  CHECK(natural_less("Season 1/Ep 9.mkv", "Season 2/Ep 1.mkv"));
  CHECK(natural_less("a.mkv", "B.mkv"));  // case does not decide
  CHECK_FALSE(natural_less("x", "x"));

  const std::vector<std::string> files = {"Show/Show.S01E10.mkv", "Show/Show.S01E02.srt", "Show/Show.S01E02.mkv",
                                          "Show/extras/sample.txt", "Show/Show.S01E01.mkv", "Show/Show.S02E01.mp4"};
  std::vector<int> order = episode_order(files);
  REQUIRE(order.size() == 4);
  CHECK(files[size_t(order[0])] == "Show/Show.S01E01.mkv");
  CHECK(files[size_t(order[1])] == "Show/Show.S01E02.mkv");
  CHECK(files[size_t(order[2])] == "Show/Show.S01E10.mkv");
  CHECK(files[size_t(order[3])] == "Show/Show.S02E01.mp4");
}

TEST_CASE("subtitle files that belong with a video") {
  const std::vector<std::string> files = {
      "S/Show.S01E01.mkv", "S/Show.S01E01.en.srt", "S/Show.S01E01.fr.ass", "S/Show.S01E02.mkv",
      "S/Show.S01E02.srt", "S/Subs/Show.S01E01.de.srt", "S/Subs/Show.S01E02/2_English.srt", "S/notes.srt"};
  std::vector<int> e1 = sibling_subtitles(files, 0);
  std::vector<std::string> names;
  for (int i : e1) names.push_back(files[size_t(i)]);
  CHECK(names == std::vector<std::string>{"S/Show.S01E01.en.srt", "S/Show.S01E01.fr.ass", "S/Subs/Show.S01E01.de.srt"});
  std::vector<int> e2 = sibling_subtitles(files, 3);
  names.clear();
  for (int i : e2) names.push_back(files[size_t(i)]);
  CHECK(names == std::vector<std::string>{"S/Show.S01E02.srt", "S/Subs/Show.S01E02/2_English.srt"});
  // One video: every subtitle file is its.
  CHECK(sibling_subtitles({"Movie/movie.mkv", "Movie/Subs/English.srt", "Movie/other.vtt"}, 0).size() == 2);
  CHECK(is_subtitle_name("a.VTT"));
  CHECK_FALSE(is_video_name("a.srt"));
}

TEST_CASE("watch-later: keys are hex, entries round-trip, the policy") {
  const std::string ih = "0123456789ABCDEF0123456789abcdef01234567";
  CHECK(torrent_key(ih, 3) == "t-0123456789abcdef0123456789abcdef01234567-3");
  std::string odd = torrent_key("../../etc/passwd", 1);  // not a hash: hashed, never used as is
  CHECK(odd.find('/') == std::string::npos);
  CHECK(odd.find('.') == std::string::npos);
  std::string lk = local_file_key("/tmp/some file.mkv");
  CHECK(lk.rfind("f-", 0) == 0);
  CHECK(lk.size() == 34);
  CHECK(lk == local_file_key("/tmp/some file.mkv"));
  CHECK(lk != local_file_key("/tmp/other.mkv"));

  const std::string dir = std::string(VIEWER_TEST_DIR) + "/scratch/watch_later_unit";
  std::filesystem::remove_all(dir);
  WatchLater store(dir + "/nested");
  ResumePoint r;
  CHECK_FALSE(store.load(lk, &r));
  std::string err;
  REQUIRE(store.save(lk, {123.5, 4567, 600}, &err));
  REQUIRE(store.load(lk, &r));
  CHECK(r.position == 123.5);
  CHECK(r.byte_pos == 4567);
  CHECK(r.duration == 600);
  store.forget(lk);
  CHECK_FALSE(store.load(lk, &r));
  CHECK_FALSE(store.save("../evil", {1, 1, 1}, &err));

  ::setenv("XDG_DATA_HOME", "/xdg", 1);
  CHECK(default_watch_later_dir() == "/xdg/cine/watch_later");
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/u", 1);
  CHECK(default_watch_later_dir() == "/home/u/.local/share/cine/watch_later");

  CHECK(resume_action(LeaveReason::QuitWatchLater, 3, 100) == ResumeAction::Save);
  CHECK(resume_action(LeaveReason::Quit, 3, 100) == ResumeAction::Keep);
  CHECK(resume_action(LeaveReason::Quit, 30, 100) == ResumeAction::Save);
  CHECK(resume_action(LeaveReason::Quit, 95, 100) == ResumeAction::Forget);
  CHECK(resume_action(LeaveReason::Switch, 30, 100) == ResumeAction::Save);
  CHECK(resume_action(LeaveReason::Eof, 100, 100) == ResumeAction::Forget);
  CHECK(resume_action(LeaveReason::Limit, 50, 100) == ResumeAction::Keep);
}

TEST_CASE("tempo: speed changes duration, not pitch") {
  const int rate = 48000, ch = 2;
  const double seconds = 3.0, freq = 440;
  std::vector<float> in(size_t(rate * seconds) * ch);
  for (size_t i = 0; i < in.size() / ch; ++i)
    for (int c = 0; c < ch; ++c) in[i * ch + c] = float(0.5 * std::sin(2 * M_PI * freq * double(i) / rate));
  for (double speed : {1.5, 0.5, 2.0}) {
    CAPTURE(speed);
    Tempo t(rate, ch);
    std::vector<float> out;
    double first = NAN;
    for (size_t at = 0; at < in.size(); at += 1024 * ch) {
      size_t n = std::min<size_t>(1024, (in.size() - at) / ch);
      t.push(in.data() + at, n, double(at / ch) / rate);
      double p = t.pull(speed, &out);
      if (std::isnan(first)) first = p;
    }
    CHECK(first == doctest::Approx(0.0));
    const double out_seconds = double(out.size() / ch) / rate;
    CHECK(out_seconds == doctest::Approx(seconds / speed).epsilon(0.06));
    // Zero crossings of the left channel (skip the first window) give the frequency.
    int crossings = 0;
    const size_t skip = rate / 10;
    for (size_t i = skip + 1; i < out.size() / ch; ++i)
      if ((out[(i - 1) * ch] < 0) != (out[i * ch] < 0)) ++crossings;
    const double f = crossings / 2.0 / (double(out.size() / ch - skip - 1) / rate);
    CHECK(f == doctest::Approx(freq).epsilon(0.03));
  }
}
