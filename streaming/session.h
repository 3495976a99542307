// streaming::Session: owns the lt::session — adds a .torrent or magnet, waits for metadata,
// chooses the file, pumps alerts on one thread, seeds, saves resume data. No FFmpeg, no SDL.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "streaming/byte_source.h"

namespace streaming {

struct SessionConfig {
  std::string save_path = ".";  // every file Cine writes for this torrent stays below it
  int listen_port = 0;          // 0: let the OS choose
  std::string listen_interface = "0.0.0.0";
  bool dht = true, lsd = true, upnp = true, natpmp = true;
  std::vector<std::string> peers;   // HOST:PORT added directly
  int max_download = 0;             // bytes/s, 0 = unlimited; local peers count too
  int max_upload = 0;               // bytes/s, 0 = unlimited; local peers count too
  int64_t ring_bytes = 64ll << 20;  // memory bound of the read window
  // Several peers on one address (allow_multiple_connections_per_ip): a loopback swarm (tests,
  // the demo) is all 127.0.0.1.
  bool allow_loopback_peers = true;
  // Tools (`cine info` on a magnet): fetch the metadata only; no piece is requested and
  // nothing (data or resume file) is written.
  bool metadata_only = false;
  // Streaming (play, serve): a .torrent is handed to libtorrent only in select_file(), with the
  // chosen file's priority and the picker's first plan (header and index first) already in its
  // add parameters. Peers on a fast swarm answer within milliseconds of the add, before a plan
  // applied afterwards is in force, and libtorrent asks them for random pieces meanwhile (seen
  // on loopback: the first two pieces fetched were from the middle of the file). Until
  // select_file() nothing connects or announces; wait_checked() waits for that too. Magnets
  // are added at once (their file list comes from the swarm).
  bool plan_before_add = false;
  // Streams are read by a player that tells when a seek begins and when playback can go on
  // after it (ByteSource::playback_pending/ready): in between only what is needed next is
  // fetched (PickerConfig::settle_seconds); likewise from opening a stream until the player
  // says its first picture is out (ByteSource::start_position_reached, PickerInput::starting).
  // Not for readers that never tell (cine serve).
  bool seek_focus = false;
  // Disk I/O through pread/pwrite instead of libtorrent 2.0's default memory-mapped files. With
  // mmap every downloaded and every read byte stays mapped in this process and counts in its
  // resident memory until the kernel drops it; a player streaming a film would show the whole
  // film in its RSS. For the modest rates of one stream the copies cost nothing measurable.
  // Seeding many torrents at once (cine seed) keeps the mapped files.
  bool posix_disk_io = false;
  // The first stream will be opened only to seek elsewhere at once (cine play --start): from
  // the first plan on, only the header, the index, the demuxer's probe and then the first
  // pieces at the new position are fetched until the reader says its first picture there is
  // out (ByteSource::start_position_reached).
  bool opens_to_seek = false;
  // Optional trace (e.g. for -v): one line per event — pieces verified, plans applied (read
  // head, window, resets, deadlines). Called on the session's pump thread; must not block.
  std::function<void(const std::string&)> log;
  // With log: also libtorrent's own session and torrent logs (and the DHT's), not only its
  // tracker, DHT, connection and error alerts.
  bool log_detailed = false;
  // With log: also every peer protocol message (libtorrent's peer log: handshakes, chokes,
  // requests, blocks). Many lines a second while downloading.
  bool log_peers = false;
  // Problems the user should hear of that do not stop the torrent (a tracker that fails or
  // cannot be reached), one line each, told once per tracker and message. Pump thread; must
  // not block.
  std::function<void(const std::string&)> warn;
  // DHT nodes (HOST:PORT) to start from. When given they replace libtorrent's default routers,
  // and nodes on loopback or the LAN are accepted: a private DHT (e.g. sessions on 127.0.0.1).
  std::vector<std::string> dht_bootstrap;
  // The DHT's state (node id, known nodes) between runs: read when the session starts if the
  // file exists, written when it ends. "" = not kept. Only with dht on.
  std::string dht_state_file;
};

struct FileEntry {
  int index = 0;
  std::string path;  // path inside the torrent, sanitised for display
  int64_t size = 0;
  int64_t offset = 0;  // byte offset inside the torrent
};

struct Metadata {
  std::string name;
  std::string info_hash;  // lowercase hex: the v1 SHA-1 if present, else the full v2 SHA-256
  int piece_size = 0;
  int num_pieces = 0;
  int64_t total_size = 0;
  std::vector<FileEntry> files;
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;  // BEP 19 url-list
};

// A snapshot, refreshed about 5 times a second by the session's pump thread.
struct SwarmStats {
  int64_t downloaded = 0;  // payload bytes of this run
  int64_t uploaded = 0;
  int download_rate = 0;  // payload bytes/s
  int upload_rate = 0;
  int peers = 0;
  int seeds = 0;
  int pieces_have = 0;  // in the whole torrent
  int num_pieces = 0;
  double progress = 0;         // of the wanted files, 0..1
  int64_t buffered_ahead = 0;  // verified bytes contiguous from the read head
  // The open stream's ring buffer: bytes in it and its memory bound; -1 without a stream.
  int64_t ring_used = -1, ring_capacity = -1;
  bool finished = false;       // all wanted files downloaded
};

// Per-piece view of the selected file for the overlay: one char per piece of the file's span,
// 'h' have (verified), 'r' requested/in flight, 'c' critical (has a deadline), '.' missing.
struct PieceView {
  int first_piece = 0;
  std::string states;
  int64_t file_offset = 0;  // offset of the file inside the torrent
  int piece_size = 0;
  // The whole torrent, one char a piece, same letters ('.' also for pieces of unwanted files).
  std::string torrent_states;
};

// Reads a .torrent file without a session. False with a one-line *error for a missing,
// unreadable or invalid file.
bool load_torrent_metadata(const std::string& path, Metadata* out, std::string* error);
// The same from the file's bytes in memory (errors name "the data").
bool parse_torrent_metadata(const std::vector<char>& bytes, Metadata* out, std::string* error);

// Threads: the public calls come from the application's threads (any, one at a time per call);
// the session runs libtorrent's alert pump on a thread of its own, which applies the piece
// picker's plans and feeds the stream. A stream returned by open_stream() is read on the
// player's reader thread. Destroying the session saves resume data, fails a still-open stream's
// reads with -EIO and stops seeding; until then the torrent keeps seeding.
class Session {
 public:
  // Starts libtorrent with cfg and waits until it listens. Returns nullptr and sets *error on
  // failure (port in use, bad --peer address, ...).
  static std::unique_ptr<Session> create(const SessionConfig& cfg, std::string* error);
  virtual ~Session() = default;

  // The TCP port the session listens on (useful with listen_port = 0).
  virtual int listen_port() const = 0;

  // Adds a .torrent path or a magnet URI (the info-hash validated by Cine). False + *error
  // on bad input. Does not wait for metadata.
  virtual bool add(const std::string& source, std::string* error) = 0;

  // Waits for metadata (magnets) or a fatal torrent error. Returns false with *error when the
  // torrent failed, or when should_stop() turned true (checked at least every 100 ms).
  virtual bool wait_metadata(const std::function<bool()>& should_stop, std::string* error) = 0;

  // Waits for metadata and for the files to be checked (against resume data or by hashing what
  // is on disk), so stats() tells what is already there. Same failure rules as wait_metadata().
  virtual bool wait_checked(const std::function<bool()>& should_stop, std::string* error) = 0;

  virtual Metadata metadata() const = 0;

  // Chooses the file to stream: spec is "" (largest video file), a decimal index, or a file
  // name / path. All other files are set to "don't download". False + *error if no such file.
  virtual bool select_file(const std::string& spec, FileEntry* chosen, std::string* error) = 0;

  // A ByteSource over the selected file; reads block until hash-verified bytes are present.
  // Its reads and seeks move the piece picker's read head; set_byte_rate() and prefetch() feed
  // the picker too. One stream at a time (opening another detaches the previous one, whose
  // reads then fail with -EIO). nullptr until select_file() succeeded.
  virtual std::unique_ptr<ByteSource> open_stream() = 0;

  virtual SwarmStats stats() const = 0;
  virtual PieceView piece_view() const = 0;

  // Writes resume data now (also done periodically and on destruction).
  virtual void save_resume() = 0;

  // True once every piece of the wanted files is downloaded and verified (from then on the
  // session only seeds). Before that, the download goes on in the background for as long as the
  // session lives.
  virtual bool finished() const = 0;

  // The error that stopped the torrent for good (a disk full or read-only, a file error, a
  // torrent error), "" while there is none. A stream's reads fail with -EIO from then on, which
  // FFmpeg may take for the end of the file: callers ask here why.
  virtual std::string error() const { return {}; }
};

}  // namespace streaming
