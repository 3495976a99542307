// --input-ipc-server: a client speaking mpv's JSON IPC reads and sets properties, seeks,
// observes a property and quits a running `cine play`.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

using nlohmann::json;

namespace {

class Client {
 public:
  explicit Client(const std::string& path) {
    for (int i = 0; i < 100 && fd_ < 0; ++i) {  // the player may still be starting
      int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        fd_ = fd;
      } else {
        ::close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    timeval tv{5, 0};
    if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void send(const json& j) {
    std::string s = j.dump() + "\n";
    REQUIRE(::write(fd_, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  json next() {
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return json::parse(line);
      }
      char b[4096];
      ssize_t n = ::read(fd_, b, sizeof b);
      if (n <= 0) return json();
      buf_.append(b, static_cast<size_t>(n));
    }
  }
  // Sends a command and returns its reply; events that arrive first are kept in `events`.
  json call(const json& command) {
    int id = ++id_;
    send({{"command", command}, {"request_id", id}});
    for (;;) {
      json r = next();
      if (r.is_null()) return r;
      if (r.contains("request_id") && r["request_id"] == id) return r;
      events.push_back(r);
    }
  }
  std::vector<json> events;

 private:
  int fd_ = -1;
  int id_ = 0;
  std::string buf_;
};

}  // namespace

TEST_CASE("mpv JSON IPC drives a running player") {
  std::string sock = std::string(CINE_MEDIA_DIR) + "/../ipc_test.sock";
  std::string data = std::string(CINE_MEDIA_DIR) + "/../ipc_data";
  std::string clip = std::string(CINE_MEDIA_DIR) + "/clip.mkv";
  pid_t pid = fork();
  if (pid == 0) {
    setenv("XDG_DATA_HOME", data.c_str(), 1);  // no remembered positions from other runs
    execl(CINE_BINARY, CINE_BINARY, "play", clip.c_str(), "--vo=null", "--ao=null", "--quiet",
          ("--input-ipc-server=" + sock).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  Client c(sock);
  REQUIRE(c.ok());
  // Before the file is open, duration is "property unavailable", as in mpv.
  json r;
  for (int i = 0; i < 100; ++i) {
    r = c.call({"get_property", "duration"});
    if (r["error"] == "success") break;
    CHECK(r["error"] == "property unavailable");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(r["error"] == "success");
  CHECK(r["data"].get<double>() == doctest::Approx(12.0).epsilon(0.01));
  CHECK(c.call({"get_property", "no-such-property"})["error"] == "property not found");
  CHECK(c.call({"observe_property", 1, "pause"})["error"] == "success");
  CHECK(c.call({"set_property", "pause", true})["error"] == "success");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(c.call({"get_property", "pause"})["data"] == true);
  CHECK(c.call({"seek", 8, "absolute"})["error"] == "success");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double pos = c.call({"get_property", "time-pos"})["data"].get<double>();
  CHECK(pos == doctest::Approx(8.0).epsilon(0.01));
  CHECK(c.call({"seek", 50, "absolute-percent"})["error"] == "success");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(c.call({"get_property", "percent-pos"})["data"].get<double>() == doctest::Approx(50).epsilon(0.02));
  CHECK(c.call({"seek", -2})["error"] == "success");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(c.call({"get_property", "time-pos"})["data"].get<double>() == doctest::Approx(4.0).epsilon(0.02));
  CHECK(c.call({"bogus-command"})["error"] != "success");
  // The pause observer reported the change.
  bool saw_pause = false;
  for (auto& e : c.events)
    if (e["event"] == "property-change" && e["name"] == "pause" && e["data"] == true) saw_pause = true;
  CHECK(saw_pause);
  CHECK(c.call({"quit"})["error"] == "success");
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL("cine did not quit");
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(access(sock.c_str(), F_OK) != 0);  // the socket is removed on exit
}
