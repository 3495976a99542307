// `cine demo`: the embedded default job. Makes a sample clip with the ffmpeg CLI, creates its
// torrent, starts two upload-throttled seeder sessions on 127.0.0.1, and streams the clip from
// them into the player (a window when a display exists, else headless with a status line).
// Nothing leaves the machine: every session listens on loopback with DHT/LSD/UPnP/NAT-PMP off.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "src/app.h"
#include "streaming/session.h"
#include "streaming/torrent_tools.h"

namespace cine {

namespace {

constexpr int kClipSeconds = 30;
constexpr int kSeederRate = 400 * 1000;  // bytes/s per seeder: ~3x the clip's byte rate in all

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

// Runs argv without a shell; true on exit status 0.
bool run(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool remove_tree(const std::string& dir) { return run({"rm", "-rf", "--", dir}); }

bool make_clip(const std::string& path, std::string* error) {
  if (file_exists(path)) return true;
  std::fprintf(stderr, "cine demo: generating a %d s sample clip with ffmpeg...\n", kClipSeconds);
  std::string tmp = path + ".part.mkv";
  const std::string dur = std::to_string(kClipSeconds);
  bool ok = run({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                 "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
                 "-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4:sample_rate=48000",
                 "-t", dur, "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2M",
                 "-maxrate", "2.5M", "-bufsize", "4M", "-g", "60", "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-b:a", "128k", tmp});
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    *error = "could not generate the sample clip (is ffmpeg installed?)";
    return false;
  }
  return true;
}

}  // namespace

int run_demo(const Options& in) {
  std::string error;
  const char* home = std::getenv("HOME");
  std::string root = (in.save_path.empty() ? std::string(home && *home ? home : ".") + "/Downloads/cine"
                                           : in.save_path) + "/cine-demo";
  const std::string seed_dir = root + "/seed";
  const std::string leech_dir = root + "/leech";
  const std::string clip = seed_dir + "/cine-demo-clip.mkv";
  const std::string torrent = root + "/cine-demo-clip.torrent";
  if (!run({"mkdir", "-p", "--", seed_dir})) {
    print_error("cannot create '" + seed_dir + "'");
    return 1;
  }
  if (!make_clip(clip, &error)) {
    print_error(error);
    return 1;
  }
  if (!streaming::make_torrent(clip, torrent, {}, 256 * 1024, &error)) {
    print_error(error);
    return 1;
  }
  // Stream from scratch every time: the leecher's folder is the demo's own.
  remove_tree(leech_dir);
  if (!run({"mkdir", "-p", "--", leech_dir})) {
    print_error("cannot create '" + leech_dir + "'");
    return 1;
  }

  // Two seeders on loopback, each upload-limited so streaming is visible.
  std::vector<std::unique_ptr<streaming::Session>> seeders;
  std::vector<std::string> peers;
  for (int i = 0; i < 2; ++i) {
    streaming::SessionConfig cfg;
    cfg.save_path = seed_dir;
    cfg.listen_interface = "127.0.0.1";
    cfg.dht = cfg.lsd = cfg.upnp = cfg.natpmp = false;
    cfg.max_upload = kSeederRate;
    auto s = streaming::Session::create(cfg, &error);
    if (!s || !s->add(torrent, &error) || !s->wait_checked([] { return quit_requested(); }, &error)) {
      print_error("demo seeder: " + (error.empty() ? std::string("interrupted") : error));
      return 1;
    }
    peers.push_back("127.0.0.1:" + std::to_string(s->listen_port()));
    seeders.push_back(std::move(s));
  }

  Options o = in;
  o.command = "play";
  o.source = torrent;
  o.save_path = leech_dir;
  o.peers = peers;
  o.interface = "127.0.0.1";
  o.dht = o.lsd = o.upnp = o.natpmp = false;
  o.seed = false;
  const bool display = std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
  if (!display) {
    o.vo = "null";
    o.ao = "null";
    o.status_line = true;
    std::fprintf(stderr, "cine demo: no display; playing headless\n");
  }
  std::fprintf(stderr, "cine demo: streaming %s from %zu loopback seeders (%d kB/s each)\n",
               clip.c_str(), seeders.size(), kSeederRate / 1000);
  return run_play(o);
}

}  // namespace cine
