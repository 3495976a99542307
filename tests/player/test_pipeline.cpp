// Decoding through Cine's ByteSource/AVIO path is bit-identical to plain FFmpeg; playback runs
// at real pace with A/V in sync; stats events come in the contract's order.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "player/decoder.h"
#include "player/queues.h"
#include "player_fixture.h"

using namespace cine_test;

static const char* const kContainers[] = {"moov_end.mp4", "faststart.mp4", "clip.mkv", "clip.webm",
                                          "clip.ts"};

TEST_CASE("decoded frames are bit-identical to a plain avformat_open_input") {
  for (std::string name : kContainers) {
    CAPTURE(name);
    std::string hashes = std::string(CINE_MEDIA_DIR) + "/../hashes_" + name + ".txt";
    player::PlayerOptions o;
    o.no_sync = true;
    o.frame_hash_file = hashes;
    RecordingSink sink;
    RunResult r = run_player(media(name), o, &sink);
    REQUIRE(r.code == 0);
    std::vector<std::string> ours = read_lines(hashes);
    std::vector<std::string> ref = reference_hashes(media(name));
    REQUIRE(ref.size() >= 250);  // 12 s at 25 fps
    CHECK(ours.size() == ref.size());
    CHECK(ours == ref);
    CHECK(r.stats.frames_shown == static_cast<int64_t>(ref.size()));
    std::remove(hashes.c_str());
  }
}

TEST_CASE("video decoding threads: one up to 1080p30, one per core above, and a slow decoder switches") {
  const unsigned cores = 4;
  CHECK(player::video_decode_threads(1920, 1080, 30, cores) == 1);
  CHECK(player::video_decode_threads(1280, 720, 60, cores) == 1);
  CHECK(player::video_decode_threads(1920, 1080, 60, cores) == 4);
  CHECK(player::video_decode_threads(3840, 2160, 24, cores) == 4);
  CHECK(player::video_decode_threads(3840, 2160, 24, 64) == 16);
  CHECK(player::video_decode_threads(0, 0, 25, cores) == 4);  // size unknown: all cores

  // The test clips are small: decoded with one thread. Told that any cost is too slow, the
  // decoder switches to one thread per core at the next keyframe, and no frame changes.
  for (std::string name : {"clip.mkv", "faststart.mp4"}) {
    CAPTURE(name);
    std::string hashes = std::string(CINE_MEDIA_DIR) + "/../hashes_threads_" + name + ".txt";
    std::vector<std::string> ref = reference_hashes(media(name));
    for (double slow : {0.5, 0.0}) {
      CAPTURE(slow);
      player::PlayerOptions o;
      o.no_sync = true;
      o.frame_hash_file = hashes;
      o.decode_slow_fraction = slow;
      RunResult r = run_player(media(name), o, nullptr);
      REQUIRE(r.code == 0);
      const int all = int(std::min(std::max(std::thread::hardware_concurrency(), 1u), 16u));
      CHECK(r.stats.video_threads == (slow > 0 ? 1 : all));
      CHECK(read_lines(hashes) == ref);
      std::remove(hashes.c_str());
    }
  }
}

TEST_CASE("video frame queue: bursts of frames where they fit in 48 MB, one slot at a time where not") {
  player::FrameQueueShape hd = player::video_frame_queue_shape(1920, 1080);
  CHECK(hd.frames == 14);
  CHECK(hd.refill_at == 4);
  player::FrameQueueShape qhd = player::video_frame_queue_shape(2560, 1440);  // 5.5 MB each
  CHECK(qhd.frames == 9);
  CHECK(qhd.refill_at == 4);
  for (auto [w, h] : {std::pair{3840, 2160}, std::pair{0, 0}}) {
    player::FrameQueueShape q = player::video_frame_queue_shape(w, h);
    CHECK(q.frames == 6);
    CHECK(q.refill_at == 5);
  }

  // A producer that found the queue full waits until the refill mark, not for the first free slot.
  player::BoundedQueue<int> q(4, 0);
  q.set_refill_at(1);
  for (int i = 0; i < 4; ++i) REQUIRE(q.push(i, 1));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    q.push(4, 1);
    pushed = true;
  });
  for (int expect = 0; expect < 3; ++expect) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(pushed.load());  // 4, 3, 2 items left: above the mark
    REQUIRE(q.try_pop() == expect);
  }
  for (int i = 0; i < 500 && !pushed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(pushed.load());  // 1 left: the producer went on
  producer.join();
  CHECK(q.count() == 2);
  q.abort();
}

TEST_CASE("events follow the contract: opened, first_frame, progress, eof") {
  player::PlayerOptions o;
  o.no_sync = true;
  RecordingSink sink;
  RunResult r = run_player(media("clip.mkv"), o, &sink);
  REQUIRE(r.code == 0);
  auto ev = sink.events();
  REQUIRE(ev.size() >= 3);
  CHECK(ev.front().name == "opened");
  CHECK(ev.front().fields["video_codec"] == "h264");
  CHECK(ev.front().fields["audio_codec"] == "aac");
  CHECK(ev.front().fields["duration"].get<double>() == doctest::Approx(12.0).epsilon(0.01));
  CHECK(ev[1].name == "first_frame");
  CHECK(ev[1].fields["pos"].get<double>() < kFrame);
  CHECK(ev.back().name == "eof");
}

TEST_CASE("real-time playback: paced, A/V drift under 40 ms over the whole clip") {
  for (std::string name : {"clip.mkv", "clip.webm"}) {
    CAPTURE(name);
    player::PlayerOptions o;
    RecordingSink sink;
    double t0 = player::now_seconds();
    RunResult r = run_player(media(name), o, &sink);
    double wall = player::now_seconds() - t0;
    REQUIRE(r.code == 0);
    CHECK(sink.count("eof") == 1);
    // Real pace: the 12 s clip takes about 12 s (not a timing test: a wide band).
    CHECK(wall > 11.0);
    CHECK(wall < 20.0);
    CHECK(r.stats.av_drift_max < 0.040);
    CHECK(r.stats.frames_shown + r.stats.frames_dropped >= 295);
    CHECK(sink.count("progress") >= 10);
    CHECK(sink.count("stall_begin") == 0);
  }
}

TEST_CASE("--frames and --length stop playback") {
  {
    player::PlayerOptions o;
    o.no_sync = true;
    o.frames = 10;
    RecordingSink sink;
    RunResult r = run_player(media("faststart.mp4"), o, &sink);
    CHECK(r.code == 0);
    CHECK(r.stats.frames_shown == 10);
    CHECK(sink.count("eof") == 0);
  }
  {
    player::PlayerOptions o;
    o.no_sync = true;
    o.length = 2.0;
    RecordingSink sink;
    RunResult r = run_player(media("faststart.mp4"), o, &sink);
    CHECK(r.code == 0);
    CHECK(r.stats.frames_shown >= 49);
    CHECK(r.stats.frames_shown <= 53);
  }
}

TEST_CASE("start position, in seconds and percent") {
  for (std::string name : kContainers) {
    CAPTURE(name);
    player::PlayerOptions o;
    o.no_sync = true;
    o.frames = 2;
    o.start = 6.0;
    RecordingSink sink;
    REQUIRE(run_player(media(name), o, &sink).code == 0);
    auto ff = sink.named("first_frame");
    REQUIRE(ff.size() == 1);
    CHECK(std::fabs(ff[0].fields["pos"].get<double>() - 6.0) <= kFrame);
    CHECK(sink.count("seek_begin") == 0);
  }
  player::PlayerOptions o;
  o.no_sync = true;
  o.frames = 1;
  o.start = 50;
  o.start_is_percent = true;
  RecordingSink sink;
  REQUIRE(run_player(media("clip.mkv"), o, &sink).code == 0);
  auto ff = sink.named("first_frame");
  REQUIRE(ff.size() == 1);
  CHECK(std::fabs(ff[0].fields["pos"].get<double>() - 6.0) <= 2 * kFrame);
}
