#include <doctest/doctest.h>

#include "streaming/magnet.h"

using streaming::MagnetInfo;
using streaming::parse_magnet;

TEST_CASE("magnet: v1 hex, base32 and v2 multihash info-hashes") {
  MagnetInfo m;
  std::string err;
  REQUIRE(
      parse_magnet("magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567&dn=My%20Clip.mkv"
                   "&tr=udp%3A%2F%2Ftracker.example%3A1337&x.pe=127.0.0.1:6881",
                   &m, &err));
  CHECK(m.btih == "0123456789abcdef0123456789abcdef01234567");
  CHECK(m.name == "My Clip.mkv");
  CHECK(m.trackers == std::vector<std::string>{"udp://tracker.example:1337"});
  CHECK(m.peers == std::vector<std::string>{"127.0.0.1:6881"});

  // Base32 of 20 zero bytes then 0x01..: "AAAA..." decodes to zeros.
  REQUIRE(parse_magnet("magnet:?xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", &m, &err));
  CHECK(m.btih == "0000000000000000000000000000000000000001");
  REQUIRE(parse_magnet("MAGNET:?xt=urn:btih:7777777777777777777777777777777q", &m, &err));
  CHECK(m.btih == "fffffffffffffffffffffffffffffffffffffff0");

  std::string const v2(64, 'a');
  REQUIRE(parse_magnet("magnet:?xt=urn:btmh:1220" + v2, &m, &err));
  CHECK(m.btmh == v2);
  CHECK(m.btih.empty());
}

TEST_CASE("magnet: garbage info-hashes are refused with one line") {
  MagnetInfo m;
  std::string err;
  CHECK_FALSE(parse_magnet("magnet:?xt=urn:btih:garbage", &m, &err));
  CHECK(err.find("invalid info-hash") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
  CHECK_FALSE(
      parse_magnet("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456", &m, &err));
  CHECK_FALSE(
      parse_magnet("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456g", &m, &err));
  CHECK_FALSE(parse_magnet("magnet:?xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", &m, &err));
  CHECK_FALSE(parse_magnet("magnet:?xt=urn:btmh:1220abcd", &m, &err));
  CHECK(err.find("v2") != std::string::npos);
  CHECK_FALSE(parse_magnet("magnet:?xt=urn:btmh:1120" + std::string(64, 'a'), &m, &err));
  CHECK_FALSE(parse_magnet("magnet:?dn=nothing", &m, &err));
  CHECK(err.find("no info-hash") != std::string::npos);
  CHECK_FALSE(
      parse_magnet("magnet:xt=urn:btih:0123456789abcdef0123456789abcdef01234567", &m, &err));
  CHECK_FALSE(streaming::is_magnet("movie.torrent"));
}
