// streaming::Session on libtorrent 2.0.8: the only place (with torrent_tools.cpp) that talks to
// libtorrent. One pump thread pops alerts, runs the picker and feeds the stream's ring.
#include "streaming/session.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <initializer_list>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/extensions.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/peer_request.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "streaming/block_tap.h"
#include "streaming/container_index.h"
#include "streaming/files.h"
#include "streaming/magnet.h"
#include "streaming/picker.h"
#include "streaming/resume_file.h"
#include "streaming/safe_text.h"
#include "streaming/torrent_stream.h"

namespace streaming {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kTick = 250ms;            // the pump re-plans at least this often
constexpr auto kStatusEvery = 200ms;     // libtorrent status refresh
constexpr int kDownloadReconnectSeconds = 2;  // min_reconnect_time while downloading
constexpr int kLimiterTickMs = 100;  // libtorrent's tick_interval: rate limits hand out quota
constexpr auto kDeadlineRefresh = 1s;    // re-issue unchanged deadlines (they are relative)
constexpr auto kStagedDeadlines = 50ms;  // after a far seek or a preempt, the other deadlines
constexpr auto kResumeEvery = 30s;       // periodic resume data
constexpr auto kReconnectEvery = 1s;     // --peer endpoints, while no peer is connected
constexpr size_t kMaxReadsInFlight = 4;  // read_piece requests feeding the ring and the index
constexpr int64_t kMaxTorrentFile = 64ll << 20;  // .torrent and resume files
constexpr int kMaxPieceSize = 128 << 20;         // libtorrent's own limit
const char* const kCleanKey = "cine-clean";

// The libtorrent extension behind BlockTap: every peer connection hands each block it receives
// to the tap (which keeps only what the session asked for) and lets libtorrent go on as usual.
class TapPeerPlugin final : public lt::peer_plugin {
 public:
  explicit TapPeerPlugin(std::shared_ptr<BlockTap> tap) : tap_(std::move(tap)) {}
  bool on_piece(const lt::peer_request& r, lt::span<char const> buf) override {
    int const len = std::min(r.length, int(buf.size()));
    tap_->on_block(static_cast<int>(r.piece), r.start, buf.data(), len);
    return false;
  }

 private:
  std::shared_ptr<BlockTap> tap_;
};

class TapTorrentPlugin final : public lt::torrent_plugin {
 public:
  explicit TapTorrentPlugin(std::shared_ptr<BlockTap> tap) : tap_(std::move(tap)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle&) override {
    return std::make_shared<TapPeerPlugin>(tap_);
  }

 private:
  std::shared_ptr<BlockTap> tap_;
};

// Which of the two parses tells the picker more: the one of checked pieces (`checked`) once it
// is done or as far as the early one, else the one of unchecked blocks (`early`).
bool early_parse_ahead(const ContainerIndex& checked, const ContainerIndex& early) {
  if (checked.done()) return false;
  if (early.done()) return true;
  if (checked.format() == ContainerFormat::unknown) return early.format() != ContainerFormat::unknown;
  return early.index().size() > checked.index().size();
}

// The pump sleeps on this; libtorrent's alert notify and the stream only wake it.
class Waker {
 public:
  void notify() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      flag_ = true;
    }
    cv_.notify_one();
  }
  void wait_for(Clock::duration d) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, d, [&] { return flag_; });
    flag_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool flag_ = false;
};

std::string to_hex(const char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[(uint8_t(p[i]) >> 4) & 0xF];
    out += digits[uint8_t(p[i]) & 0xF];
  }
  return out;
}

std::string info_hash_hex(const lt::info_hash_t& ih) {
  if (ih.has_v1()) return to_hex(ih.v1.data(), ih.v1.size());
  return to_hex(ih.v2.data(), ih.v2.size());
}

// bytes of a .torrent file (named path in messages) -> torrent_info, or nullptr + *error.
std::shared_ptr<lt::torrent_info> parse_torrent_info(const std::vector<char>& bytes,
                                                     const std::string& path, std::string* error) {
  lt::error_code ec;
  std::shared_ptr<lt::torrent_info> ti;
  try {
    ti = std::make_shared<lt::torrent_info>(lt::span<const char>(bytes.data(), long(bytes.size())),
                                            ec, lt::from_span);
  } catch (const std::exception& e) {
    *error = path + " is not a valid .torrent file (" + e.what() + ")";
    return nullptr;
  }
  if (ec) {
    *error = path + " is not a valid .torrent file (" + ec.message() + ")";
    return nullptr;
  }
  // libtorrent parses larger pieces but refuses them only once the torrent is added.
  if (ti->piece_length() > kMaxPieceSize) {
    *error = path + " is not a valid .torrent file (piece size " +
             std::to_string(ti->piece_length()) + " bytes; at most 128 MiB)";
    return nullptr;
  }
  return ti;
}

std::shared_ptr<lt::torrent_info> load_torrent_info(const std::string& path, std::string* error) {
  std::vector<char> bytes;
  if (!read_whole_file(path, kMaxTorrentFile, &bytes, error)) return nullptr;
  return parse_torrent_info(bytes, path, error);
}

Metadata to_metadata(const lt::torrent_info& ti) {
  Metadata m;
  // Names come from the torrent: shown in the terminal and the overlay, so no control or bidi
  // character survives (libtorrent already keeps the paths it writes inside the save path).
  m.name = display_safe(ti.name());
  m.info_hash = info_hash_hex(ti.info_hashes());
  m.piece_size = ti.piece_length();
  m.num_pieces = ti.num_pieces();
  m.total_size = ti.total_size();
  lt::file_storage const& files = ti.files();
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    m.files.push_back(FileEntry{int(i), display_safe(files.file_path(i)), files.file_size(i),
                                files.file_offset(i)});
  }
  for (const lt::announce_entry& t : ti.trackers()) m.trackers.push_back(display_safe(t.url));
  for (const lt::web_seed_entry& w : ti.web_seeds()) m.web_seeds.push_back(display_safe(w.url));
  return m;
}

// "HOST:PORT" or "[V6]:PORT" -> endpoint (resolving HOST).
bool parse_endpoint(const std::string& s, lt::tcp::endpoint* ep, std::string* error) {
  std::string host, port;
  if (!s.empty() && s[0] == '[') {
    size_t const close = s.find(']');
    if (close != std::string::npos && close + 1 < s.size() && s[close + 1] == ':') {
      host = s.substr(1, close - 1);
      port = s.substr(close + 2);
    }
  } else if (size_t const colon = s.rfind(':'); colon != std::string::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  bool const digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (host.empty() || !digits || std::stoi(port) == 0 || std::stoi(port) > 65535) {
    *error = "invalid peer address '" + s + "' (expected HOST:PORT)";
    return false;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int const rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res) {
    *error = "cannot resolve peer '" + s + "': " + gai_strerror(rc);
    return false;
  }
  char numeric[NI_MAXHOST] = {};
  getnameinfo(res->ai_addr, res->ai_addrlen, numeric, sizeof numeric, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(res);
  lt::error_code ec;
  lt::address const addr = lt::make_address(numeric, ec);
  if (ec) {
    *error = "invalid peer address '" + s + "'";
    return false;
  }
  *ep = lt::tcp::endpoint(addr, uint16_t(std::stoi(port)));
  return true;
}

bool has_extension(const std::string& name, std::initializer_list<const char*> exts) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::find_if(exts.begin(), exts.end(), [&](const char* e) { return ext == e; }) !=
         exts.end();
}

// Without --file, a torrent with neither is refused rather than fed to FFmpeg's probes (which
// happily "play" a text file as ANSI art).
bool is_audio_name(const std::string& name) {
  return has_extension(name, {".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".wav", ".wma",
                              ".mka", ".ac3", ".dts"});
}

bool is_video_name(const std::string& name) {
  return has_extension(name, {".mkv", ".mp4", ".m4v", ".webm", ".avi", ".mov", ".ts", ".m2ts",
                              ".wmv", ".flv", ".ogv", ".mpg", ".mpeg", ".vob", ".3gp", ".divx",
                              ".rmvb", ".ogm", ".asf", ".mts", ".m2v", ".f4v", ".mk3d"});
}

std::string listen_string(const SessionConfig& cfg) {
  std::string iface = cfg.listen_interface.empty() ? "0.0.0.0" : cfg.listen_interface;
  if (iface.find(':') != std::string::npos && iface.front() != '[') iface = "[" + iface + "]";
  return iface + ":" + std::to_string(cfg.listen_port);
}

lt::settings_pack make_settings(const SessionConfig& cfg) {
  lt::settings_pack sp;
  lt::alert_category_t mask = lt::alert_category::error | lt::alert_category::status |
                              lt::alert_category::storage | lt::alert_category::piece_progress |
                              lt::alert_category::tracker;
  if (cfg.dht) mask |= lt::alert_category::dht;  // dht_bootstrap_alert
  if (cfg.log) {
    mask |= lt::alert_category::connect | lt::alert_category::dht | lt::alert_category::peer |
            lt::alert_category::port_mapping | lt::alert_category::performance_warning;
  }
  if (cfg.log && cfg.log_detailed) {
    mask |= lt::alert_category::session_log | lt::alert_category::torrent_log |
            lt::alert_category::dht_log;
  }
  if (cfg.log && cfg.log_peers) mask |= lt::alert_category::peer_log;
  sp.set_int(lt::settings_pack::alert_mask, mask);
  sp.set_int(lt::settings_pack::alert_queue_size, 10000);
  sp.set_str(lt::settings_pack::listen_interfaces, listen_string(cfg));
  // A chosen address is also where peer connections go out from, as in qBittorrent: with
  // 127.0.0.1 nothing leaves loopback, and peers see the address they can connect back to.
  std::string const& iface = cfg.listen_interface;
  if (!iface.empty() && iface != "0.0.0.0" && iface != "::" && iface != "[::]") {
    std::string bare = iface;
    if (bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    sp.set_str(lt::settings_pack::outgoing_interfaces, bare);
  }
  // An explicit --listen port that is taken is an error, not a silent move elsewhere.
  sp.set_bool(lt::settings_pack::listen_system_port_fallback, false);
  if (cfg.listen_port != 0) sp.set_int(lt::settings_pack::max_retry_port_bind, 0);
  sp.set_bool(lt::settings_pack::enable_dht, cfg.dht);
  if (!cfg.dht) sp.set_str(lt::settings_pack::dht_bootstrap_nodes, "");
  if (cfg.dht && !cfg.dht_bootstrap.empty()) {
    std::string nodes;
    for (const std::string& n : cfg.dht_bootstrap) nodes += (nodes.empty() ? "" : ",") + n;
    sp.set_str(lt::settings_pack::dht_bootstrap_nodes, nodes);
    // A private DHT lives on few addresses (all 127.0.0.1 in tests): one node per IP and the
    // filters for unroutable ranges would leave it empty.
    sp.set_bool(lt::settings_pack::dht_restrict_routing_ips, false);
    sp.set_bool(lt::settings_pack::dht_restrict_search_ips, false);
    sp.set_bool(lt::settings_pack::dht_ignore_dark_internet, false);
    sp.set_bool(lt::settings_pack::dht_prefer_verified_node_ids, false);
  }
  sp.set_bool(lt::settings_pack::enable_lsd, cfg.lsd);
  sp.set_bool(lt::settings_pack::enable_upnp, cfg.upnp);
  sp.set_bool(lt::settings_pack::enable_natpmp, cfg.natpmp);
  sp.set_int(lt::settings_pack::download_rate_limit, std::max(0, cfg.max_download));
  sp.set_int(lt::settings_pack::upload_rate_limit, std::max(0, cfg.max_upload));
  // Loopback swarms: every peer has the address 127.0.0.1.
  sp.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, cfg.allow_loopback_peers);
  sp.set_str(lt::settings_pack::user_agent, "Cine/0.1.0 libtorrent/2.0.8");
  sp.set_str(lt::settings_pack::peer_fingerprint, lt::generate_fingerprint("CI", 0, 1, 0, 0));
  sp.set_int(lt::settings_pack::stop_tracker_timeout, 1);
  // libtorrent picks the first few pieces at random (to have something to share soon), which
  // ignores the plan: a stream wants its header and the read head first.
  sp.set_int(lt::settings_pack::initial_picker_threshold, 0);
  // Rate limits hand out bandwidth once per tick, and every protocol message of a new
  // connection (handshake, unchoke, first block) waits for it: 100 ms instead of 500 ms makes
  // the first bytes of a limited peer arrive in a fraction of a second.
  sp.set_int(lt::settings_pack::tick_interval, kLimiterTickMs);
  // A new connection to a rate-limited seed: libtorrent reads one block at a time into the
  // send buffer until the peer has a second of upload behind it (10 KiB low watermark), and
  // each goes out at the limiter's next 100 ms tick unless a second of quota is banked, so a
  // streaming peer gets 160 KB/s from us for its first second. 128 KiB lets the blocks of its
  // first requests (libtorrent asks 4-8 at first) go out together; at full rate the watermark
  // is half a second's upload as before. Under a limit, at most one tick's worth of it: the
  // send buffer is what the connection asks the limiter for at once, and a request larger
  // than a tick's quota holds the connection, its protocol messages too, for several ticks.
  int low_watermark = 128 * 1024;
  if (cfg.max_upload > 0) {
    int const per_tick = cfg.max_upload / (1000 / kLimiterTickMs);
    low_watermark = std::clamp(per_tick, 10 * 1024, low_watermark);
  }
  sp.set_int(lt::settings_pack::send_buffer_low_watermark, low_watermark);
  // A peer that dropped may be back in seconds (a restarted seeder, a flaky link); libtorrent
  // waits a minute per earlier failure before trying it again, which stalls a stream that long.
  // Only while downloading: see SessionImpl::follow_finished().
  sp.set_int(lt::settings_pack::min_reconnect_time, kDownloadReconnectSeconds);
  // Connect out over TCP only (peers may still come in over uTP). Through a rate-limited seeder
  // libtorrent's uTP now and then stops delivering on one connection for many seconds while
  // the others run; the blocks it holds belong to the pieces at the read head, and the stream
  // stalls for as long (seen in the benchmark's loopback swarm: a 14 s stall that TCP never
  // shows). uTP's yielding to other traffic is not what a player waiting on its next piece wants.
  sp.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  return sp;
}

bool is_matroska_name(const std::string& name) {
  return has_extension(name, {".mkv", ".webm", ".mka"});
}

// What the picker is told before (and while) the demuxer reads: the header and, where the
// demuxer reads it on open, the index are urgent (MP4 moov, AVI idx1, a transport stream's
// tail). FFmpeg reads Matroska Cues only for the first seek: they, and the guess at the index
// (not made for a Matroska name), come after the first seconds of the window. The demuxer reads
// the index (and the headers the parser still wants) and comes back: those reads are peeks,
// not playback positions. `stream` may be null (no reader yet: the head is at 0). A reader
// that will seek at once treats every container like one whose index is read on open.
// `opens_to_seek`: without a stream yet, whether the first one will open the file only to
// seek elsewhere (SessionConfig::opens_to_seek).
PickerInput picker_input(const ContainerIndex& index, bool matroska_name,
                         const StreamState* stream, double download_rate, bool opens_to_seek,
                         bool focus_start) {
  PickerInput in;
  in.opening = stream ? stream->opening() : opens_to_seek;
  // Opening to seek wins over starting (a stream told so after it was created).
  in.starting = !in.opening && (stream ? stream->starting() : focus_start);
  in.read_head = stream ? stream->head() : 0;
  in.byte_rate = stream ? stream->byte_rate() : 0;
  in.download_rate = download_rate;
  bool const matroska = index.format() == ContainerFormat::matroska ||
                        (index.format() == ContainerFormat::unknown && matroska_name);
  // Matroska's index (Cues) is read only to seek: after the first seconds of the window, unless
  // the reader seeks as soon as the file is open.
  // Until the first picture from the start is out (PickerInput::starting), not at all.
  bool const index_later = matroska && !(stream && stream->seeks_after_open());
  bool const index_now = !(index_later && in.starting);
  in.urgent.push_back(index.header());
  if (index_now)
    for (ByteRange r : index.index()) (index_later ? in.likely : in.urgent).push_back(r);
  for (ByteRange r : index.wanted()) {
    bool const in_header = !r.intersect(index.header()).empty();
    if (!in_header && !index_now) continue;
    (index_later && !in_header ? in.likely : in.urgent).push_back(r);
  }
  // Matroska says where its Cues are: no guess at the tail, unless the reader opens the file
  // only to seek (the Cues are then read at once, and most muxers write them last): then the
  // piece with the file's last bytes comes with the header instead of a round trip later.
  ByteRange const guess = index.guess();
  // While starting, of the guess only the file's last piece: on small pieces the whole guess,
  // wanted with nothing but the header, took the first seconds' bandwidth (PickerInput::starting).
  if (!guess.empty() && !matroska)
    in.likely.push_back(in.starting ? ByteRange{guess.end - 1, guess.end} : guess);
  // (Not the guess: that ends once the Cues are found, but the demuxer's open also reads what
  // else the SeekHead names at the tail, such as Tags, so the last piece stays wanted until the
  // parse is done. Without it, cold starts at 70 % on MKV 256 KiB, 6 alternating runs: 0.37 ->
  // 0.46 s.)
  if (!index.done() && matroska && in.opening)
    in.likely.push_back(ByteRange{index.size() - 1, index.size()});
  in.side_reads = index.index();
  in.side_reads.insert(in.side_reads.end(), index.wanted().begin(), index.wanted().end());
  ByteRange const prefetch = stream ? stream->prefetch() : ByteRange{};
  if (!prefetch.empty()) in.urgent.push_back(prefetch);
  // A start position in Matroska: the demuxer opens the file (header and tail), then reads the
  // Cues to find where the start is, and only then goes there; meanwhile the peers not busy
  // with the tail would fetch nothing of use. The header states the duration, so the start's
  // bytes are guessed (start_guess) and fetched side by side with the tail, until the seek
  // withdraws the hint. Cold starts at 70 % on the benchmark's swarm, alternating runs (MKV,
  // keyframe): 0.73 -> 0.49 s median on 256 KiB pieces, 1.21 -> 0.87 s on 1 MiB.
  // An MP4 states its duration in the moov (mvhd), which the index parses from the first blocks
  // that bring it, before their piece is verified and the demuxer opens the file: the start's
  // bytes are then guessed the same way and fetched beside the rest of the header's pieces.
  // A start in percent needs no duration: its bytes are guessed from the first plan on, for
  // every container.
  // Once the Matroska Cues or the MP4 moov's sample tables are read (from the first blocks of
  // their pieces, like the header) the guess gives way to the keyframe a seek to the start
  // lands on: from its cluster or its sample, half a second of the file's byte rate (a keyframe
  // at 8 Mbit/s is ~250 KB), instead of a second and a quarter around the start that may miss
  // it. The reads after the seek fetch the rest.
  double const fraction = stream ? stream->start_fraction() : -1;
  if (stream && in.opening && (fraction > 0 || index.duration() > 0) && prefetch.empty()) {
    double const duration = index.duration();
    int64_t const size = stream->map().file_size();
    double const start = stream->start_seconds(duration);
    int64_t const keyframe = start > 0 ? index.keyframe_before(start) : -1;
    double const rate =
        duration > 0 ? double(size) / duration : PickerConfig{}.assumed_byte_rate;
    if (keyframe >= 0) {
      in.urgent.push_back(ByteRange{keyframe, keyframe + int64_t(rate / 2)}.intersect({0, size}));
    } else {
      ByteRange const r =
          fraction > 0
              ? start_guess_fraction(size, duration, fraction, PickerConfig{}.assumed_byte_rate)
              : start_guess(size, duration, start);
      if (!r.empty()) in.guessed.push_back(r);
    }
  }
  in.settling = stream && stream->settling();
  return in;
}

// The piece priorities of the picker's first plan for `file` (a reader at 0, nothing there
// yet), as libtorrent takes them in add_torrent_params.
std::vector<lt::download_priority_t> first_plan(const lt::torrent_info& ti, int file,
                                                bool opens_to_seek, bool focus_start) {
  const lt::file_storage& files = ti.files();
  lt::file_index_t const f(file);
  PieceMap const map(files.file_offset(f), files.file_size(f), files.total_size(),
                     files.piece_length());
  Picker picker(map);
  ContainerIndex const index(map.file_size());
  PiecePlan const plan =
      picker.plan(picker_input(index, is_matroska_name(files.file_name(f).to_string()), nullptr, 0,
                               opens_to_seek, focus_start),
                  PieceBits(ti.num_pieces()));
  std::vector<lt::download_priority_t> prios;
  prios.reserve(plan.priorities.size());
  for (uint8_t v : plan.priorities) prios.push_back(lt::download_priority_t(v));
  return prios;
}

}  // namespace

bool load_torrent_metadata(const std::string& path, Metadata* out, std::string* error) {
  auto ti = load_torrent_info(path, error);
  if (!ti) return false;
  *out = to_metadata(*ti);
  return true;
}

bool parse_torrent_metadata(const std::vector<char>& bytes, Metadata* out, std::string* error) {
  auto ti = parse_torrent_info(bytes, "the data", error);
  if (!ti) return false;
  *out = to_metadata(*ti);
  return true;
}

bool parse_resume_file(const std::vector<char>& buf, const std::string& info_hash,
                       lt::add_torrent_params* out) {
  lt::error_code ec;
  lt::bdecode_node const node = lt::bdecode(buf, ec);
  if (ec || node.type() != lt::bdecode_node::dict_t) return false;
  bool const clean = node.dict_find_int_value(kCleanKey, 0) == 1;
  lt::add_torrent_params resumed = lt::read_resume_data(node, ec);
  if (ec || info_hash_hex(resumed.info_hashes) != info_hash) return false;
  if (!clean) {
    // Saved while pieces were still arriving (or the process was killed): pieces verified
    // after the save would be fetched again. Without a piece list libtorrent hashes what is on
    // disk instead, which re-downloads nothing verified.
    resumed.have_pieces.clear();
    resumed.verified_pieces.clear();
    resumed.unfinished_pieces.clear();
  }
  *out = std::move(resumed);
  return true;
}

class SessionImpl final : public Session {
 public:
  explicit SessionImpl(const SessionConfig& cfg)
      : cfg_(cfg), waker_(std::make_shared<Waker>()), first_opens_to_seek_(cfg.opens_to_seek) {}
  ~SessionImpl() override;

  bool start(std::string* error);

  int listen_port() const override { return ses_->listen_port(); }
  bool add(const std::string& source, std::string* error) override;
  bool wait_metadata(const std::function<bool()>& should_stop, std::string* error) override {
    return wait_until([this] { return have_metadata_; }, should_stop, error);
  }
  bool wait_checked(const std::function<bool()>& should_stop, std::string* error) override {
    return wait_until([this] { return have_metadata_ && checked_; }, should_stop, error);
  }
  Metadata metadata() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return meta_;
  }
  bool select_file(const std::string& spec, FileEntry* chosen, std::string* error) override;
  std::unique_ptr<ByteSource> open_stream() override;
  SwarmStats stats() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return stats_;
  }
  PieceView piece_view() const override;
  void save_resume() override;
  std::string error() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return fatal_;
  }
  bool finished() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return stats_.finished;
  }

 private:
  bool wait_until(const std::function<bool()>& ready, const std::function<bool()>& should_stop,
                  std::string* error);
  void load_resume(lt::add_torrent_params* atp, const std::string& info_hash) const;
  void save_resume_on_exit();
  std::string resume_path(const std::string& info_hash) const;
  void fail(const std::string& message);
  void load_dht_state(lt::session_params* params) const;
  void save_dht_state() const;
  void log_alert(const lt::alert* a) const;
  void warn_tracker(const lt::alert* a);
  void announce_dht_once();
  template <typename... Args>
  void trace(const char* fmt, Args... args) const;

  // Pump thread.
  void pump();
  void handle_alert(lt::alert* a);
  void refresh_status(bool force);
  void follow_finished(bool finished);
  void plan_and_fill();
  void apply(const lt::torrent_handle& h, const PiecePlan& plan, const PickerInput& in);
  void fill(const lt::torrent_handle& h, int64_t head);
  bool tap_early_blocks();
  void read_piece(const lt::torrent_handle& h, PieceIndex p);
  void on_read_piece(const lt::read_piece_alert& a);
  void maybe_save_resume();
  void write_resume(const lt::add_torrent_params& atp, bool clean);

  SessionConfig const cfg_;
  Clock::time_point const born_ = Clock::now();
  std::vector<lt::tcp::endpoint> peers_;
  std::unique_ptr<lt::session> ses_;
  std::shared_ptr<Waker> const waker_;
  std::thread pump_thread_;
  std::atomic<bool> stop_{false};
  std::shared_ptr<BlockTap> const tap_ = std::make_shared<BlockTap>();

  // Guarded by mu_: written by the pump and by the API calls.
  mutable std::mutex mu_;
  std::condition_variable changed_;  // metadata, checked, fatal error, resume saved
  lt::torrent_handle handle_;
  std::optional<lt::add_torrent_params> deferred_;  // plan_before_add: added by select_file()
  std::string info_hash_;
  std::string save_path_;
  bool added_ = false;
  bool have_metadata_ = false;
  bool checked_ = false;
  std::string fatal_;
  Metadata meta_;
  std::shared_ptr<const lt::torrent_info> ti_;
  int selected_ = -1;      // libtorrent file index
  int selection_gen_ = 0;  // bumped by select_file(): the pump rebuilds its plan
  std::shared_ptr<StreamState> stream_;
  SwarmStats stats_;
  PieceBits pieces_view_;  // published copy of bits_ for piece_view()
  std::set<PieceIndex> critical_view_;
  bool save_requested_ = false;
  bool save_in_flight_ = false;
  int saves_done_ = 0;

  // Pump thread only.
  PieceBits bits_;
  bool piece_arrived_ = false;  // a piece_finished alert in this pass
  lt::torrent_status status_;
  Clock::time_point status_at_{}, deadlines_at_{}, resume_at_{Clock::now()}, reconnect_at_{};
  // Only the staged deadlines apply until then; a pass is due at that moment, before the tick.
  Clock::time_point staged_until_{};
  int planned_gen_ = -1;
  std::optional<PieceMap> map_;
  std::unique_ptr<Picker> picker_;
  std::unique_ptr<ContainerIndex> index_;
  // The same parse fed from the tap's unchecked blocks (BlockTap): it steers the plan while it
  // knows more than index_, which is fed from checked pieces only.
  std::unique_ptr<ContainerIndex> early_index_;
  bool early_told_ = false;  // the trace said what the early parse found
  bool matroska_name_ = false;  // the selected file is named .mkv/.webm/.mka
  // SessionConfig::opens_to_seek until the first stream is opened (it then carries it).
  // Guarded by mu_: a plan made for "no stream yet" must read it together with stream_.
  bool first_opens_to_seek_ = false;
  std::shared_ptr<StreamState> fed_;  // the open stream the pump plans for and feeds
  bool released_ = false;             // its stream closed: deadlines cleared, plain download
  std::set<int> reads_in_flight_;
  std::map<int, Clock::time_point> read_retry_at_;
  std::vector<uint8_t> applied_prios_;
  std::set<PieceIndex> applied_deadlines_;
  PieceIndex applied_head_{-1};
  bool pending_clean_ = false;  // the save in flight was asked for with nothing left to fetch
  bool saved_clean_ = false;    // the last file written was marked clean
  std::set<std::string> warned_;  // tracker warnings already told
  bool dht_announced_ = false;    // the torrent's first DHT announce was asked for
  bool finished_settings_ = false;  // libtorrent's own reconnect wait is in force (seeding)
};

template <typename... Args>
void SessionImpl::trace(const char* fmt, Args... args) const {
  if (!cfg_.log) return;
  char line[512];
  int const n = std::snprintf(line, sizeof line, "%8.3f ",
                              std::chrono::duration<double>(Clock::now() - born_).count());
  std::snprintf(line + n, sizeof line - size_t(n), fmt, args...);
  cfg_.log(line);
}

std::unique_ptr<Session> Session::create(const SessionConfig& cfg, std::string* error) {
  auto s = std::make_unique<SessionImpl>(cfg);
  if (!s->start(error)) return nullptr;
  return s;
}

bool SessionImpl::start(std::string* error) {
  for (const std::string& p : cfg_.peers) {
    lt::tcp::endpoint ep;
    if (!parse_endpoint(p, &ep, error)) return false;
    peers_.push_back(ep);
  }
  try {
    lt::session_params params(make_settings(cfg_));
    if (cfg_.posix_disk_io) params.disk_io_constructor = lt::posix_disk_io_constructor;
    load_dht_state(&params);
    ses_ = std::make_unique<lt::session>(std::move(params));
  } catch (const std::exception& e) {
    *error = std::string("cannot start the torrent session: ") + e.what();
    return false;
  }
  // Rate limits apply to every peer, local ones included (libtorrent exempts LANs by default;
  // our tests and the demo swarm are all on 127.0.0.1).
  lt::ip_filter classes;
  std::uint32_t const global = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
  classes.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), global);
  classes.add_rule(lt::make_address("::"),
                   lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
  ses_->set_peer_class_filter(classes);
  tap_->set_notify([w = waker_] { w->notify(); });

  // Wait for the TCP listen socket (or its failure) before anyone relies on listen_port().
  auto const until = Clock::now() + 10s;
  bool listening = false;
  std::vector<lt::alert*> alerts;
  while (!listening && Clock::now() < until) {
    ses_->wait_for_alert(100ms);
    ses_->pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (auto* ok = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (ok->socket_type == lt::socket_type_t::tcp) listening = true;
      } else if (auto* no = lt::alert_cast<lt::listen_failed_alert>(a)) {
        if (no->socket_type == lt::socket_type_t::tcp) {
          *error = "cannot listen on " + listen_string(cfg_) + ": " + no->error.message();
          return false;
        }
      }
    }
  }
  if (!listening) {
    *error = "cannot listen on " + listen_string(cfg_) + ": timed out";
    return false;
  }
  ses_->set_alert_notify([w = waker_] { w->notify(); });
  pump_thread_ = std::thread([this] { pump(); });
  return true;
}

SessionImpl::~SessionImpl() {
  stop_ = true;
  waker_->notify();
  if (pump_thread_.joinable()) pump_thread_.join();
  if (!ses_) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stream_) stream_->ring().fail(EIO);
  }
  if (handle_.is_valid() && have_metadata_ && !cfg_.metadata_only) save_resume_on_exit();
  save_dht_state();
  ses_->set_alert_notify([] {});
  ses_.reset();
}

void SessionImpl::save_resume_on_exit() {
  try {
    // Pause first: with no peer left, pieces stop passing, so this save is complete ("clean")
    // and the next start trusts it without re-hashing.
    handle_.pause();
    handle_.save_resume_data(lt::torrent_handle::flush_disk_cache |
                             lt::torrent_handle::save_info_dict);
    auto const until = Clock::now() + 5s;
    bool done = false;
    std::vector<lt::alert*> alerts;
    while (!done && Clock::now() < until) {
      ses_->wait_for_alert(100ms);
      ses_->pop_alerts(&alerts);
      for (lt::alert* a : alerts) {
        if (auto* r = lt::alert_cast<lt::save_resume_data_alert>(a)) {
          // Unless a piece whose hash was still running passed after the snapshot: then the
          // file must not claim to be complete (the next start re-hashes instead).
          int const now_have = handle_.status().num_pieces;
          write_resume(r->params, now_have <= r->params.have_pieces.count());
          done = true;
        } else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
          done = true;
        }
      }
    }
  } catch (const std::exception&) {
    // Keep whatever resume file there was: at worst some verified pieces are fetched again.
  }
}

void SessionImpl::load_dht_state(lt::session_params* params) const {
  if (!cfg_.dht || cfg_.dht_state_file.empty()) return;
  std::vector<char> buf;
  std::string error;
  if (!read_whole_file(cfg_.dht_state_file, kMaxTorrentFile, &buf, &error)) return;
  try {
    lt::session_params const saved = lt::read_session_params(buf, lt::session::save_dht_state);
    params->dht_state = saved.dht_state;
    trace("DHT state read from %s (%d nodes)", cfg_.dht_state_file.c_str(),
          int(saved.dht_state.nodes.size() + saved.dht_state.nodes6.size()));
  } catch (const std::exception& e) {
    trace("DHT state in %s ignored: %s", cfg_.dht_state_file.c_str(), e.what());
  }
}

void SessionImpl::save_dht_state() const {
  if (!cfg_.dht || cfg_.dht_state_file.empty() || !ses_) return;
  try {
    lt::session_params const state = ses_->session_state(lt::session::save_dht_state);
    std::vector<char> const buf = lt::write_session_params_buf(state, lt::session::save_dht_state);
    std::error_code ec;
    fs::create_directories(fs::path(cfg_.dht_state_file).parent_path(), ec);
    std::string error;
    if (write_file_atomically(cfg_.dht_state_file, buf, &error)) {
      trace("DHT state written to %s (%d nodes)", cfg_.dht_state_file.c_str(),
            int(state.dht_state.nodes.size() + state.dht_state.nodes6.size()));
    } else {
      trace("DHT state not written: %s", error.c_str());
    }
  } catch (const std::exception& e) {
    trace("DHT state not written: %s", e.what());
  }
}

void SessionImpl::log_alert(const lt::alert* a) const {
  if (!cfg_.log) return;
  lt::alert_category_t const shown =
      lt::alert_category::error | lt::alert_category::tracker | lt::alert_category::connect |
      lt::alert_category::dht | lt::alert_category::peer | lt::alert_category::port_mapping |
      lt::alert_category::performance_warning | lt::alert_category::session_log |
      lt::alert_category::torrent_log | lt::alert_category::dht_log |
      lt::alert_category::peer_log;
  if (!(a->category() & shown)) return;
  trace("libtorrent %s: %s", a->what(), a->message().c_str());
}

void SessionImpl::warn_tracker(const lt::alert* a) {
  std::string line;
  if (auto* e = lt::alert_cast<lt::tracker_error_alert>(a)) {
    std::string why = e->failure_reason();
    if (why.empty()) why = e->error.message();
    line = std::string("tracker ") + e->tracker_url() + ": " + why;
  } else if (auto* w = lt::alert_cast<lt::tracker_warning_alert>(a)) {
    line = std::string("tracker ") + w->tracker_url() + ": " + w->warning_message();
  } else {
    return;
  }
  if (!cfg_.warn || !warned_.insert(line).second) return;
  cfg_.warn(line);
}

void SessionImpl::announce_dht_once() {
  // A torrent added before the DHT ran misses libtorrent's prompt first announce; the next
  // would come an announce interval (15 min) later. Ask for it as soon as the DHT runs (and
  // again once it has bootstrapped, in handle_alert).
  if (!cfg_.dht || dht_announced_ || !ses_->is_dht_running()) return;
  lt::torrent_handle h;
  {
    std::lock_guard<std::mutex> lk(mu_);
    h = handle_;
  }
  if (!h.is_valid()) return;
  h.force_dht_announce();
  dht_announced_ = true;
}

std::string SessionImpl::resume_path(const std::string& info_hash) const {
  return (fs::path(save_path_) / ".cine" / "resume" / (info_hash + ".fastresume")).string();
}

void SessionImpl::load_resume(lt::add_torrent_params* atp, const std::string& info_hash) const {
  std::vector<char> buf;
  std::string ignored;
  if (!read_whole_file(resume_path(info_hash), kMaxTorrentFile, &buf, &ignored)) return;
  lt::add_torrent_params resumed;
  if (!parse_resume_file(buf, info_hash, &resumed)) return;
  if (atp->ti) resumed.ti = atp->ti;
  *atp = std::move(resumed);
}

bool SessionImpl::add(const std::string& source, std::string* error) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (added_) {
      *error = "this session already has a torrent";
      return false;
    }
  }
  lt::add_torrent_params atp;
  if (is_magnet(source)) {
    MagnetInfo mi;
    if (!parse_magnet(source, &mi, error)) return false;
    lt::error_code ec;
    lt::parse_magnet_uri(source, atp, ec);
    if (ec) {
      *error = "invalid magnet link: " + ec.message();
      return false;
    }
  } else {
    atp.ti = load_torrent_info(source, error);
    if (!atp.ti) return false;
  }
  std::string const ih =
      atp.ti ? info_hash_hex(atp.ti->info_hashes()) : info_hash_hex(atp.info_hashes);

  std::error_code fec;
  fs::path const save = fs::absolute(cfg_.save_path.empty() ? "." : cfg_.save_path, fec);
  if (fec) {
    *error = "invalid save path '" + cfg_.save_path + "': " + fec.message();
    return false;
  }
  if (!cfg_.metadata_only) {
    fs::create_directories(save, fec);
    if (fec || !fs::is_directory(save)) {
      *error = "cannot create save path " + save.string() + ": " +
               (fec ? fec.message() : "not a directory");
      return false;
    }
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    save_path_ = save.string();
  }
  if (!cfg_.metadata_only) load_resume(&atp, ih);
  atp.save_path = save.string();
  atp.flags &= ~(lt::torrent_flags::paused | lt::torrent_flags::auto_managed);
  if (cfg_.metadata_only) atp.flags |= lt::torrent_flags::upload_mode;
  for (const lt::tcp::endpoint& ep : peers_) atp.peers.push_back(ep);
  atp.extensions.push_back([tap = tap_](const lt::torrent_handle&, lt::client_data_t) {
    return std::make_shared<TapTorrentPlugin>(tap);
  });
  if (cfg_.plan_before_add && atp.ti && !cfg_.metadata_only) {
    // Handed to libtorrent by select_file(), with the first plan (see SessionConfig).
    std::lock_guard<std::mutex> lk(mu_);
    ti_ = atp.ti;
    meta_ = to_metadata(*atp.ti);
    have_metadata_ = true;
    info_hash_ = ih;
    added_ = true;
    deferred_ = std::move(atp);
    changed_.notify_all();
    return true;
  }

  lt::error_code ec;
  lt::torrent_handle h = ses_->add_torrent(std::move(atp), ec);
  if (ec || !h.is_valid()) {
    *error = "cannot add torrent: " + ec.message();
    return false;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    handle_ = h;
    info_hash_ = ih;
    added_ = true;
    if (auto ti = h.torrent_file()) {
      ti_ = ti;
      meta_ = to_metadata(*ti);
      have_metadata_ = true;
    } else {
      meta_.info_hash = ih;
    }
  }
  changed_.notify_all();
  waker_->notify();
  return true;
}

bool SessionImpl::wait_until(const std::function<bool()>& ready,
                             const std::function<bool()>& should_stop, std::string* error) {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (!fatal_.empty()) {
      *error = fatal_;
      return false;
    }
    if (!added_) {
      *error = "no torrent was added";
      return false;
    }
    if (ready()) return true;
    lk.unlock();
    bool const stop = should_stop && should_stop();
    lk.lock();
    if (stop) {
      *error = have_metadata_ ? "interrupted while checking files"
                              : "interrupted while waiting for metadata";
      return false;
    }
    changed_.wait_for(lk, 100ms);
  }
}

bool SessionImpl::select_file(const std::string& spec, FileEntry* chosen, std::string* error) {
  std::unique_lock<std::mutex> lk(mu_);
  if (!have_metadata_) {
    *error = "no metadata yet";
    return false;
  }
  const std::vector<FileEntry>& files = meta_.files;
  if (files.empty()) {
    *error = "the torrent has no files";
    return false;
  }
  const FileEntry* pick = nullptr;
  if (spec.empty()) {
    for (bool video : {true, false}) {
      for (const FileEntry& f : files) {
        if (!(video ? is_video_name(f.path) : is_audio_name(f.path))) continue;
        if (!pick || f.size > pick->size) pick = &f;
      }
      if (pick) break;
    }
    if (!pick) {
      *error = "no video or audio file in the torrent (" + std::to_string(files.size()) +
               " file" + (files.size() == 1 ? "" : "s") +
               "; choose one with --file=INDEX|NAME, see `cine info`)";
      return false;
    }
  } else if (std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
             spec.size() < 9) {
    int const index = std::stoi(spec);
    for (const FileEntry& f : files) {
      if (f.index == index) pick = &f;
    }
    if (!pick) {
      *error = "no file with index " + spec + " (see `cine info`)";
      return false;
    }
  } else {
    std::vector<const FileEntry*> matches;
    std::string const root = meta_.name + "/";
    for (const FileEntry& f : files) {
      bool const exact =
          f.path == spec || (f.path.rfind(root, 0) == 0 && f.path.substr(root.size()) == spec);
      if (exact) {
        matches = {&f};
        break;
      }
      if (fs::path(f.path).filename() == spec) matches.push_back(&f);
    }
    if (matches.empty()) {
      *error = "no file named '" + spec + "' in the torrent";
      return false;
    }
    if (matches.size() > 1) {
      *error = "file name '" + spec + "' is ambiguous; give its path or index";
      return false;
    }
    pick = matches.front();
  }
  *chosen = *pick;
  selected_ = pick->index;
  ++selection_gen_;
  std::vector<lt::download_priority_t> prios(size_t(ti_->num_files()), lt::dont_download);
  prios[size_t(pick->index)] = lt::default_priority;
  if (deferred_) {
    // File priorities apply first when libtorrent adds the torrent, piece priorities over them.
    lt::add_torrent_params atp = std::move(*deferred_);
    deferred_.reset();
    atp.file_priorities = prios;
    atp.piece_priorities = first_plan(*ti_, pick->index, first_opens_to_seek_, cfg_.seek_focus);
    lk.unlock();
    lt::error_code ec;
    lt::torrent_handle const h = ses_->add_torrent(atp, ec);
    lk.lock();
    if (ec || !h.is_valid()) {
      deferred_ = std::move(atp);  // a later select_file() adds it again
      *error = "cannot add torrent: " + ec.message();
      return false;
    }
    handle_ = h;
    lk.unlock();
    changed_.notify_all();
    waker_->notify();
    return true;
  }
  lt::torrent_handle h = handle_;
  lk.unlock();
  h.prioritize_files(prios);
  waker_->notify();
  return true;
}

std::unique_ptr<ByteSource> SessionImpl::open_stream() {
  std::lock_guard<std::mutex> lk(mu_);
  if (selected_ < 0 || !ti_) return nullptr;
  const lt::file_storage& files = ti_->files();
  lt::file_index_t const f(selected_);
  PieceMap const map(files.file_offset(f), files.file_size(f), files.total_size(),
                     files.piece_length());
  if (stream_) stream_->ring().fail(EIO);
  stream_ = std::make_shared<StreamState>(map, std::max<int64_t>(cfg_.ring_bytes, 1 << 20),
                                          files.file_path(f), [w = waker_] { w->notify(); });
  if (cfg_.seek_focus) stream_->enable_seek_focus();
  if (first_opens_to_seek_) stream_->set_opening(true);
  else if (cfg_.seek_focus) stream_->set_starting(true);
  first_opens_to_seek_ = false;
  waker_->notify();
  return std::make_unique<TorrentStream>(stream_);
}

PieceView SessionImpl::piece_view() const {
  std::lock_guard<std::mutex> lk(mu_);
  PieceView v;
  if (!ti_ || selected_ < 0) return v;
  const lt::file_storage& files = ti_->files();
  lt::file_index_t const f(selected_);
  PieceMap const map(files.file_offset(f), files.file_size(f), files.total_size(),
                     files.piece_length());
  PieceSpan const span = map.file_pieces();
  v.first_piece = span.begin.value;
  v.file_offset = map.file_offset();
  v.piece_size = map.piece_size();
  auto letter = [&](PieceIndex p) {
    return pieces_view_.have(p)        ? 'h'
           : critical_view_.count(p)   ? 'c'
           : pieces_view_.requested(p) ? 'r'
                                       : '.';
  };
  for (PieceIndex p = span.begin; p < span.end; ++p) v.states += letter(p);
  v.torrent_states.reserve(size_t(ti_->num_pieces()));
  for (int i = 0; i < ti_->num_pieces(); ++i) v.torrent_states += letter(PieceIndex(i));
  return v;
}

void SessionImpl::save_resume() {
  std::unique_lock<std::mutex> lk(mu_);
  if (!have_metadata_ || cfg_.metadata_only) return;
  int const target = saves_done_ + (save_in_flight_ ? 2 : 1);
  save_requested_ = true;
  lk.unlock();
  waker_->notify();
  lk.lock();
  changed_.wait_for(lk, 10s, [&] { return saves_done_ >= target || !fatal_.empty(); });
}

void SessionImpl::fail(const std::string& message) {
  std::lock_guard<std::mutex> lk(mu_);
  if (fatal_.empty()) fatal_ = message;
  if (stream_) stream_->ring().fail(EIO);
  changed_.notify_all();
}

// ---- pump thread ----

void SessionImpl::pump() {
  std::vector<lt::alert*> alerts;
  while (!stop_) {
    auto const now = Clock::now();
    waker_->wait_for(staged_until_ > now ? std::min<Clock::duration>(kTick, staged_until_ - now)
                                         : kTick);
    if (stop_) break;
    // libtorrent reports some failures (a handle gone invalid) by throwing; nothing may leave
    // this thread that way.
    try {
      ses_->pop_alerts(&alerts);
      piece_arrived_ = false;
      for (lt::alert* a : alerts) handle_alert(a);
      announce_dht_once();
      // A new piece refreshes the counters at once: the player reports them with its first
      // frame, which comes a few milliseconds after the piece it needed.
      refresh_status(piece_arrived_);
      plan_and_fill();
      maybe_save_resume();
    } catch (const std::exception& e) {
      fail(std::string("torrent session: ") + e.what());
    }
  }
}

void SessionImpl::handle_alert(lt::alert* a) {
  log_alert(a);
  warn_tracker(a);
  if (auto* r = lt::alert_cast<lt::read_piece_alert>(a)) {
    on_read_piece(*r);
  } else if (auto* p = lt::alert_cast<lt::piece_finished_alert>(a)) {
    bits_.set_have(PieceIndex(static_cast<int>(p->piece_index)));
    piece_arrived_ = true;
    // (Resume data replays every piece it lists as one of these: not worth a line each.)
    if (status_.state != lt::torrent_status::checking_resume_data)
      trace("piece %d verified", static_cast<int>(p->piece_index));
    if (saved_clean_) {
      // The clean file on disk no longer tells the whole truth: replace it soon.
      std::lock_guard<std::mutex> lk(mu_);
      save_requested_ = true;
    }
  } else if (lt::alert_cast<lt::metadata_received_alert>(a)) {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto ti = handle_.torrent_file()) {
      ti_ = ti;
      meta_ = to_metadata(*ti);
      have_metadata_ = true;
    }
    changed_.notify_all();
  } else if (lt::alert_cast<lt::torrent_checked_alert>(a)) {
    // Only a hint to look now: this alert can arrive while the status still says
    // checking_resume_data with no piece counted; the status decides (refresh_status).
    refresh_status(true);
  } else if (auto* s = lt::alert_cast<lt::save_resume_data_alert>(a)) {
    write_resume(s->params, pending_clean_);
  } else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
    std::lock_guard<std::mutex> lk(mu_);
    save_in_flight_ = false;
    ++saves_done_;
    changed_.notify_all();
  } else if (auto* e = lt::alert_cast<lt::file_error_alert>(a)) {
    fail(std::string("file error on ") + e->filename() + ": " + e->error.message());
  } else if (auto* t = lt::alert_cast<lt::torrent_error_alert>(a)) {
    fail("torrent error: " + t->error.message());
  } else if (lt::alert_cast<lt::file_prio_alert>(a)) {
    // New file priorities (select_file) reach libtorrent's piece priorities only now, through
    // the disk thread, and overwrite the plan's: state the plan again.
    applied_prios_.clear();
    applied_deadlines_.clear();
  } else if (lt::alert_cast<lt::torrent_finished_alert>(a)) {
    std::lock_guard<std::mutex> lk(mu_);
    save_requested_ = true;
  } else if (lt::alert_cast<lt::dht_bootstrap_alert>(a)) {
    // A torrent added while the DHT was still starting missed its first announce, and
    // libtorrent would wait a whole announce interval (15 min) for the next one.
    lt::torrent_handle h;
    {
      std::lock_guard<std::mutex> lk(mu_);
      h = handle_;
    }
    if (h.is_valid()) h.force_dht_announce();
  }
}

void SessionImpl::refresh_status(bool force) {
  auto const now = Clock::now();
  if (!force && now - status_at_ < kStatusEvery) return;
  status_at_ = now;
  lt::torrent_handle h;
  std::shared_ptr<const lt::torrent_info> ti;
  {
    std::lock_guard<std::mutex> lk(mu_);
    h = handle_;
    ti = ti_;
  }
  if (!h.is_valid()) return;
  status_ = h.status(lt::torrent_handle::query_pieces);
  std::vector<lt::partial_piece_info> queue;
  if (ti) {
    if (bits_.size() != ti->num_pieces()) bits_ = PieceBits(ti->num_pieces());
    for (int i = 0; i < bits_.size(); ++i) {
      PieceIndex const p(i);
      bool const have =
          status_.pieces.size() == bits_.size() && status_.pieces.get_bit(lt::piece_index_t(i));
      // A piece_finished alert may be newer than this status: keep what we know.
      if (have) bits_.set_have(p);
      bits_.set_requested(p, false);
    }
    h.get_download_queue(queue);
    for (const lt::partial_piece_info& q : queue)
      bits_.set_requested(PieceIndex(int(q.piece_index)));
  }
  bool const checking = status_.state == lt::torrent_status::checking_files ||
                        status_.state == lt::torrent_status::checking_resume_data;
  std::lock_guard<std::mutex> lk(mu_);
  // Checked: metadata there and neither checking resume data nor hashing files any more.
  if (ti && !checking && status_.has_metadata) checked_ = true;
  stats_.downloaded = status_.total_payload_download;
  stats_.uploaded = status_.total_payload_upload;
  stats_.download_rate = status_.download_payload_rate;
  stats_.upload_rate = status_.upload_payload_rate;
  stats_.peers = status_.num_peers;
  stats_.seeds = status_.num_seeds;
  stats_.pieces_have = status_.num_pieces;
  stats_.num_pieces = ti ? ti->num_pieces() : 0;
  stats_.progress = status_.progress;
  stats_.finished = ti && !checking && (status_.is_finished || status_.is_seeding);
  pieces_view_ = bits_;
  changed_.notify_all();
  follow_finished(stats_.finished);
}

// A finished torrent goes back to libtorrent's own reconnect wait (a minute). A seed that
// connects to another seed hangs up on the other's upload-only extended handshake, before the
// other's have-all could mark it as a seed in the peer list; so it stays a connect candidate,
// and with the 2 s wait a streaming download wants, seeds of one swarm (each of itself, too,
// when the tracker lists it) reconnected every 2 s, each time with an encrypted handshake
// through their upload limiter, whose ticks then delayed a real downloader's first messages.
void SessionImpl::follow_finished(bool finished) {
  if (finished == finished_settings_) return;
  finished_settings_ = finished;
  lt::settings_pack sp;
  sp.set_int(lt::settings_pack::min_reconnect_time,
             finished ? lt::default_settings().get_int(lt::settings_pack::min_reconnect_time)
                      : kDownloadReconnectSeconds);
  ses_->apply_settings(std::move(sp));
}

void SessionImpl::plan_and_fill() {
  lt::torrent_handle h;
  std::shared_ptr<const lt::torrent_info> ti;
  std::shared_ptr<StreamState> stream;
  int selected, gen;
  bool opens_to_seek;
  {
    std::lock_guard<std::mutex> lk(mu_);
    h = handle_;
    ti = ti_;
    stream = stream_;
    opens_to_seek = first_opens_to_seek_;
    selected = selected_;
    gen = selection_gen_;
  }
  if (!h.is_valid()) return;
  auto const now = Clock::now();

  // Peers given on the command line: reconnect while nobody is connected (e.g. the seeder
  // started after us), as libtorrent backs off for a minute after a failed attempt.
  if (!peers_.empty() && status_.num_peers == 0 && !status_.is_seeding && now >= reconnect_at_) {
    reconnect_at_ = now + kReconnectEvery;
    for (const lt::tcp::endpoint& ep : peers_) h.connect_peer(ep);
  }
  if (!ti || selected < 0 || cfg_.metadata_only) return;
  if (bits_.size() != ti->num_pieces()) bits_ = PieceBits(ti->num_pieces());

  if (gen != planned_gen_) {
    const lt::file_storage& files = ti->files();
    lt::file_index_t const f(selected);
    map_.emplace(files.file_offset(f), files.file_size(f), files.total_size(),
                 files.piece_length());
    picker_ = std::make_unique<Picker>(*map_);
    index_ = std::make_unique<ContainerIndex>(map_->file_size());
    early_index_ = std::make_unique<ContainerIndex>(map_->file_size());
    early_told_ = false;
    tap_->take();
    matroska_name_ = is_matroska_name(files.file_name(f).to_string());
    applied_prios_.clear();
    applied_deadlines_.clear();
    planned_gen_ = gen;
    released_ = false;
  }
  if (stream != fed_) {
    fed_ = stream;
    applied_head_ = PieceIndex(-1);
    if (fed_) released_ = false;
  }
  if (fed_ && fed_->detached()) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (stream_ == fed_) stream_.reset();
    }
    fed_.reset();
    // Nobody reads any more: no deadlines, the rest of the file downloads (and seeds) as usual.
    PiecePlan const plan = picker_->release(bits_);
    apply(h, plan, PickerInput{});
    released_ = true;
    tap_->want({}, 0);
    tap_->take();
    trace("stream closed: %zu deadlines cleared", plan.resets.size());
  }
  if (released_) {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.buffered_ahead = 0;
    stats_.ring_used = stats_.ring_capacity = -1;
    critical_view_.clear();
    return;
  }

  // Until a stream opens (right after select_file) the plan is for a reader at 0: the header
  // and the index are wanted first anyway.
  bool const early = tap_early_blocks();
  PickerInput const in =
      picker_input(early ? *early_index_ : *index_, matroska_name_, fed_.get(),
                   status_.download_payload_rate, opens_to_seek, cfg_.seek_focus);
  apply(h, picker_->plan(in, bits_), in);
  fill(h, std::min(in.read_head, map_->file_size()));
}

// Feeds the blocks the tap kept to the early parse and tells the tap what that parse wants
// next; nothing once either parse is done. Returns whether the plan should follow the early
// parse (early_parse_ahead).
bool SessionImpl::tap_early_blocks() {
  int64_t const file_begin = map_->file_offset();
  ByteRange const file{file_begin, file_begin + map_->file_size()};
  for (const BlockTap::Chunk& c : tap_->take()) {
    ByteRange const part =
        ByteRange{c.offset, c.offset + int64_t(c.bytes.size())}.intersect(file);
    if (part.empty() || early_index_->done()) continue;
    early_index_->feed(part.begin - file_begin, c.bytes.data() + (part.begin - c.offset),
                       size_t(part.size()));
  }
  std::vector<ByteRange> want;
  if (!index_->done() && !early_index_->done()) {
    for (ByteRange w : early_index_->kept())
      want.push_back(ByteRange{w.begin + file_begin, w.end + file_begin});
  }
  tap_->want(std::move(want), map_->piece_size());
  bool const ahead = early_parse_ahead(*index_, *early_index_);
  // Said once, as soon as the early parse tells the plan something: the format and where the
  // index is (or the next bytes it needs to find it).
  if (!early_told_ && ahead && early_index_->format() != ContainerFormat::unknown) {
    early_told_ = true;
    std::string where;
    auto say = [&where](const char* what, const std::vector<ByteRange>& ranges) {
      for (ByteRange r : ranges)
        where += std::string(" ") + what + " [" + std::to_string(r.begin) + "," +
                 std::to_string(r.end) + ")";
    };
    say("index", early_index_->index());
    say("wants", early_index_->wanted());
    trace("early parse (unchecked blocks): %s header [0,%lld)%s", to_string(early_index_->format()),
          static_cast<long long>(early_index_->header().end), where.c_str());
  }
  return ahead;
}

void SessionImpl::apply(const lt::torrent_handle& h, const PiecePlan& plan, const PickerInput& in) {
  auto const now = Clock::now();
  for (PieceIndex p : plan.resets) h.reset_piece_deadline(lt::piece_index_t(p.value));
  // A reset drops its piece to priority 1 inside libtorrent: restate the tiers after resets.
  if (!plan.resets.empty() || plan.priorities != applied_prios_) {
    std::vector<lt::download_priority_t> prios;
    prios.reserve(plan.priorities.size());
    for (uint8_t v : plan.priorities) prios.push_back(lt::download_priority_t(v));
    h.prioritize_pieces(prios);
    applied_prios_ = plan.priorities;
  }
  std::set<PieceIndex> deadline_set;
  for (const Deadline& d : plan.deadlines) deadline_set.insert(d.piece);
  PieceIndex const head_piece = map_->piece_at(in.read_head);
  bool const deadlines_due = !plan.resets.empty() || deadline_set != applied_deadlines_ ||
                             head_piece != applied_head_ || now - deadlines_at_ >= kDeadlineRefresh;
  // Until the staged deadlines of a far seek or a preempt have had their effect, no others: a
  // pass woken a millisecond later (a piece, a read) would otherwise give the rest of the
  // window its deadlines before libtorrent ran its cancel, and their requests would stay.
  bool const staged = plan.retargeted || plan.preempt;
  if (!deadlines_due || (!staged && now < staged_until_)) return;
  // After a far seek libtorrent's critical list is empty, so the first new deadline makes it
  // cancel every queued request of a piece without one (see Picker::plan). Only the pieces
  // needed first (PiecePlan::first) get theirs now: the requests for the rest of the new
  // window, some of them made before the seek as read-ahead, are cancelled too and no longer
  // queue ahead of the head. They get their deadlines on the next pass, a moment later.
  std::set<PieceIndex> applied;
  for (const Deadline& d : plan.deadlines) {
    if (staged && !plan.first.count(d.piece)) continue;
    applied.insert(d.piece);
    lt::piece_index_t const p(d.piece.value);
    h.set_piece_deadline(p, d.ms);
    // libtorrent lifts every piece with a deadline to priority 7; put it back in its tier right
    // away, or its ordinary picker (which fills the peers' queues between the once-a-second
    // deadline requests) would take the whole window in random order.
    uint8_t const tier = plan.priorities[size_t(d.piece.value)];
    if (tier != uint8_t(Priority::top)) h.piece_priority(p, lt::download_priority_t(tier));
  }
  if (cfg_.log) {
    std::string dl;
    for (size_t i = 0; i < plan.deadlines.size() && i < 12; ++i)
      dl += " " + std::to_string(plan.deadlines[i].piece.value) + "@" +
            std::to_string(plan.deadlines[i].ms);
    for (ByteRange r : in.guessed) {
      PieceSpan const span = map_->pieces_for(r);
      dl += " guessed [" + std::to_string(span.begin.value) + "," + std::to_string(span.end.value) +
            ")";
    }
    trace("plan: head %lld (piece %d) rate %.0f window [%d,%d)%s resets %zu%s deadlines %zu:%s",
          static_cast<long long>(in.read_head), head_piece.value, in.byte_rate,
          plan.window.begin.value, plan.window.end.value,
          in.opening    ? " opening"
          : in.starting ? " starting"
          : in.settling ? " settling"
                        : "",
          plan.resets.size(),
          plan.retargeted ? " (far seek)"
          : plan.preempt  ? " (preempt)"
                          : "", plan.deadlines.size(), dl.c_str());
  }
  applied_deadlines_ = std::move(applied);
  applied_head_ = head_piece;
  deadlines_at_ = now;
  if (staged) staged_until_ = now + kStagedDeadlines;
}

// Feeds the index parser and the ring from verified pieces, nearest first, and publishes what
// the overlay and the stats show.
void SessionImpl::fill(const lt::torrent_handle& h, int64_t head) {
  if (!index_->done()) {
    for (ByteRange w : index_->wanted()) {
      PieceSpan const span = map_->pieces_for(w);
      for (PieceIndex p = span.begin; p < span.end; ++p) read_piece(h, p);
    }
  }
  int64_t buffered = 0, ring_used = -1, ring_capacity = -1;
  if (fed_) {
    ring_used = fed_->ring().present_bytes();
    ring_capacity = fed_->ring().capacity();
    RingBuffer& ring = fed_->ring();
    PieceSpan const span = map_->pieces_for({head, ring.window().end});
    for (PieceIndex p = span.begin; p < span.end; ++p) {
      if (bits_.have(p) && !ring.has(map_->file_bytes(p))) read_piece(h, p);
    }
    for (PieceIndex p = map_->piece_at(head); head < map_->file_size() && bits_.have(p); ++p) {
      buffered = map_->file_bytes(p).end - head;
      if (p.next() >= map_->file_pieces().end) break;
    }
  }
  std::lock_guard<std::mutex> lk(mu_);
  stats_.buffered_ahead = buffered;
  stats_.ring_used = ring_used;
  stats_.ring_capacity = ring_capacity;
  critical_view_ = picker_->critical();
}

void SessionImpl::read_piece(const lt::torrent_handle& h, PieceIndex p) {
  if (!bits_.have(p) || reads_in_flight_.count(p.value) ||
      reads_in_flight_.size() >= kMaxReadsInFlight)
    return;
  auto const retry = read_retry_at_.find(p.value);
  if (retry != read_retry_at_.end() && Clock::now() < retry->second) return;
  h.read_piece(lt::piece_index_t(p.value));
  reads_in_flight_.insert(p.value);
}

void SessionImpl::on_read_piece(const lt::read_piece_alert& a) {
  int const piece = static_cast<int>(a.piece);
  reads_in_flight_.erase(piece);
  if (a.error || !map_) {
    read_retry_at_[piece] = Clock::now() + 1s;
    return;
  }
  read_retry_at_.erase(piece);
  PieceIndex const p(piece);
  ByteRange const fb = map_->file_bytes(p);
  int64_t const piece_file_begin = map_->piece_begin(p) - map_->file_offset();
  if (fb.empty() || fb.end - piece_file_begin > a.size) return;
  const uint8_t* data =
      reinterpret_cast<const uint8_t*>(a.buffer.get()) + (fb.begin - piece_file_begin);
  if (fed_) fed_->ring().write(fb.begin, data, size_t(fb.size()));
  if (index_ && !index_->done()) index_->feed(fb.begin, data, size_t(fb.size()));
}

void SessionImpl::maybe_save_resume() {
  if (cfg_.metadata_only) return;
  auto const now = Clock::now();
  lt::torrent_handle h;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!have_metadata_ || !handle_.is_valid() || save_in_flight_) return;
    bool const periodic = now - resume_at_ >= kResumeEvery && handle_.need_save_resume_data();
    if (!save_requested_ && !periodic) return;
    save_requested_ = false;
    save_in_flight_ = true;
    h = handle_;
  }
  resume_at_ = now;
  // Clean when nothing is left to fetch: then no piece can pass after this snapshot.
  pending_clean_ = status_.is_finished || status_.is_seeding;
  h.save_resume_data(lt::torrent_handle::save_info_dict);
}

void SessionImpl::write_resume(const lt::add_torrent_params& atp, bool clean) {
  std::string path;
  {
    std::lock_guard<std::mutex> lk(mu_);
    path = resume_path(info_hash_);
  }
  lt::entry e = lt::write_resume_data(atp);
  e[kCleanKey] = clean ? 1 : 0;
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), e);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string ignored;
  bool const ok = write_file_atomically(path, buf, &ignored);
  saved_clean_ = ok && clean;
  std::lock_guard<std::mutex> lk(mu_);
  save_in_flight_ = false;
  ++saves_done_;
  changed_.notify_all();
}

}  // namespace streaming
