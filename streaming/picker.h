// Picker: the streaming piece policy. From the read head, the media and download byte rates, the
// piece state and the container's index ranges it plans piece priorities and deadlines.
// It is pure: it never sees libtorrent (the session applies the plan) and keeps no clock.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "streaming/piece_map.h"

namespace streaming {

// What the picker may know about pieces (the session answers from libtorrent, tests from
// plain data).
class PieceStates {
 public:
  virtual ~PieceStates() = default;
  virtual bool have(PieceIndex p) const = 0;       // hash-verified
  virtual bool requested(PieceIndex p) const = 0;  // some block is in flight
};

// PieceStates over two bit vectors indexed by piece. from_string() builds one from a compact
// string, one char a piece: 'h' have, 'r' requested, anything else missing.
class PieceBits : public PieceStates {
 public:
  PieceBits() = default;
  explicit PieceBits(int num_pieces) : have_(size_t(num_pieces)), requested_(size_t(num_pieces)) {}
  static PieceBits from_string(const std::string& s);

  bool have(PieceIndex p) const override { return in(p) && have_[size_t(p.value)]; }
  bool requested(PieceIndex p) const override { return in(p) && requested_[size_t(p.value)]; }
  void set_have(PieceIndex p, bool v = true) {
    if (in(p)) have_[size_t(p.value)] = v;
  }
  void set_requested(PieceIndex p, bool v = true) {
    if (in(p)) requested_[size_t(p.value)] = v;
  }
  int size() const { return int(have_.size()); }
  int count_have() const;

 private:
  bool in(PieceIndex p) const { return p.value >= 0 && size_t(p.value) < have_.size(); }
  std::vector<bool> have_;
  std::vector<bool> requested_;
};

// libtorrent's piece priorities, 0 (skip) .. 7 (top), and the tiers the picker uses. libtorrent
// requests blocks strictly by priority (among pieces every peer has), but at random inside a
// priority, and its deadline requests go out only once a second: so the order in which the
// stream needs its pieces is expressed in the tiers. The next pieces needed get the top tiers,
// a few each, so a random pick inside one costs little; the rest of the window, the read-ahead
// and the rest of the file follow in lower ones.
enum class Priority : uint8_t {
  skip = 0,
  behind = 1,     // already played past: wanted (seeding), last
  ahead = 2,      // the rest of the file ahead of the read-ahead
  readahead = 3,  // as much again after the window
  window = 4,     // the rest of the playback window (also: a plain download, see release())
  near = 5,       // the next tier_pieces[2] pieces needed
  soon = 6,       // the next tier_pieces[1]
  top = 7,        // the next tier_pieces[0]
};

struct PickerConfig {
  // Media byte rate assumed until the player gives the container's (8 Mbit/s).
  double assumed_byte_rate = 1 << 20;
  // The critical window covers this much playback ahead of the read head: the minimum when the
  // download barely keeps up, growing with download_rate / byte_rate up to the maximum.
  double min_window_seconds = 10;
  double max_window_seconds = 30;
  int min_window_pieces = 4;
  int64_t max_window_bytes = 256ll << 20;
  // While data ahead of the head is missing, at least this many missing pieces carry deadlines
  // (looking past the window if needed), so the critical set never runs dry.
  int min_critical_pieces = 4;
  // Header and index pieces get deadlines 0, step, 2*step, ... in the order they were given.
  int urgent_step_ms = 10;
  // How many of the next needed pieces not yet requested go in the top, soon and near tiers.
  // Pieces already in flight keep the tier of the next one to request.
  int tier_pieces[3] = {1, 2, 4};
  // ... except that the first this many urgent pieces not yet requested all go in the top tier:
  // a moov at the end is as needed as the header, and ranking it below the header put it in
  // the tier of the window's first pieces, which libtorrent then fetched first as often as not.
  int urgent_top_pieces = 4;
  // The likely ranges (an index guess, an index only seeking needs) are fetched after the
  // pieces of the window due within this much playback (and after the first tier).
  int likely_after_ms = 2000;
  // Only the pieces due within this much playback (and the urgent ones, and at least
  // min_critical_pieces) carry libtorrent deadlines; the rest of the window is ordered by its
  // tier alone. libtorrent lifts a piece with a deadline to priority 7 until the session puts
  // it back in its tier, and a peer that picks in between takes it ahead of the head: with the
  // whole window re-issued every second, that sent far pieces ahead of the next ones needed.
  // Its deadline requests (once a second) only look about a second ahead anyway.
  int deadline_horizon_ms = 3000;
  // From a seek until the player can play on (PickerInput::settling), only what it needs next
  // is wanted: the urgent and likely ranges and the first missing pieces from the head, at
  // least settle_min_missing of them and settle_seconds of media. Everything else waits
  // (priority 0), so the peers' next answers carry only those instead of the rest of the new
  // window in random order (a keyframe seek to 70 %: median 0.87 s -> 0.57 s; an exact one
  // 2.0 s -> 0.9 s, on the benchmark's swarm). Never fewer missing pieces than that are
  // wanted, or libtorrent would tell the peers it is not interested and they would choke it.
  double settle_seconds = 1.0;
  int settle_min_missing = 4;
  // ... but large pieces count by size: fewer of them (never fewer than two) when they hold this
  // much. The pieces beyond the ones needed are there only to keep the peers' interest; when
  // the reader's seek then moves elsewhere, their queued requests are cancelled, and until the
  // peers' rejects come back (behind the data already in their send buffers) those requests
  // still fill the queues the new pieces must be asked for through (in one trace, 1 MiB pieces:
  // the first request at 70 % went out 90 ms after the seek). Measured over alternating cold
  // starts, the time to the first frame did not change beyond the noise; ~1 MB less was fetched.
  int64_t settle_min_missing_bytes = 1 << 20;
  // ... and only while the download is known to be at least this many times as fast as
  // playback: on a swarm that barely keeps up, the pieces fetched side by side are what
  // carries playback past the next seconds. (The same focus at start-up, tried, stalled at
  // 1.5x the bitrate a few seconds in: so it is for seeks only.)
  double settle_min_speedup = 3.0;
  // While the reader opens the file to seek elsewhere (PickerInput::opening), only the urgent
  // and likely ranges and this many missing pieces from the head are wanted (the demuxer's
  // probe reads a little past the header; after the seek, the head is at the new position);
  // everything else waits, at any download rate: nothing plays yet. (At least the focus floor
  // of missing pieces stays wanted: settle_min_missing, fewer when large.)
  int opening_head_pieces = 1;
  // While starting (PickerInput::starting) the focus leaves at least this much missing wanted
  // (and never fewer pieces than the focus floor): small pieces hold too little to carry the
  // first seconds (16 KiB ones at 1.5x the bitrate stalled after the picture), so on them the
  // focus covers the window.
  int64_t start_min_missing_bytes = 1 << 20;
  // A forward move of the head over at most this much missing media (at the byte rate) is a
  // small seek: the deadlines and requests in flight stay. Farther, or back onto missing data,
  // every old deadline is reset so that libtorrent cancels what was queued for the old place.
  double small_seek_seconds = 5;
};

struct PickerInput {
  int64_t read_head = 0;     // file-relative byte offset the reader needs next
  double byte_rate = 0;      // media bytes per second of playback; <= 0: unknown
  double download_rate = 0;  // payload bytes/s; <= 0: unknown
  // File-relative ranges needed before playback can go on, most urgent first: the header,
  // the container index when the demuxer reads it on open (MP4 moov, AVI idx1), the player's
  // prefetch hints.
  std::vector<ByteRange> urgent;
  // Ranges probably needed soon but not before the first frame: a guess at where the index is
  // (before the header told), an index the demuxer only reads to seek (Matroska Cues). They
  // come after the first seconds of the window.
  std::vector<ByteRange> likely;
  // Where a start position's bytes probably are, guessed from the duration before the index has
  // told: wanted right after the urgent ranges, but a tier below them and without deadlines.
  // libtorrent picks at random among pieces of one priority (and every deadline piece is of the
  // top one), so a guessed piece asked for beside the header's could fill the peers' queues
  // ahead of the index the demuxer needs to open the file; a tier below, each peer's queue
  // carries the header's and the index's blocks first and the guess right behind them. The
  // guess's pieces go in their order, each a tier below the one before (a seek lands on the
  // keyframe at or before the start: the guess's first pieces are the likelier).
  std::vector<ByteRange> guessed;
  // Ranges the reader only visits to parse them (the container index, a transport stream's
  // tail): a read head inside one is a peek, not a new playback position, so the window stays
  // where playback is instead of jumping there and back (each jump would cancel requests).
  std::vector<ByteRange> side_reads;
  // A seek is under way: the player waits for its picture and pre-roll (and said it would
  // tell when it has them). See PickerConfig::settle_seconds.
  bool settling = false;
  // The reader opens the file only to seek elsewhere at once (a start position): until it has
  // made that seek, what it reads at the head is the header and the demuxer's probe, and the
  // playback window there would only hold up the index and the new position; after it, until
  // the first picture there, the window's pieces would hold up the few that picture needs
  // (libtorrent picks at random among pieces of one priority, and each peer takes whole pieces
  // in turn). See PickerConfig::opening_head_pieces.
  bool opening = false;
  // The reader plays from where it opened (no seek planned; never with `opening`) and its first
  // picture is not out yet: the same focus as `opening` (the urgent and likely ranges, of a
  // guess at the index only the file's last piece, and the first missing pieces from the head),
  // so the peers' first answers carry what that picture needs instead of pieces of the window
  // picked at random beside them. Ends with the picture, not the pre-roll after it: on a swarm
  // that barely keeps up, the window fetched side by side carries playback on.
  bool starting = false;
};

struct Deadline {
  PieceIndex piece;
  int ms = 0;  // from now
  friend bool operator==(const Deadline& a, const Deadline& b) {
    return a.piece == b.piece && a.ms == b.ms;
  }
};

struct PiecePlan {
  std::vector<uint8_t> priorities;  // one per torrent piece, 0..7 (prioritize_pieces)
  std::vector<Deadline> deadlines;  // set_piece_deadline, missing pieces only, sorted by ms
  std::vector<PieceIndex> resets;   // reset_piece_deadline: apply before the deadlines
  PieceSpan window;                 // pieces spanned by the playback window
  bool retargeted = false;          // a seek: back onto missing data, or far ahead (see config)
  // A header or index piece (or what a peek waits for) became needed first and nobody asked
  // for it yet, e.g. a moov found at the end while the peers' queues hold the window: like a
  // far seek, every old deadline is reset so libtorrent cancels the queued requests.
  bool preempt = false;
  // After a far seek or a preempt: the pieces whose deadlines go out at once (the first one
  // empties libtorrent's critical list, which cancels every queued request of a piece without
  // a deadline); the other deadlines follow a moment later. A far seek's are the top tier at
  // the new head, in flight or not. A preempt's are the header, index and peek pieces and the
  // top tier's pieces not yet asked for: the window's pieces in flight, also top tier, are
  // taken back with the rest, as their requests are what the peek waits behind (16 KiB
  // pieces at 1.5x the bitrate: the Matroska Cues came 2.3 s after the seek's peek, behind
  // four window pieces queued before it at the same seeder).
  std::set<PieceIndex> first;
};

// Where the bytes of a start position probably are, before the container's index has told:
// for a file of `size` bytes playing `duration` seconds, from about a second before `start` (the
// keyframe a seek lands on is at or before it) to a quarter second after, at the average byte
// rate. Empty when an input is unknown or out of range. A guess: wrong by as much as the
// bitrate varies over the file.
ByteRange start_guess(int64_t size, double duration, double start);
// The same for a start given as a share of the file (`fraction` of its duration, 0..1): at that
// share of the bytes, with a window of the average byte rate where the duration is known
// (`duration` > 0), else of `assumed_rate` bytes a second (at most a fiftieth of the file).
ByteRange start_guess_fraction(int64_t size, double duration, double fraction,
                               double assumed_rate);

// Which thread: the session's pump thread owns its Picker; tests drive one directly.
class Picker {
 public:
  explicit Picker(PieceMap map, PickerConfig cfg = {});

  // Plans for the current inputs. The picker remembers which pieces hold deadlines: when the
  // head lands outside the previous window (a seek far away) all the old ones come back in
  // resets (apply them before the new deadlines); after a small move the ones it skipped keep
  // their deadline (still listed in critical()) and those ahead but outside the window are reset.
  // Apply resets, then deadlines, then priorities (libtorrent changes priorities on both).
  PiecePlan plan(const PickerInput& in, const PieceStates& st);

  // Hands everything back to a plain background download once nobody reads: every deadline
  // comes back in resets and all pieces of the file get the normal priority. The next plan()
  // starts afresh.
  PiecePlan release(const PieceStates& st);

  // Pieces holding a deadline after the last plan (the overlay's 'c').
  const std::set<PieceIndex>& critical() const { return critical_; }

  // Bytes of playback the window covers for these rates (before rounding to pieces).
  int64_t window_bytes(double byte_rate, double download_rate) const;

  const PieceMap& map() const { return map_; }

 private:
  PieceMap map_;
  PickerConfig cfg_;
  std::set<PieceIndex> critical_;
  std::set<PieceIndex> urgent_;  // the missing urgent (and peeked) pieces of the last plan
  PieceIndex prev_head_{0};  // the playback head's piece at the last plan
  int64_t playback_ = 0;  // the last read head outside the side reads
  bool planned_ = false;
};

}  // namespace streaming
