// `cine serve`: a loopback seeder (`cine seed`) and `cine serve` on 127.0.0.1; ffmpeg decodes
// the served file identically to the local one; Range, HEAD, Host checks, playlist and status.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "run_process.h"

using namespace cine_test;

namespace {

struct Child {
  pid_t pid = -1;
  std::string out_path;
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

Child spawn(const std::vector<std::string>& argv, const std::string& out) {
  Child c;
  c.out_path = out;
  std::fflush(nullptr);  // the child's freopen would write what is buffered here a second time
  c.pid = fork();
  if (c.pid == 0) {
    FILE* f = std::freopen(out.c_str(), "w", stdout);
    (void)f;
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  return c;
}

std::string wait_for(const std::string& path, const std::regex& re, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream in(path);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    if (std::regex_search(all, m, re)) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

// A raw HTTP/1.1 exchange on 127.0.0.1:port; returns the whole response (headers + body).
std::string http(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return resp;
}

}  // namespace

TEST_CASE("cine serve streams a torrent over HTTP with ranges to ffmpeg") {
  const std::string dir = std::string(CINE_MEDIA_DIR) + "/../serve_test";
  run_process({"rm", "-rf", dir}, 10);
  run_process({"mkdir", "-p", dir + "/seed", dir + "/dl"}, 10);
  const std::string clip = std::string(CINE_MEDIA_DIR) + "/clip.mkv";
  run_process({"cp", clip, dir + "/seed/clip.mkv"}, 10);
  const std::string torrent = dir + "/clip.torrent";
  REQUIRE(run_process({CINE_BINARY, "create", dir + "/seed/clip.mkv", "-o", torrent,
                       "--piece-size=65536"}, 30).code == 0);
  const std::vector<std::string> loopback = {"--interface=127.0.0.1", "--no-dht", "--no-lsd",
                                             "--no-upnp", "--no-natpmp"};
  std::vector<std::string> seed_args = {CINE_BINARY, "seed", torrent, "--save-path=" + dir + "/seed",
                                        "--max-upload=400k"};
  seed_args.insert(seed_args.end(), loopback.begin(), loopback.end());
  Child seeder = spawn(seed_args, dir + "/seed.out");
  std::string peer = wait_for(dir + "/seed.out", std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"), 20);
  REQUIRE(!peer.empty());

  std::vector<std::string> serve_args = {CINE_BINARY, "serve", torrent, "--save-path=" + dir + "/dl",
                                         "--peer=" + peer, "--port=0"};
  serve_args.insert(serve_args.end(), loopback.begin(), loopback.end());
  Child server = spawn(serve_args, dir + "/serve.out");
  std::string url = wait_for(dir + "/serve.out", std::regex("serving .* on (http://\\S+)"), 30);
  REQUIRE(!url.empty());
  std::smatch m;
  REQUIRE(std::regex_search(url, m, std::regex("127\\.0\\.0\\.1:([0-9]+)(/\\S+)")));
  const int port = std::stoi(m[1]);
  const std::string path = m[2];
  CHECK(path.find("/stream/") == 0);

  // HEAD: size, type, ranges.
  std::string head = http(port, "HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  CHECK(head.find("200 OK") != std::string::npos);
  CHECK(head.find("Accept-Ranges: bytes") != std::string::npos);
  CHECK(head.find("Content-Type: video/x-matroska") != std::string::npos);
  std::ifstream local(clip, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(local)), std::istreambuf_iterator<char>());
  CHECK(head.find("Content-Length: " + std::to_string(bytes.size())) != std::string::npos);

  // A range from the middle (not downloaded yet) arrives, exact.
  const size_t from = bytes.size() * 7 / 10;
  std::string ranged = http(port, "GET " + path + " HTTP/1.1\r\nHost: localhost:" + std::to_string(port) +
                                      "\r\nRange: bytes=" + std::to_string(from) + "-" +
                                      std::to_string(from + 999) + "\r\nConnection: close\r\n\r\n");
  CHECK(ranged.find("206 Partial Content") != std::string::npos);
  CHECK(ranged.find("Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(from + 999) +
                    "/" + std::to_string(bytes.size())) != std::string::npos);
  auto body = ranged.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  CHECK(ranged.substr(body + 4) == bytes.substr(from, 1000));

  // DNS rebinding guard.
  std::string evil = http(port, "GET " + path + " HTTP/1.1\r\nHost: evil.example:" + std::to_string(port) +
                                    "\r\nConnection: close\r\n\r\n");
  CHECK(evil.find("403") != std::string::npos);

  // Playlist and status.
  std::string m3u = http(port, "GET /playlist.m3u HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  CHECK(m3u.find("#EXTM3U") != std::string::npos);
  CHECK(m3u.find(path) != std::string::npos);
  std::string status = http(port, "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  CHECK(status.find("\"pieces\"") != std::string::npos);

  // ffmpeg decodes the served stream exactly like the local file.
  auto md5 = [](const std::string& input) {
    ProcessResult r = run_process({"ffmpeg", "-v", "error", "-nostdin", "-i", input, "-map", "0:v",
                                   "-f", "framemd5", "-"}, 120);
    REQUIRE(r.code == 0);
    std::string out;
    for (auto& l : split_lines(r.out))
      if (l[0] != '#') out += l + "\n";
    return out;
  };
  std::string served = md5(url);
  CHECK(!served.empty());
  CHECK(served == md5(clip));
}
