// Command-line parsing: every contract flag, bad values rejected with one line.
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

TEST_CASE("play options of the contract") {
  cine::Options o;
  std::string err;
  REQUIRE(parse({"play", "x.torrent", "--file=2", "--start=1:30", "--seek-at=0,10",
                 "--seek-at=12.5,3", "--frames=100", "--length=20", "--vo=null", "--ao=null",
                 "--stats-json=s.json", "--save-path=/tmp/d", "--peer=127.0.0.1:6881",
                 "--peer=[::1]:7000", "--listen=7001", "--no-dht", "--no-lsd", "--no-upnp",
                 "--no-natpmp", "--max-download=1.5M", "--max-upload=800k", "--no-seed"},
                &o, &err));
  CHECK(o.command == "play");
  CHECK(o.source == "x.torrent");
  CHECK(o.file == "2");
  CHECK(o.start == 90);
  REQUIRE(o.seek_at.size() == 2);
  CHECK(o.seek_at[1].at == 12.5);
  CHECK(o.seek_at[1].target == 3);
  CHECK(o.frames == 100);
  CHECK(o.length == 20);
  CHECK(o.vo == "null");
  CHECK(o.ao == "null");
  CHECK(o.peers.size() == 2);
  CHECK(o.listen_port == 7001);
  CHECK_FALSE(o.dht);
  CHECK_FALSE(o.lsd);
  CHECK_FALSE(o.upnp);
  CHECK_FALSE(o.natpmp);
  CHECK(o.max_download == 1572864);
  CHECK(o.max_upload == 819200);
  CHECK_FALSE(o.seed);
}

TEST_CASE("percent start and create options") {
  cine::Options o;
  std::string err;
  REQUIRE(parse({"play", "a.mkv", "--start=70%"}, &o, &err));
  CHECK(o.start_is_percent);
  CHECK(o.start == 70);
  CHECK(o.hr_seek);
  REQUIRE(parse({"play", "a.mkv", "--hr-seek=no"}, &o, &err));
  CHECK_FALSE(o.hr_seek);
  cine::Options c;
  REQUIRE(parse({"create", "dir", "-o", "out.torrent", "--tracker=http://127.0.0.1:6969/announce",
                 "--piece-size=262144"}, &c, &err));
  CHECK(c.output == "out.torrent");
  CHECK(c.piece_size == 262144);
  CHECK(c.trackers.size() == 1);
}

TEST_CASE("bad values are rejected with a message") {
  const std::vector<std::vector<std::string>> bad = {
      {"play", "a", "--start=150%"}, {"play", "a", "--frames=-1"},  {"play", "a", "--listen=70000"},
      {"play", "a", "--max-upload=fast"}, {"play", "a", "--seek-at=1,"}, {"play", "a", "--no-dht=1"},
      {"create", "d", "-o", "x", "--piece-size=1000"}, {"play", "a", "--peer=host:0"},
      {"play", "a", "--hr-seek=maybe"},
  };
  for (const auto& args : bad) {
    cine::Options o;
    std::string err;
    CHECK_FALSE(parse(args, &o, &err));
    CHECK_FALSE(err.empty());
    CHECK(err.find('\n') == std::string::npos);
  }
}

TEST_CASE("rates") {
  int64_t v = 0;
  CHECK(cine::parse_rate("1000", &v));
  CHECK(v == 1000);
  CHECK(cine::parse_rate("2M", &v));
  CHECK(v == 2 * 1024 * 1024);
  CHECK_FALSE(cine::parse_rate("", &v));
  CHECK_FALSE(cine::parse_rate("-5", &v));
  CHECK_FALSE(cine::parse_rate("1x", &v));
}

TEST_CASE("discovery, seeding-limit, log and web-seed options") {
  cine::Options o;
  std::string err;
  REQUIRE(parse(
      {"seed", "x.torrent", "--seed-ratio=1.5", "--seed-time=30m", "--dht-bootstrap=127.0.0.1:6881",
       "--dht-bootstrap=[::1]:7000", "--log-file=/tmp/cine.log"},
      &o, &err));
  CHECK(o.seed_ratio == 1.5);
  CHECK(o.seed_time == 1800);
  CHECK(o.dht_bootstrap == std::vector<std::string>{"127.0.0.1:6881", "[::1]:7000"});
  CHECK(o.log_file == "/tmp/cine.log");
  o = {};
  REQUIRE(parse({"create", "d", "-o", "d.torrent", "--web-seed=http://127.0.0.1:8000/d/",
                 "--web-seed=https://example.org/d/"},
                &o, &err));
  CHECK(o.web_seeds.size() == 2);

  double d = 0;
  CHECK((cine::parse_duration("90", &d) && d == 90));
  CHECK((cine::parse_duration("2h", &d) && d == 7200));
  CHECK((cine::parse_duration("1.5d", &d) && d == 129600));
  CHECK((cine::parse_duration("3s", &d) && d == 3));
  CHECK_FALSE(cine::parse_duration("", &d));
  CHECK_FALSE(cine::parse_duration("-3", &d));
  CHECK_FALSE(cine::parse_duration("3x", &d));

  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"seed", "x", "--seed-ratio=-1"},
           {"seed", "x", "--seed-ratio=abc"},
           {"seed", "x", "--seed-time=soon"},
           {"play", "x", "--dht-bootstrap=nohost"},
           {"play", "x", "--dht-bootstrap=a:1,b:2"},
           {"play", "x", "--log-file="},
           {"create", "d", "-o", "d.torrent", "--web-seed=ftp://x/"}}) {
    CAPTURE(bad.back());
    o = {};
    CHECK_FALSE(parse(bad, &o, &err));
    CHECK(err.find("invalid --") == 0);
  }
}
