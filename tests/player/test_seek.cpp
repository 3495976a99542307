// Exact seeks land on the right frame in every container; seek storms, seeks during seeks and
// seeks at EOF never deadlock.
#include <random>

#include "player_fixture.h"

using namespace cine_test;

static const char* const kContainers[] = {"moov_end.mp4", "faststart.mp4", "clip.mkv", "clip.webm",
                                          "clip.ts"};

TEST_CASE("seek-at lands within one frame of the target, forward and backward") {
  for (std::string name : kContainers) {
    CAPTURE(name);
    player::PlayerOptions o;
    o.no_sync = true;
    // Forward past several keyframes, then backward, then to a time between two frames.
    o.seek_at = {{0, 7.3}, {7.6, 2.5}, {2.7, 9.02}};
    o.frames = 40;
    RecordingSink sink;
    RunResult r = run_player(media(name), o, &sink);
    REQUIRE(r.code == 0);
    auto begins = sink.named("seek_begin");
    auto dones = sink.named("seek_done");
    REQUIRE(begins.size() == 3);
    REQUIRE(dones.size() == 3);
    const double targets[] = {7.3, 2.5, 9.02};
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      CHECK(begins[i].fields["target"].get<double>() == doctest::Approx(targets[i]));
      double pos = dones[i].fields["pos"].get<double>();
      CHECK(pos >= targets[i] - 0.002);  // the first frame at or after the target
      CHECK(pos <= targets[i] + kFrame + 0.002);
    }
  }
}

TEST_CASE("50 random seeks in a row, many issued during another seek, end without deadlock") {
  for (std::string name : {"clip.mkv", "moov_end.mp4", "clip.ts"}) {
    CAPTURE(name);
    player::PlayerOptions o;  // real pace, so the player is still running when seeks arrive
    RecordingSink sink;
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> where(0.0, 11.5);
    std::uniform_int_distribution<int> gap_ms(0, 25);
    double last_target = 0;
    RunResult r = run_player(media(name), o, &sink, [&](player::Player& p) {
      while (sink.count("first_frame") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      for (int i = 0; i < 50; ++i) {
        last_target = where(rng);
        p.post({player::Player::Command::Kind::SeekAbsolute, last_target});
        std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(rng)));
      }
      // The last seek must complete: wait for a seek_done at the last target.
      double deadline = player::now_seconds() + 10;
      bool done = false;
      while (!done && player::now_seconds() < deadline) {
        for (auto& e : sink.named("seek_done"))
          if (std::fabs(e.fields["pos"].get<double>() - last_target) <= kFrame + 0.002) done = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      CHECK(done);
      if (!done) {
        for (auto& e : sink.events())
          if (e.name != "progress") MESSAGE(e.name << " " << e.fields.dump());
        MESSAGE("last target " << last_target);
      }
      p.post({player::Player::Command::Kind::Quit, 0});
    });
    CHECK(r.code == 0);
    CHECK(sink.count("seek_begin") == 50);
    CHECK(sink.count("seek_done") >= 1);
  }
}

TEST_CASE("seeking after the demuxer reached the end, and pausing, still work") {
  player::PlayerOptions o;
  RecordingSink sink;
  RunResult r = run_player(media("clip.mkv"), o, &sink, [&](player::Player& p) {
    while (sink.count("first_frame") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Near the end: the read thread hits EOF while the last second plays.
    p.post({player::Player::Command::Kind::SeekAbsolute, 11.0});
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    p.post({player::Player::Command::Kind::SetPause, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    p.post({player::Player::Command::Kind::SeekAbsolute, 3.0});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    p.post({player::Player::Command::Kind::SetPause, 0});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    p.post({player::Player::Command::Kind::Quit, 0});
  });
  CHECK(r.code == 0);
  auto dones = sink.named("seek_done");
  REQUIRE(dones.size() == 2);
  CHECK(std::fabs(dones[0].fields["pos"].get<double>() - 11.0) <= kFrame + 0.002);
  // A seek while paused still shows its first frame at once.
  CHECK(std::fabs(dones[1].fields["pos"].get<double>() - 3.0) <= kFrame + 0.002);
  CHECK(sink.count("eof") == 0);
}
