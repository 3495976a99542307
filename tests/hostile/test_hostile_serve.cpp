// `cine serve` under hostile HTTP: it listens on 127.0.0.1 only by default, refuses foreign Host
// headers (DNS rebinding), path tricks, absurd ranges, huge headers and half-sent requests, and
// keeps serving afterwards. Loopback only.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "hostile_fixture.h"

using namespace hostile;
using namespace std::chrono_literals;

namespace {

struct Child {
  pid_t pid = -1;
  Child(const std::vector<std::string>& args, const std::string& log, const std::string& home) {
    pid = fork();
    if (pid == 0) {
      if (!std::freopen(log.c_str(), "w", stdout)) _exit(126);
      setenv("HOME", home.c_str(), 1);
      std::vector<char*> a;
      for (auto& x : args) a.push_back(const_cast<char*>(x.c_str()));
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
  }
  ~Child() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  bool alive() const { return waitpid(pid, nullptr, WNOHANG) == 0; }
};

std::string wait_match(const std::string& log, const std::string& re) {
  for (int i = 0; i < 600; ++i) {
    std::ifstream in(log);
    std::string const all((std::istreambuf_iterator<char>(in)), {});
    std::smatch m;
    if (std::regex_search(all, m, std::regex(re))) return m[1];
    std::this_thread::sleep_for(50ms);
  }
  return {};
}

std::string http(int port, const std::string& request, bool half_close = false) {
  int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t const n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += size_t(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, size_t(n));
  ::close(fd);
  return resp;
}

// The status code of a response ("" if none).
std::string status_of(const std::string& resp) {
  std::smatch m;
  if (std::regex_search(resp, m, std::regex("^HTTP/1\\.[01] ([0-9]{3})"))) return m[1];
  return "";
}

// True if something listens on TCP `port` on an address other than 127.0.0.1.
bool listens_beyond_loopback(int port) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string sl, local, remote, state;
      ls >> sl >> local >> remote >> state;
      if (state != "0A") continue;  // LISTEN
      if (local.substr(local.find(':') + 1) != hex) continue;
      std::string const addr = local.substr(0, local.find(':'));
      if (addr != "0100007F" && addr != "00000000000000000000000001000000") return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("cine serve: loopback only, Host checked, hostile requests refused, still serving") {
  Sandbox sb("serve");
  fs::create_directories(sb.root / "seed");
  fs::copy_file(fs::path(CINE_MEDIA_DIR) / "clip.mkv", sb.root / "seed" / "clip.mkv");
  std::string const torrent = (sb.root / "clip.torrent").string();
  REQUIRE(run_cine(sb, {"create", (sb.root / "seed" / "clip.mkv").string(), "-o", torrent}).code ==
          0);
  std::string const home = (sb.root / "home").string();
  std::vector<std::string> const lo = {
      "--interface=127.0.0.1", "--no-dht", "--no-lsd", "--no-upnp", "--no-natpmp", "--no-config"};
  std::vector<std::string> seed = {CINE_BINARY, "seed", torrent,
                                   "--save-path=" + (sb.root / "seed").string()};
  seed.insert(seed.end(), lo.begin(), lo.end());
  Child seeder(seed, (sb.root / "seed.log").string(), home);
  std::string const peer =
      wait_match((sb.root / "seed.log").string(), "listening on (127\\.0\\.0\\.1:[0-9]+)");
  REQUIRE(!peer.empty());
  // No --bind: the default must be loopback.
  std::vector<std::string> serve = {
      CINE_BINARY,     "serve", torrent, "--port=0", "--save-path=" + sb.save().string(),
      "--peer=" + peer};
  serve.insert(serve.end(), lo.begin(), lo.end());
  Child server(serve, (sb.root / "serve.log").string(), home);
  std::string const url =
      wait_match((sb.root / "serve.log").string(), "serving .* on (http://\\S+)");
  REQUIRE(!url.empty());
  std::smatch m;
  REQUIRE(std::regex_search(url, m, std::regex("^http://127\\.0\\.0\\.1:([0-9]+)(/\\S+)")));
  int const port = std::stoi(m[1]);
  std::string const path = m[2];
  CHECK_FALSE(listens_beyond_loopback(port));

  std::string const host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  auto get = [&](const std::string& target, const std::string& headers) {
    return http(port, "GET " + target + " HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n");
  };
  // DNS rebinding: foreign names, names that merely start like loopback ones, no Host at all.
  for (const std::string& h :
       {std::string("evil.example"), std::string("127.0.0.1.evil.example"),
        std::string("localhost.evil.example:") + std::to_string(port), std::string("")}) {
    CAPTURE(h);
    std::string const r = get(path, "Host: " + h + "\r\n");
    CHECK(status_of(r).rfind("4", 0) == 0);
    CHECK(r.find("matroska") == std::string::npos);
  }
  // Path tricks never reach a file outside the torrent.
  std::string const hash = path.substr(std::string("/stream/").size(), 40);
  for (const std::string& t :
       {"/stream/" + hash + "/0/../../../../../etc/passwd", "/stream/" + hash + "/-1/x",
        "/stream/" + hash + "/99999/x", "/stream/" + hash + "/0%2F..%2F..%2Fetc%2Fpasswd",
        std::string("/../../etc/passwd"), std::string("/stream/") + std::string(40, 'f') + "/0/x",
        "/stream/" + hash + "/99999999999999999999/x", std::string("//etc/passwd")}) {
    CAPTURE(t);
    std::string const r = get(t, host);
    CHECK(r.find("root:") == std::string::npos);
    std::string const st = status_of(r);
    CHECK((st.empty() || st.rfind("4", 0) == 0 || st == "200"));
    // The name after the index is decoration: a 200 can only be the torrent's own file.
    if (st == "200") CHECK(r.find("Content-Type: video/x-matroska") != std::string::npos);
  }
  // Absurd ranges: 416 or a clean full/partial answer, never a crash.
  for (const std::string& range :
       {std::string("bytes=999999999999-"), std::string("bytes=5-2"), std::string("bytes=-0"),
        std::string("bytes=--5"), std::string("bytes=0-99999999999999999999999"),
        std::string("bytes=0-1,2-3,4-5"), std::string("chars=0-1"), std::string(5000, '9')}) {
    CAPTURE(range.substr(0, 40));
    std::string const st = status_of(get(path, host + "Range: " + range + "\r\n"));
    CHECK((st == "416" || st == "206" || st == "200" || st == "400"));
  }
  // A 1 MiB header, a request line of garbage, a request cut in the middle.
  CHECK(status_of(get(path, host + "X-Big: " + std::string(1 << 20, 'a') + "\r\n")) != "200");
  http(port, std::string(4096, '\x01') + "\r\n\r\n");
  http(port, "GET " + path + " HTTP/1.1\r\nHo", true);
  // Still alive and serving.
  CHECK(server.alive());
  std::string const head =
      http(port, "HEAD " + path + " HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
  CHECK(status_of(head) == "200");
  CHECK(sb.escaped().empty());
}
