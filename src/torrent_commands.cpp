#include "src/torrent_commands.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "src/app.h"
#include "streaming/magnet.h"
#include "streaming/session.h"
#include "streaming/torrent_tools.h"

namespace cine {

namespace {

int fail(const std::string& message) {
  print_error(message);
  return 1;
}

// The play settings (with -v's and --log-file's session trace), plus the current folder as
// default save path.
streaming::SessionConfig tool_config(const Options& o) {
  streaming::SessionConfig cfg = session_config(o);
  cfg.save_path = o.save_path.empty() ? "." : o.save_path;
  return cfg;
}

// Whether a magnet's metadata can be looked for: peers given, trackers in the link, or the DHT.
bool can_fetch_metadata(const Options& o) {
  if (!o.peers.empty() || (o.dht && !o.dht_bootstrap.empty())) return true;
  streaming::MagnetInfo m;
  std::string ignored;
  return streaming::parse_magnet(o.source, &m, &ignored) && !m.trackers.empty();
}

// Where a local client reaches us: the listen address, or loopback for a wildcard one.
std::string reachable_address(const std::string& iface) {
  if (iface.empty() || iface == "0.0.0.0") return "127.0.0.1";
  if (iface == "::" || iface == "[::]") return "[::1]";
  return iface.find(':') != std::string::npos && iface.front() != '[' ? "[" + iface + "]" : iface;
}

}  // namespace

int run_info(const Options& o) {
  std::string error, text;
  if (!streaming::is_magnet(o.source) || !can_fetch_metadata(o)) {
    if (!streaming::describe(o.source, &text, &error)) return fail(error);
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  // A magnet with --peer, trackers or a DHT to ask: fetch the metadata (nothing else is
  // downloaded).
  streaming::SessionConfig cfg = tool_config(o);
  cfg.metadata_only = true;
  auto session = streaming::Session::create(cfg, &error);
  if (!session) return fail(error);
  if (!session->add(o.source, &error)) return fail(error);
  auto const until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool timed_out = false;
  bool const ok = session->wait_metadata(
      [&] {
        timed_out = std::chrono::steady_clock::now() > until;
        return quit_requested() || timed_out;
      },
      &error);
  if (!ok) {
    if (quit_requested()) return 130;
    return fail(timed_out ? "no metadata from the peers, trackers or DHT within 60 s" : error);
  }
  std::fputs(streaming::format_metadata(session->metadata()).c_str(), stdout);
  return 0;
}

int run_create(const Options& o) {
  std::string error;
  streaming::Metadata made;
  if (!streaming::make_torrent(o.source, o.output, o.trackers, o.piece_size, &error, &made,
                               o.web_seeds))
    return fail(error);
  std::printf("created %s: %zu file%s, %lld bytes, %d pieces of %d bytes, info-hash %s\n",
              o.output.c_str(), made.files.size(), made.files.size() == 1 ? "" : "s",
              static_cast<long long>(made.total_size), made.num_pieces, made.piece_size,
              made.info_hash.c_str());
  return 0;
}

int run_seed(const Options& o) {
  std::string error;
  streaming::SessionConfig cfg = tool_config(o);
  std::error_code ec;
  if (!std::filesystem::is_directory(cfg.save_path, ec))
    return fail("--save-path " + cfg.save_path +
                " is not a directory (it must hold the torrent's files)");
  auto session = streaming::Session::create(cfg, &error);
  if (!session) return fail(error);
  if (!session->add(o.source, &error)) return fail(error);
  if (!session->wait_checked([] { return quit_requested(); }, &error)) {
    if (quit_requested()) return 130;
    return fail(error);
  }
  streaming::SwarmStats st = session->stats();
  streaming::Metadata md = session->metadata();
  if (!st.finished) {
    return fail("the data of '" + md.name + "' in " + cfg.save_path + " is incomplete (" +
                std::to_string(st.pieces_have) + " of " + std::to_string(md.num_pieces) +
                " pieces); --save-path must hold the torrent's files");
  }
  std::printf("listening on %s:%d\n", reachable_address(cfg.listen_interface).c_str(),
              session->listen_port());
  std::printf("seeding %s (%s)\n", md.name.c_str(), md.info_hash.c_str());
  std::fflush(stdout);
  SeedLimit limit(o);
  limit.start();
  std::string why;
  while (!quit_requested() && !(limit.active() && limit.reached(*session, &why)))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!why.empty()) std::printf("%s\n", why.c_str());
  return 0;
}

}  // namespace cine
