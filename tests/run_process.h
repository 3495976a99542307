// Runs a program (no shell) with a timeout and captures its exit status, stdout and stderr.
// For tests that drive the `cine` binary the way outside tools do.
#pragma once

#include <string>
#include <vector>

namespace cine_test {

struct ProcessResult {
  int code = -1;          // exit status; 128+N when killed by signal N; -1 on timeout
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
};

// env entries are "KEY=VALUE" added to (or replacing in) the current environment.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_seconds,
                          const std::vector<std::string>& env = {});

// An Xvfb server on a display number it picks itself (-displayfd); stopped by the destructor.
// Xvfb writes the number and the newline after it in two writes and exits when the second one
// fails: the pipe is read up to the newline before it is closed, or a reader scheduled between
// the two writes is left with the number of a server that is already gone.
class Xvfb {
 public:
  Xvfb();
  ~Xvfb();
  Xvfb(const Xvfb&) = delete;
  Xvfb& operator=(const Xvfb&) = delete;
  bool ok() const { return pid_ > 0 && !display_.empty(); }
  const std::string& display() const { return display_; }  // ":N"

 private:
  int pid_ = -1;
  std::string display_;
};
bool have_xvfb();

// Lines of s without empty ones.
std::vector<std::string> split_lines(const std::string& s);

}  // namespace cine_test
