// Watch-position resume through `cine play` on a local file: Q remembers, the next run starts
// there, --start overrides, --no-resume-playback ignores, plain quits remember between 10 s and
// 90 %, the end forgets, limits leave it alone. In-process: the remembered position's bytes are
// asked for before the container is opened, and the byte position kept is the keyframe read.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "player/player_fixture.h"
#include "player/watch_later.h"
#include "run_process.h"
#include "viewer_fixture.h"

using namespace viewer_test;
namespace fs = std::filesystem;

namespace {

cine_test::ProcessResult cine(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), CINE_BINARY);
  env.push_back("SDL_AUDIODRIVER=dummy");
  env.push_back("SDL_VIDEODRIVER=dummy");
  return cine_test::run_process(args, 60, env);
}

// The one remembered entry in dir (its position), or -1.
double remembered(const std::string& dir, std::string* name = nullptr) {
  if (!fs::exists(dir)) return -1;
  double pos = -1;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    ++n;
    player::ResumePoint r;
    player::WatchLater store(dir);
    if (store.load(e.path().stem().string(), &r)) pos = r.position;
    if (name) *name = e.path().filename().string();
  }
  return n == 1 ? pos : -1;
}

double first_frame_pos(const std::string& events) {
  auto ff = events_named(read_events(events), "first_frame");
  return ff.size() == 1 ? ff[0]["pos"].get<double>() : -1;
}

// Wraps a ByteSource and records the calls the player makes ("prefetch P L", "read P").
class RecordingSource : public streaming::ByteSource {
 public:
  explicit RecordingSource(streaming::ByteSource* s) : s_(s) {}
  int64_t read(uint8_t* buf, size_t len) override {
    log("read " + std::to_string(s_->position()));
    return s_->read(buf, len);
  }
  bool seek(int64_t pos) override { return s_->seek(pos); }
  int64_t size() const override { return s_->size(); }
  int64_t position() const override { return s_->position(); }
  void cancel() override { s_->cancel(); }
  void resume() override { s_->resume(); }
  void prefetch(int64_t pos, int64_t len) override { log("prefetch " + std::to_string(pos) + " " + std::to_string(len)); }
  std::string describe() const override { return s_->describe(); }
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lk(mu_);
    return calls_;
  }

 private:
  void log(const std::string& s) {
    std::lock_guard<std::mutex> lk(mu_);
    calls_.push_back(s);
  }
  streaming::ByteSource* s_;
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

}  // namespace

TEST_CASE("Q remembers the position; the next play starts there; --start and --no-resume-playback win") {
  const std::string dir = fresh_dir("resume_cli");
  const std::string wl = dir + "/wl";
  const std::string clip = vmedia("resume.mkv");
  const std::vector<std::string> base = {"play", clip, "--vo=null", "--ao=null", "--no-sync", "--quiet",
                                         "--watch-later-directory=" + wl};
  auto run = [&](std::vector<std::string> extra, const std::string& events = "") {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    if (!events.empty()) a.push_back("--stats-json=" + events);
    auto r = cine(a);
    INFO(r.err);
    CHECK(r.code == 0);
    return r;
  };

  run({"--start=12", "--key-at=14,Q"});
  std::string name;
  CHECK(remembered(wl, &name) == doctest::Approx(14.0).epsilon(0.005));
  CHECK(name.rfind("f-", 0) == 0);  // keyed by a hash of the path, never by the name
  CHECK(name.find("resume") == std::string::npos);

  run({"--frames=1"}, dir + "/e2.jsonl");
  const double resumed = first_frame_pos(dir + "/e2.jsonl");
  CHECK(resumed >= 14.0 - 0.001);
  CHECK(resumed <= 14.0 + 0.05);
  CHECK(events_named(read_events(dir + "/e2.jsonl"), "seek_begin").empty());

  run({"--frames=1", "--start=3"}, dir + "/e3.jsonl");
  CHECK(first_frame_pos(dir + "/e3.jsonl") == doctest::Approx(3.0).epsilon(0.02));
  run({"--frames=1", "--no-resume-playback"}, dir + "/e4.jsonl");
  CHECK(first_frame_pos(dir + "/e4.jsonl") < 0.05);

  // A plain quit (q) past 10 s remembers; before 10 s leaves the entry; limits leave it.
  run({"--start=20", "--key-at=21,q"});
  CHECK(remembered(wl) == doctest::Approx(21.0).epsilon(0.005));
  run({"--start=2", "--key-at=3,q"});
  CHECK(remembered(wl) == doctest::Approx(21.0).epsilon(0.005));
  run({"--start=25", "--length=1"});
  CHECK(remembered(wl) == doctest::Approx(21.0).epsilon(0.005));
  // Past 90 % a quit forgets; so does the end of the file.
  run({"--start=37", "--key-at=37.5,q"});
  CHECK(remembered(wl) == -1);
  run({"--start=12", "--key-at=14,Q"});
  CHECK(remembered(wl) > 0);
  run({"--start=38"});
  CHECK(remembered(wl) == -1);
}

TEST_CASE("the default folder is $XDG_DATA_HOME/cine/watch_later") {
  const std::string dir = fresh_dir("resume_xdg");
  auto r = cine({"play", vmedia("resume.mkv"), "--vo=null", "--ao=null", "--no-sync", "--quiet", "--start=15",
                 "--key-at=16,Q"},
                {"XDG_DATA_HOME=" + dir});
  CHECK(r.code == 0);
  CHECK(remembered(dir + "/cine/watch_later") == doctest::Approx(16.0).epsilon(0.005));
}

TEST_CASE("the remembered keyframe's bytes are asked for before the container is opened") {
  std::string err;
  auto file = streaming::FileSource::open(vmedia("resume.mkv"), &err);
  REQUIRE(file);
  const int64_t size = file->size();

  // First run: Q at 20 s; the player reports the keyframe it would read from.
  player::Player::Leave left;
  {
    RecordingSource rec(file.get());
    player::PlayerOptions o;
    o.video_window = o.audio_device = false;
    o.no_sync = true;
    o.quiet = true;
    o.start = 19.5;
    o.keys_at = {{20.0, "Q"}};
    cine_test::RecordingSink sink;
    player::Player p(&rec, o, &sink);
    p.on_leave = [&](const player::Player::Leave& l) { left = l; };
    REQUIRE(p.run(&err) == 0);
  }
  CHECK(left.reason == player::LeaveReason::QuitWatchLater);
  CHECK(left.position == doctest::Approx(20.0).epsilon(0.005));
  CHECK(left.duration == doctest::Approx(40.0).epsilon(0.01));
  REQUIRE(left.byte_pos > 0);
  CHECK(std::fabs(double(left.byte_pos) / double(size) - 0.5) < 0.1);  // about half-way in bytes

  // Second run from there: the prefetch comes first, and the demuxer reads from that keyframe.
  REQUIRE(file->seek(0));
  file->resume();  // quitting cancelled the source's reads
  RecordingSource rec(file.get());
  player::PlayerOptions o;
  o.video_window = o.audio_device = false;
  o.no_sync = true;
  o.quiet = true;
  o.frames = 1;
  o.start = left.position;
  o.prefetch_pos = left.byte_pos;
  o.prefetch_len = 1 << 20;
  cine_test::RecordingSink sink;
  player::Player p(&rec, o, &sink);
  REQUIRE_MESSAGE(p.run(&err) == 0, err);
  std::vector<std::string> calls = rec.calls();
  REQUIRE(!calls.empty());
  CHECK(calls[0] == "prefetch " + std::to_string(left.byte_pos) + " 1048576");
  bool read_there = false;
  for (const auto& c : calls) read_there |= c == "read " + std::to_string(left.byte_pos);
  CHECK(read_there);
  // The start seek withdraws the hint (an empty range) once it has gone there: reads (the
  // header, the Cues) before it, the keyframe's after it.
  auto const withdraw = std::find(calls.begin(), calls.end(), "prefetch 0 0");
  REQUIRE(withdraw != calls.end());
  auto const is_read = [](const std::string& c) { return c.rfind("read ", 0) == 0; };
  CHECK(std::count_if(calls.begin(), withdraw, is_read) > 0);
  CHECK(std::find(withdraw, calls.end(), "read " + std::to_string(left.byte_pos)) != calls.end());
  auto ff = sink.named("first_frame");
  REQUIRE(ff.size() == 1);
  CHECK(ff[0].fields["pos"].get<double>() == doctest::Approx(20.0).epsilon(0.003));
}
