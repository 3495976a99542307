// The viewer's play options: subtitles, tracks, speed, resume, scripted keys.
#include <doctest/doctest.h>

#include "src/cli.h"

namespace {
bool parse(std::vector<std::string> args, cine::Options* o, std::string* err) {
  args.insert(args.begin(), "cine");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return cine::parse_cli(static_cast<int>(argv.size()), argv.data(), o, err);
}
}  // namespace

TEST_CASE("viewer options parse") {
  cine::Options o;
  std::string err;
  REQUIRE(parse({"play", "x.mkv", "--sub=a.srt", "--sub=b.ass", "--sid=2", "--aid=no", "--speed=1.5",
                 "--no-resume-playback", "--key-at=3,Q", "--key-at=1.5,Shift+LEFT",
                 "--watch-later-directory=/tmp/wl"},
                &o, &err));
  CHECK(o.subs == std::vector<std::string>{"a.srt", "b.ass"});
  CHECK(o.sid == 2);
  CHECK(o.aid == -1);
  CHECK(o.speed == 1.5);
  CHECK_FALSE(o.resume_playback);
  REQUIRE(o.keys_at.size() == 2);
  CHECK(o.keys_at[0].first == 3);
  CHECK(o.keys_at[0].second == "Q");
  CHECK(o.keys_at[1].second == "Shift+LEFT");
  CHECK(o.watch_later_dir == "/tmp/wl");
  CHECK_FALSE(o.start_set);

  cine::Options d;
  REQUIRE(parse({"play", "x.mkv", "--sid=auto", "--aid=1", "--start=0"}, &d, &err));
  CHECK(d.sid == 0);
  CHECK(d.aid == 1);
  CHECK(d.speed == 1.0);
  CHECK(d.resume_playback);
  CHECK(d.start_set);  // an explicit --start, even 0, overrides a remembered position
}

TEST_CASE("bad viewer option values are one-line errors") {
  const std::vector<std::vector<std::string>> bad = {
      {"play", "x", "--sid=0"},        {"play", "x", "--sid=-3"},     {"play", "x", "--aid=first"},
      {"play", "x", "--speed=0"},      {"play", "x", "--speed=10"},   {"play", "x", "--key-at=3"},
      {"play", "x", "--key-at=x,q"},   {"play", "x", "--sub"},        {"play", "x", "--no-resume-playback=1"},
      {"play", "x", "--watch-later-directory="},
  };
  for (const auto& args : bad) {
    CAPTURE(args.back());
    cine::Options o;
    std::string err;
    CHECK_FALSE(parse(args, &o, &err));
    CHECK_FALSE(err.empty());
    CHECK(err.find('\n') == std::string::npos);
  }
}
