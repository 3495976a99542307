// A `cine` child process for tests: its stdout read line by line, its stderr into a file, an
// environment of its own, SIGTERM on stop. Test-only.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cine_test {

struct CineChild {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string err_path;

  // argv without the program; env entries are "KEY=VALUE"; stderr goes to err_path.
  CineChild(std::vector<std::string> args, const std::vector<std::string>& env,
            const std::string& err_file)
      : err_path(err_file) {
    args.insert(args.begin(), CINE_BINARY);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    std::fflush(nullptr);  // nothing buffered is written twice
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      if (FILE* e = std::freopen(err_path.c_str(), "w", stderr); !e) _exit(126);
      for (const std::string& kv : env) {
        auto eq = kv.find('=');
        setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
  }
  CineChild(const CineChild&) = delete;
  CineChild& operator=(const CineChild&) = delete;

  // The next stdout line ("" at the end of the output).
  std::string line() {
    char buf[512];
    if (!out || !std::fgets(buf, sizeof buf, out)) return "";
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  std::string err() const {
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Waits for the exit (at most `seconds`, then SIGKILL); the exit status, or -1 on timeout.
  int wait(double seconds) {
    for (int i = 0; i < int(seconds * 20); ++i) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
    return -1;
  }
  // SIGTERM, then the exit status.
  int stop() {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    return wait(15);
  }
  ~CineChild() {
    if (pid > 0) stop();
    if (out) std::fclose(out);
  }
};

}  // namespace cine_test
