// Exact seeks land on the right frame in every container; seek storms, seeks during seeks and
// seeks at EOF never deadlock.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

TEST_CASE("with exact seeks off (--hr-seek=no), a seek shows the keyframe at or before the target") {
  for (std::string name : kContainers) {
    CAPTURE(name);
    player::PlayerOptions o;
    o.no_sync = true;
    o.exact_seeks = false;
    o.seek_at = {{0, 7.5}, {7.9, 2.5}};
    o.frames = 30;
    RecordingSink sink;
    RunResult r = run_player(media(name), o, &sink);
    REQUIRE(r.code == 0);
    auto dones = sink.named("seek_done");
    REQUIRE(dones.size() == 2);
    const double targets[] = {7.5, 2.5};
    for (int i = 0; i < 2; ++i) {
      CAPTURE(i);
      double pos = dones[i].fields["pos"].get<double>();
      if (name == "clip.ts") {  // no index: exact all the same
        CHECK(pos >= targets[i] - 0.002);
        CHECK(pos <= targets[i] + kFrame + 0.002);
      } else {  // a keyframe every second: the one before the target, not the frame at it
        CHECK(pos <= targets[i] - 2 * kFrame);
        CHECK(pos >= targets[i] - 1.0 - kFrame);
      }
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

// The first video packet the demuxer delivers after a seek to `target` in `name` (seconds).
static double first_video_pts_after_seek(const std::string& name, double target) {
  std::string error;
  auto src = streaming::FileSource::open(media(name), &error);
  REQUIRE(src);
  player::Demuxer dm(src.get());
  REQUIRE(dm.open(&error));
  player::PacketQueue vq(600, 24u << 20), aq(1200, 4u << 20);
  dm.start(&vq, &aq);
  dm.request_seek(target, 1);
  double pts = NAN;
  while (std::isnan(pts)) {
    auto item = vq.pop(std::chrono::milliseconds(5000));
    REQUIRE(item);
    if (item->serial != 1 || item->kind != player::PacketItem::Kind::Data) continue;
    AVStream* st = dm.format()->streams[dm.video_stream()];
    pts = item->pkt->pts * av_q2d(st->time_base) - dm.start_offset();
  }
  dm.stop();
  return pts;
}

TEST_CASE("an exact seek just before a keyframe reads from that keyframe, not the one before") {
  // clip.mkv: 25 fps, a keyframe every second (at 1.021, 2.021, ... in the file's time).
  const double k3 = first_video_pts_after_seek("clip.mkv", 3.03);  // reads from the keyframe <= 3.03
  CHECK(k3 <= 3.03);
  // 5 ms before the next keyframe: the first frame at or after the target IS that keyframe.
  CHECK(first_video_pts_after_seek("clip.mkv", k3 + 1.0 - 0.005) == doctest::Approx(k3 + 1.0));
  // Two frames before it: the frame before the keyframe is the one to show; decode from k3.
  CHECK(first_video_pts_after_seek("clip.mkv", k3 + 1.0 - 0.08) == doctest::Approx(k3));
  // MP4's index holds decode times: no shortcut there, the seek lands on the keyframe before.
  const double m3 = first_video_pts_after_seek("faststart.mp4", 3.03);
  CHECK(first_video_pts_after_seek("faststart.mp4", m3 + 1.0 - 0.005) <= m3 + 1.0 - 0.005);
}

// The hash line ("ms checksum") of the frame at `ms` in a decoded run's hash file.
static std::string hash_at(const std::string& file, long long ms) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (std::stoll(line.substr(0, line.find(' '))) == ms) return line;
  return "";
}

TEST_CASE("the shortcut shows the same picture as playing up to it") {
  const double k = first_video_pts_after_seek("clip.mkv", 6.03) + 1.0;
  const std::string dir = std::string(CINE_MEDIA_DIR) + "/../keyframe_shortcut";
  std::filesystem::create_directories(dir);
  player::PlayerOptions o;
  o.no_sync = true;
  o.seek_at = {{0, k - 0.005}};
  o.frames = 3;
  o.frame_hash_file = dir + "/seek.txt";
  RecordingSink sink;
  REQUIRE(run_player(media("clip.mkv"), o, &sink).code == 0);
  auto dones = sink.named("seek_done");
  REQUIRE(dones.size() == 1);
  CHECK(dones[0].fields["pos"].get<double>() == doctest::Approx(k).epsilon(0.0001));
  player::PlayerOptions all;
  all.no_sync = true;
  all.frame_hash_file = dir + "/all.txt";
  RecordingSink sink2;
  REQUIRE(run_player(media("clip.mkv"), all, &sink2).code == 0);
  const long long ms = std::llround(k * 1000);
  const std::string want = hash_at(all.frame_hash_file, ms);
  REQUIRE(!want.empty());
  CHECK(hash_at(o.frame_hash_file, ms) == want);
}

TEST_CASE("a keyframe seek shows the keyframe ahead of the decoder's reordering, then every picture once, in order") {
  // H.264 with B-frames: the keyframe after a seek is decoded on its own and shown first
  // (VideoDecoder::on_first_packet); the codec context decodes it again and its copy is dropped.
  // The pictures must be exactly those a plain decode of the file gives, from that keyframe on.
  for (std::string name : {"moov_end.mp4", "faststart.mp4", "clip.mkv"}) {
    CAPTURE(name);
    const std::vector<std::string> ref = reference_hashes(media(name));
    REQUIRE(ref.size() >= 250);
    const std::string hashes = std::string(CINE_MEDIA_DIR) + "/../keyframe_seek_" + name + ".txt";
    player::PlayerOptions o;
    o.no_sync = true;
    o.exact_seeks = false;
    o.seek_at = {{0, 7.5}};
    o.frames = 24;
    o.frame_hash_file = hashes;
    RecordingSink sink;
    REQUIRE(run_player(media(name), o, &sink).code == 0);
    auto dones = sink.named("seek_done");
    REQUIRE(dones.size() == 1);
    const long long first_ms = std::llround(dones[0].fields["pos"].get<double>() * 1000);
    std::vector<std::string> after;
    for (const std::string& l : read_lines(hashes))
      if (std::stoll(l.substr(0, l.find(' '))) >= first_ms) after.push_back(l);
    REQUIRE(after.size() >= 10);
    auto at = std::find(ref.begin(), ref.end(), after[0]);
    REQUIRE(at != ref.end());  // the keyframe's picture, bit-identical
    for (size_t i = 0; i < after.size(); ++i) {
      CAPTURE(i);
      REQUIRE(at + long(i) != ref.end());
      CHECK(after[i] == *(at + long(i)));  // no picture twice, none missing, none out of order
    }
    std::remove(hashes.c_str());
  }
}

TEST_CASE("with a pre-roll the first picture shows at once and `playing` follows, after seeks too") {
  player::PlayerOptions o;
  o.cache_initial = 1.0;
  o.seek_at = {{0.5, 6.0}};
  o.length = 1.5;
  RecordingSink sink;
  REQUIRE(run_player(media("clip.mkv"), o, &sink).code == 0);
  std::vector<std::string> names;
  for (auto& e : sink.events())
    if (e.name != "progress") names.push_back(e.name);
  const std::vector<std::string> want = {"opened", "first_frame", "playing", "seek_begin",
                                         "seek_done", "playing"};
  std::vector<std::string> got;
  for (auto& n : names)
    if (std::find(want.begin(), want.end(), n) != want.end()) got.push_back(n);
  std::string seen;
  for (auto& n : got) seen += n + " ";
  CAPTURE(seen);
  CHECK(got == want);
  auto playing = sink.named("playing");
  REQUIRE(playing.size() == 2);
  CHECK(playing[1].fields["pos"].get<double>() == doctest::Approx(6.0).epsilon(0.01));
}

namespace {
// A file source that counts the bytes read through it.
class CountingSource : public streaming::ByteSource {
 public:
  explicit CountingSource(std::unique_ptr<streaming::FileSource> f) : f_(std::move(f)) {}
  int64_t read(uint8_t* buf, size_t len) override {
    int64_t const n = f_->read(buf, len);
    if (n > 0) bytes += n;
    return n;
  }
  bool seek(int64_t pos) override { return f_->seek(pos); }
  int64_t size() const override { return f_->size(); }
  int64_t position() const override { return f_->position(); }
  void cancel() override { f_->cancel(); }
  void resume() override { f_->resume(); }
  std::string describe() const override { return f_->describe(); }
  int64_t bytes = 0;

 private:
  std::unique_ptr<streaming::FileSource> f_;
};
}  // namespace

TEST_CASE("WebM with Opus opens from its header alone, with the start time the probe finds") {
  // The reference: libavformat's own probe (avformat_find_stream_info) on the same file.
  AVFormatContext* ref = nullptr;
  REQUIRE(avformat_open_input(&ref, media("clip.webm").c_str(), nullptr, nullptr) == 0);
  REQUIRE(avformat_find_stream_info(ref, nullptr) >= 0);
  REQUIRE(ref->start_time != AV_NOPTS_VALUE);
  CHECK(ref->start_time < 0);  // Opus pre-skip: the audio starts before 0
  const double ref_start = ref->start_time / double(AV_TIME_BASE);
  avformat_close_input(&ref);

  std::string error;
  auto file = streaming::FileSource::open(media("clip.webm"), &error);
  REQUIRE(file);
  const int64_t size = file->size();
  CountingSource src(std::move(file));
  player::Demuxer dm(&src);
  REQUIRE(dm.open(&error));
  CHECK(std::abs(dm.start_offset() - ref_start) < 1e-9);
  MESSAGE("bytes read to open clip.webm: " << src.bytes << " of " << size);
  // Nothing was decoded to open it: the picture format comes with the first frame. (The probe
  // decodes frames of every stream first: on the benchmark's 720p WebM it read 550 KB to open
  // the file, against 64 KB now; on this small clip both fit in the first reads.)
  REQUIRE(dm.video_stream() >= 0);
  CHECK(dm.format()->streams[dm.video_stream()]->codecpar->format == AV_PIX_FMT_NONE);
}
