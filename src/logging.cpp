#include "src/logging.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

#include "src/stats_log.h"

extern "C" {
#include <libavutil/log.h>
}

namespace cine {

namespace {

std::mutex g_mu;
FILE* g_file = nullptr;  // --log-file, open for the life of the process
int g_verbose = 0;
int g_stderr_level = AV_LOG_QUIET;  // FFmpeg lines up to this level also go to stderr

void write_line(FILE* f, const char* source, const char* text) {
  std::fprintf(f, "%10.3f [%s] %s", program_time(), source, text);
  size_t n = std::char_traits<char>::length(text);
  if (n == 0 || text[n - 1] != '\n') std::fputc('\n', f);
  std::fflush(f);
}

// FFmpeg may call this from any of its threads; lines arrive in pieces (print_prefix).
void ffmpeg_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > av_log_get_level()) return;
  char line[1024];
  static thread_local int print_prefix = 1;
  va_list copy;
  va_copy(copy, vl);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  std::lock_guard<std::mutex> lk(g_mu);
  if (level <= g_stderr_level) std::fputs(line, stderr);
  if (g_file) write_line(g_file, "ffmpeg", line);
}

}  // namespace

bool setup_logging(int verbose, const std::string& log_file, std::string* error) {
  g_verbose = verbose;
  g_stderr_level = verbose >= 2 ? AV_LOG_VERBOSE : verbose == 1 ? AV_LOG_WARNING : AV_LOG_QUIET;
  if (!log_file.empty()) {
    g_file = std::fopen(log_file.c_str(), "w");
    if (!g_file) {
      *error = "cannot write the log file '" + log_file + "'";
      return false;
    }
  }
  // FFmpeg's own chatter stays off the terminal unless asked for: Cine reports errors itself.
  av_log_set_level(g_file ? AV_LOG_VERBOSE : g_stderr_level);
  av_log_set_callback(ffmpeg_callback);
  return true;
}

std::function<void(const std::string&)> torrent_log_sink() {
  if (g_verbose == 0 && !g_file) return nullptr;
  return [](const std::string& line) {
    std::lock_guard<std::mutex> lk(g_mu);
    if (g_verbose > 0) std::fprintf(stderr, "cine: torrent: %s\n", line.c_str());
    if (g_file) {
      // The session stamps its lines with its own clock; the file has the program's.
      size_t body = line.find_first_not_of(' ');
      if (body != std::string::npos) body = line.find(' ', body);
      write_line(g_file, "torrent",
                 body == std::string::npos ? line.c_str() : line.c_str() + body + 1);
    }
  };
}

bool torrent_log_detailed() { return g_verbose >= 2 || g_file != nullptr; }

bool torrent_log_peers() { return g_verbose >= 3; }

void log_to_file(const char* source, const std::string& line) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_file) write_line(g_file, source, line.c_str());
}

}  // namespace cine
