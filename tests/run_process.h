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

// Lines of s without empty ones.
std::vector<std::string> split_lines(const std::string& s);

}  // namespace cine_test
