// Subtitles (embedded SRT, ASS, mov_text; external SRT, WebVTT, ASS files), subtitle selection
// and delay, audio track selection and switching, and playback speed, on generated media with
// the player headless. What is shown is read back through Player::properties() and the decoded
// audio through the audio tap.
#include <doctest/doctest.h>

#include <cmath>
#include <deque>
#include <mutex>

#include "player/player_fixture.h"
#include "player/subtitles.h"
#include "viewer_fixture.h"

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string s = "{";
    for (const auto& x : v) s += (s.size() > 1 ? ", \"" : "\"") + x + "\"";
    return (s + "}").c_str();
  }
};
}  // namespace doctest

using namespace cine_test;
using viewer_test::vmedia;

namespace {

using Lines = std::vector<std::string>;

player::Player::Properties wait_props(player::Player& p, const std::function<bool(const player::Player::Properties&)>& ok,
                                      double timeout = 4.0) {
  const double until = player::now_seconds() + timeout;
  player::Player::Properties pr = p.properties();
  while (!ok(pr) && player::now_seconds() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pr = p.properties();
  }
  return pr;
}

void wait_first_frame(RecordingSink& sink) {
  const double until = player::now_seconds() + 10;
  while (sink.count("first_frame") == 0 && player::now_seconds() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// Paused, seeks to t and returns the subtitle lines shown there once they stop changing.
Lines lines_at(player::Player& p, double t, const Lines& expect) {
  p.post({player::Command::Kind::SeekAbsolute, t});
  auto pr = wait_props(p, [&](const player::Player::Properties& x) {
    return !x.seeking && std::fabs(x.time_pos - t) < 0.05 && x.sub_text == expect;
  });
  return pr.sub_text;
}

// Zero crossings of the first channel over the latest samples the tap saw.
class FreqMeter {
 public:
  void add(const float* s, size_t frames, int channels, int rate) {
    std::lock_guard<std::mutex> lk(mu_);
    rate_ = rate;
    for (size_t i = 0; i < frames; ++i) buf_.push_back(s[i * size_t(channels)]);
    while (buf_.size() > size_t(rate) / 4) buf_.pop_front();
  }
  double hz() const {
    std::lock_guard<std::mutex> lk(mu_);
    if (buf_.size() < 1000 || rate_ <= 0) return 0;
    int crossings = 0;
    for (size_t i = 1; i < buf_.size(); ++i)
      if ((buf_[i - 1] < 0) != (buf_[i] < 0)) ++crossings;
    return crossings / 2.0 / (double(buf_.size()) / rate_);
  }

 private:
  mutable std::mutex mu_;
  std::deque<float> buf_;
  int rate_ = 0;
};

}  // namespace

TEST_CASE("embedded SRT: off by default (no default flag), --sid=1 shows each line at its time") {
  {
    player::PlayerOptions o;
    RecordingSink sink;
    run_player(vmedia("sub_srt.mkv"), o, &sink, [&](player::Player& p) {
      wait_first_frame(sink);
      p.post({player::Command::Kind::SetPause, 1});
      CHECK(lines_at(p, 1.5, {}).empty());
      auto pr = p.properties();
      CHECK(pr.sid == 0);
      int subs = 0;
      for (auto& t : pr.tracks) subs += t.type == "sub";
      CHECK(subs == 1);
      p.post({player::Command::Kind::Quit, 0});
    });
  }
  player::PlayerOptions o;
  o.sid = 1;
  RecordingSink sink;
  RunResult r = run_player(vmedia("sub_srt.mkv"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    p.post({player::Command::Kind::SetPause, 1});
    CHECK(lines_at(p, 1.5, {"First SRT line"}) == Lines{"First SRT line"});
    CHECK(lines_at(p, 4.5, {"Second SRT line"}) == Lines{"Second SRT line"});  // <i> tags gone
    CHECK(lines_at(p, 7.0, {}).empty());
    CHECK(lines_at(p, 9.0, {"Third SRT line"}) == Lines{"Third SRT line"});
    // Back again: lines read twice are kept once.
    CHECK(lines_at(p, 1.2, {"First SRT line"}) == Lines{"First SRT line"});
    auto pr = p.properties();
    CHECK(pr.sid == 1);
    for (auto& t : pr.tracks)
      if (t.type == "sub") CHECK(t.lang == "eng");
    p.post({player::Command::Kind::Quit, 0});
  });
  CHECK(r.code == 0);
}

TEST_CASE("embedded ASS (default track chosen by itself), cycling through tracks and off") {
  player::PlayerOptions o;
  RecordingSink sink;
  RunResult r = run_player(vmedia("sub_ass.mkv"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    p.post({player::Command::Kind::SetPause, 1});
    const Lines both = {"First ASS line", "Styled top line"};
    CHECK(lines_at(p, 2.5, both) == both);
    CHECK(p.properties().sid == 1);
    p.post({player::Command::Kind::CycleSub, 1});  // j: the French SRT track
    auto pr = wait_props(p, [](auto& x) { return x.sid == 2 && x.sub_text == Lines{"First SRT line"}; });
    CHECK(pr.sid == 2);
    CHECK(pr.sub_text == Lines{"First SRT line"});
    p.post({player::Command::Kind::CycleSub, 1});  // j: off
    pr = wait_props(p, [](auto& x) { return x.sid == 0; });
    CHECK(pr.sid == 0);
    CHECK(pr.sub_text.empty());
    p.post({player::Command::Kind::CycleSub, -1});  // J: back to the last track
    pr = wait_props(p, [](auto& x) { return x.sid == 2; });
    CHECK(pr.sid == 2);
    p.post({player::Command::Kind::SetSubTrack, 1});
    p.post({player::Command::Kind::ToggleSubVisibility, 0});  // v: hidden
    pr = wait_props(p, [](auto& x) { return !x.sub_visibility; });
    CHECK(pr.sub_text.empty());
    p.post({player::Command::Kind::Quit, 0});
  });
  CHECK(r.code == 0);
}

TEST_CASE("mov_text in MP4") {
  player::PlayerOptions o;
  o.sid = 1;
  RecordingSink sink;
  run_player(vmedia("sub_movtext.mp4"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    p.post({player::Command::Kind::SetPause, 1});
    CHECK(lines_at(p, 1.5, {"First SRT line"}) == Lines{"First SRT line"});
    p.post({player::Command::Kind::Quit, 0});
  });
}

TEST_CASE("external subtitle files (--sub): SRT selected first, WebVTT and ASS selectable; delay") {
  player::PlayerOptions o;
  o.subs = {{"subs.srt", vmedia("subs.srt"), ""}, {"subs.vtt", vmedia("subs.vtt"), ""}, {"", vmedia("subs.ass"), ""}};
  RecordingSink sink;
  run_player(vmedia("nosubs.mkv"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    p.post({player::Command::Kind::SetPause, 1});
    CHECK(lines_at(p, 1.5, {"First SRT line"}) == Lines{"First SRT line"});
    auto pr = p.properties();
    CHECK(pr.sid == 1);
    int external = 0;
    for (auto& t : pr.tracks) external += t.type == "sub" && t.external;
    CHECK(external == 3);
    p.post({player::Command::Kind::SetSubTrack, 2});
    pr = wait_props(p, [](auto& x) { return x.sub_text == Lines{"First VTT line"}; });
    CHECK(pr.sub_text == Lines{"First VTT line"});
    p.post({player::Command::Kind::SetSubTrack, 3});
    pr = wait_props(p, [](auto& x) { return x.sid == 3 && !x.sub_text.empty(); });
    CHECK(pr.sub_text == Lines{"First ASS line"});
    // z/Z: +1 s delay shows at 3.5 s what was due at 2.5 s.
    p.post({player::Command::Kind::SetSubTrack, 1});
    for (int i = 0; i < 10; ++i) p.post({player::Command::Kind::SubDelayAdd, 0.1});
    CHECK(lines_at(p, 3.5, {"First SRT line"}) == Lines{"First SRT line"});
    CHECK(p.properties().sub_delay == doctest::Approx(1.0));
    CHECK(lines_at(p, 1.5, {}).empty());
    p.post({player::Command::Kind::Quit, 0});
  });
  // A file that is not there is a warning, not a failure.
  player::PlayerOptions bad;
  bad.subs = {{"", vmedia("missing.srt"), ""}};
  bad.frames = 3;
  bad.no_sync = true;
  RecordingSink sink2;
  CHECK(run_player(vmedia("nosubs.mkv"), bad, &sink2).code == 0);
}

TEST_CASE("subtitles render to pixels where libass puts them") {
  player::SubtitleEngine engine;
  std::string err;
  auto srt = engine.load(vmedia("subs.srt"), "", &err);
  REQUIRE_MESSAGE(srt, err);
  engine.render(srt.get(), 1.5, 640, 480, 320, 240);  // (likely) before the fonts are ready
  engine.wait_ready();
  const player::RgbaImage& img = engine.render(srt.get(), 1.5, 640, 480, 320, 240);
  REQUIRE_FALSE(img.empty());
  CHECK(img.y > 240);  // bottom half, centred
  CHECK(img.x > 80);
  CHECK(img.x + img.w < 560);
  int white = 0;
  for (size_t i = 0; i + 3 < img.pixels.size(); i += 4)
    if (img.pixels[i] > 230 && img.pixels[i + 1] > 230 && img.pixels[i + 2] > 230 && img.pixels[i + 3] > 200) ++white;
  CHECK(white > 100);
  const uint64_t gen = img.generation;
  CHECK(engine.render(srt.get(), 1.6, 640, 480, 320, 240).generation == gen);  // unchanged picture
  CHECK(engine.render(srt.get(), 3.5, 640, 480, 320, 240).empty());

  // ASS styles: the "Top" style is drawn in the top half, in yellow.
  auto ass = engine.load(vmedia("subs.ass"), "", &err);
  REQUIRE(ass);
  const player::RgbaImage& both = engine.render(ass.get(), 2.5, 640, 480, 320, 240);
  REQUIRE_FALSE(both.empty());
  CHECK(both.y < 100);
  CHECK(both.y + both.h > 380);
  int yellow = 0;
  for (size_t i = 0; i + 3 < both.pixels.size(); i += 4)
    if (both.pixels[i] > 220 && both.pixels[i + 1] > 220 && both.pixels[i + 2] < 40 && both.pixels[i + 3] > 200) ++yellow;
  CHECK(yellow > 50);

  // Subtitle data handed over as bytes (a file fetched from a torrent).
  auto mem = engine.load("beside.srt", "1\n00:00:00,500 --> 00:00:02,000\nFrom memory\n", &err);
  REQUIRE(mem);
  CHECK(mem->text_at(1.0) == Lines{"From memory"});
}

TEST_CASE("audio tracks: --aid picks one, # switches mid-playback, --aid=no plays none") {
  {
    FreqMeter m;
    player::PlayerOptions o;
    o.audio_tap = [&](const float* s, size_t n, int ch, int rate) { m.add(s, n, ch, rate); };
    RecordingSink sink;
    run_player(vmedia("two_audio.mkv"), o, &sink, [&](player::Player& p) {
      wait_first_frame(sink);
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      CHECK(m.hz() == doctest::Approx(440).epsilon(0.05));
      auto pr = p.properties();
      CHECK(pr.aid == 1);
      int audio = 0;
      for (auto& t : pr.tracks) audio += t.type == "audio";
      CHECK(audio == 2);
      p.post({player::Command::Kind::CycleAudio, 1});  // '#'
      pr = wait_props(p, [](auto& x) { return x.aid == 2; });
      CHECK(pr.aid == 2);
      std::this_thread::sleep_for(std::chrono::milliseconds(1200));
      CHECK(m.hz() == doctest::Approx(1000).epsilon(0.05));
      const double before = p.properties().time_pos;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      CHECK(p.properties().time_pos > before + 0.3);  // still playing after the switch
      p.post({player::Command::Kind::CycleAudio, 1});  // and back
      pr = wait_props(p, [](auto& x) { return x.aid == 1; });
      CHECK(pr.aid == 1);
      p.post({player::Command::Kind::Quit, 0});
    });
    CHECK(sink.count("seek_begin") == 0);  // a track switch is no user seek
  }
  {
    FreqMeter m;
    player::PlayerOptions o;
    o.aid = 2;
    o.length = 1.5;
    o.audio_tap = [&](const float* s, size_t n, int ch, int rate) { m.add(s, n, ch, rate); };
    RecordingSink sink;
    CHECK(run_player(vmedia("two_audio.mkv"), o, &sink).code == 0);
    CHECK(m.hz() == doctest::Approx(1000).epsilon(0.05));
  }
  {
    player::PlayerOptions o;
    o.aid = -1;
    o.frames = 5;
    o.no_sync = true;
    RecordingSink sink;
    CHECK(run_player(vmedia("two_audio.mkv"), o, &sink).code == 0);
    auto opened = sink.named("opened");
    REQUIRE(opened.size() == 1);
    CHECK(opened[0].fields["audio_codec"].is_null());
  }
}

TEST_CASE("speed: twice as fast, same pitch; [ and ] steps") {
  FreqMeter m;
  player::PlayerOptions o;
  o.speed = 2.0;
  o.audio_tap = [&](const float* s, size_t n, int ch, int rate) { m.add(s, n, ch, rate); };
  RecordingSink sink;
  double hz = 0;
  const double t0 = player::now_seconds();
  RunResult r = run_player(vmedia("nosubs.mkv"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    hz = m.hz();
    CHECK(p.properties().speed == doctest::Approx(2.0));
  });
  const double wall = player::now_seconds() - t0;
  CHECK(r.code == 0);
  CHECK(sink.count("eof") == 1);
  CHECK(wall > 5.0);   // 12 s of media at 2x
  CHECK(wall < 9.0);
  CHECK(hz == doctest::Approx(440).epsilon(0.05));
  CHECK(r.stats.av_drift_max < 0.1);

  player::PlayerOptions o2;
  RecordingSink sink2;
  run_player(vmedia("nosubs.mkv"), o2, &sink2, [&](player::Player& p) {
    wait_first_frame(sink2);
    p.post({player::Command::Kind::SpeedMultiply, 1.1});  // ]
    p.post({player::Command::Kind::SpeedMultiply, 1.1});  // ]
    auto pr = wait_props(p, [](auto& x) { return std::fabs(x.speed - 1.21) < 1e-6; });
    CHECK(pr.speed == doctest::Approx(1.21));
    p.post({player::Command::Kind::SetSpeed, 1.0});  // backspace
    pr = wait_props(p, [](auto& x) { return x.speed == 1.0; });
    CHECK(pr.speed == 1.0);
    p.post({player::Command::Kind::Quit, 0});
  });
}

TEST_CASE("frame step and back step while paused") {
  player::PlayerOptions o;
  RecordingSink sink;
  run_player(vmedia("nosubs.mkv"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    p.post({player::Command::Kind::SetPause, 1});
    p.post({player::Command::Kind::SeekAbsolute, 3.0});
    // The first frame at or after 3 s (this clip's frames sit 21 ms after the 40 ms grid).
    auto pr = wait_props(p, [](auto& x) { return !x.seeking && x.time_pos >= 3.0 && x.time_pos < 3.04; });
    const double t0 = pr.time_pos;
    CHECK(t0 >= 3.0);
    CHECK(t0 < 3.04);
    p.post({player::Command::Kind::FrameStep, 0});  // '.'
    pr = wait_props(p, [&](auto& x) { return std::fabs(x.time_pos - (t0 + 0.04)) < 0.005; });
    CHECK(pr.time_pos == doctest::Approx(t0 + 0.04).epsilon(0.001));
    CHECK(pr.pause);
    p.post({player::Command::Kind::FrameStep, 0});
    pr = wait_props(p, [&](auto& x) { return std::fabs(x.time_pos - (t0 + 0.08)) < 0.005; });
    CHECK(pr.time_pos == doctest::Approx(t0 + 0.08).epsilon(0.001));
    p.post({player::Command::Kind::FrameBackStep, 0});  // ','
    pr = wait_props(p, [&](auto& x) { return !x.seeking && std::fabs(x.time_pos - (t0 + 0.04)) < 0.005; });
    CHECK(pr.time_pos == doctest::Approx(t0 + 0.04).epsilon(0.001));
    CHECK(pr.pause);
    p.post({player::Command::Kind::SetPause, 0});
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    CHECK(p.properties().time_pos > 3.3);
    p.post({player::Command::Kind::Quit, 0});
  });
}

TEST_CASE("a subtitle file that arrives while playing (fetched from the torrent) is shown") {
  player::PlayerOptions o;
  RecordingSink sink;
  run_player(vmedia("nosubs.mkv"), o, &sink, [&](player::Player& p) {
    wait_first_frame(sink);
    p.post({player::Command::Kind::SetPause, 1});
    p.add_subtitle(5, {"other entry.srt", "", "1\n00:00:00,000 --> 00:00:10,000\nWrong file\n"});
    p.add_subtitle(0, {"series/Show.S01E02.srt", "", "1\n00:00:01,000 --> 00:00:06,000\nBeside the video\n"});
    CHECK(lines_at(p, 2.0, {"Beside the video"}) == Lines{"Beside the video"});
    auto pr = p.properties();
    CHECK(pr.sid == 1);
    int subs = 0;
    for (auto& t : pr.tracks) subs += t.type == "sub";
    CHECK(subs == 1);
    p.post({player::Command::Kind::Quit, 0});
  });
}

TEST_CASE("subtitle text that is not UTF-8 is read as Windows-1252") {
  player::SubtitleEngine engine;
  std::string err;
  // "Café à la crème" in Windows-1252 (é = 0xE9, à = 0xE0, è = 0xE8).
  const std::string cp1252 = "1\n00:00:01,000 --> 00:00:03,000\nCaf\xE9 \xE0 la cr\xE8me\n";
  auto t = engine.load("latin.srt", cp1252, &err);
  REQUIRE_MESSAGE(t, err);
  CHECK(t->text_at(2.0) == Lines{"Caf\xC3\xA9 \xC3\xA0 la cr\xC3\xA8me"});
  auto u = engine.load("utf8.srt", "1\n00:00:01,000 --> 00:00:03,000\nCaf\xC3\xA9\n", &err);
  REQUIRE(u);
  CHECK(u->text_at(2.0) == Lines{"Caf\xC3\xA9"});
}
