#include "streaming/picker.h"

#include <algorithm>
#include <climits>
#include <map>

namespace streaming {

PieceBits PieceBits::from_string(const std::string& s) {
  PieceBits b(int(s.size()));
  for (size_t i = 0; i < s.size(); ++i) {
    b.have_[i] = s[i] == 'h';
    b.requested_[i] = s[i] == 'r';
  }
  return b;
}

int PieceBits::count_have() const { return int(std::count(have_.begin(), have_.end(), true)); }

Picker::Picker(PieceMap map, PickerConfig cfg) : map_(map), cfg_(cfg) {}

namespace {
// The bytes of a start at byte `at` of a `size`-byte file playing `rate` bytes a second: from a
// second before it (the keyframe a seek lands on is at or before it) to a quarter second after.
ByteRange around_start(int64_t size, int64_t at, double rate) {
  return ByteRange{at - int64_t(rate), at + int64_t(rate / 4)}.intersect({0, size});
}
}  // namespace

ByteRange start_guess(int64_t size, double duration, double start) {
  if (!(size > 0 && duration > 0 && start > 0 && start < duration)) return {};
  double const rate = double(size) / duration;
  return around_start(size, int64_t(start * rate), rate);
}

ByteRange start_guess_fraction(int64_t size, double duration, double fraction,
                               double assumed_rate) {
  if (!(size > 0 && fraction > 0 && fraction < 1)) return {};
  if (duration > 0) return start_guess(size, duration, fraction * duration);
  if (!(assumed_rate > 0)) return {};
  // (Not more than a fiftieth of the file: a small or low-rate file would otherwise have most of
  // it guessed.)
  return around_start(size, int64_t(fraction * double(size)),
                      std::min(assumed_rate, double(size) / 50));
}

int64_t Picker::window_bytes(double byte_rate, double download_rate) const {
  double const rate = byte_rate > 0 ? byte_rate : cfg_.assumed_byte_rate;
  // A download well ahead of playback can afford a longer window (more buffer); one that barely
  // keeps up keeps it short, so the bandwidth goes to what is needed first.
  double const ratio = download_rate > 0 ? download_rate / rate : 1.0;
  double const seconds =
      std::clamp(cfg_.min_window_seconds * ratio, cfg_.min_window_seconds, cfg_.max_window_seconds);
  int64_t const floor = int64_t(cfg_.min_window_pieces) * map_.piece_size();
  return std::max(floor, std::min(cfg_.max_window_bytes, int64_t(seconds * rate)));
}

PiecePlan Picker::plan(const PickerInput& in, const PieceStates& st) {
  PiecePlan out;
  out.priorities.assign(size_t(map_.num_pieces()), uint8_t(Priority::skip));
  PieceSpan const file = map_.file_pieces();
  auto set_prio = [&](PieceIndex p, Priority prio) {
    out.priorities[size_t(p.value)] = uint8_t(prio);
  };

  int64_t const read_head = std::clamp<int64_t>(in.read_head, 0, map_.file_size());
  // (A read at the very end is the demuxer probing for EOF, e.g. after a moov at the end.)
  bool const peek = (planned_ && read_head >= map_.file_size()) ||
                    std::any_of(in.side_reads.begin(), in.side_reads.end(),
                                [&](ByteRange r) { return r.contains(read_head); });
  if (!peek) playback_ = read_head;
  int64_t const head = playback_;
  bool const at_end = head >= map_.file_size();
  double const rate = in.byte_rate > 0 ? in.byte_rate : cfg_.assumed_byte_rate;
  int64_t const wbytes = window_bytes(rate, in.download_rate);
  PieceIndex const head_piece = at_end ? file.end : map_.piece_at(head);

  PieceSpan window;
  PieceIndex readahead_end = file.end;
  if (!at_end) {
    window = map_.pieces_for({head, head + wbytes});
    window.end = std::min(
        file.end, std::max(window.end, PieceIndex(head_piece.value + cfg_.min_window_pieces)));
    readahead_end = std::max(window.end, map_.pieces_for({head, head + 2 * wbytes}).end);
  }
  out.window = window;
  // A seek, as opposed to reading on (which never passes a missing piece): the head went back
  // onto a missing piece, or forward over a piece in flight (its requests are now useless and
  // would hold up the new head's at the peers) or over more missing media than a small seek.
  if (planned_ && !at_end) {
    PieceIndex const old = prev_head_;
    if (head_piece < old) {
      out.retargeted = !st.have(head_piece);
    } else {
      int64_t skipped = 0;
      bool skipped_in_flight = false;
      for (PieceIndex p = std::max(old, file.begin); p < head_piece; ++p) {
        if (st.have(p)) continue;
        skipped += map_.file_bytes(p).size();
        skipped_in_flight = skipped_in_flight || st.requested(p);
      }
      out.retargeted = skipped_in_flight || double(skipped) > cfg_.small_seek_seconds * rate;
    }
  }

  // Everything of the file stays wanted, so the download (and later the seeding) goes on; the
  // tiers only order it: the window, as much after it, the rest, then what was played.
  for (PieceIndex p = file.begin; p < file.end; ++p) {
    if (p < head_piece)
      set_prio(p, Priority::behind);
    else if (p < window.end)
      set_prio(p, Priority::window);
    else if (p < readahead_end)
      set_prio(p, Priority::readahead);
    else
      set_prio(p, Priority::ahead);
  }

  // The missing pieces in the order the reader will want them, each with its deadline: what a
  // peek waits for, the urgent ranges, the window (with the likely ranges after its first
  // seconds), and enough past the window to keep the critical set from running dry.
  std::vector<Deadline> seq;
  std::set<PieceIndex> in_seq;
  auto push = [&](PieceIndex p, int ms) {
    if (st.have(p) || !in_seq.insert(p).second) return false;
    seq.push_back({p, ms});
    return true;
  };
  int urgent_rank = 0;
  auto push_ranges = [&](const std::vector<ByteRange>& ranges) {
    for (ByteRange r : ranges) {
      PieceSpan const span = map_.pieces_for(r);
      for (PieceIndex p = span.begin; p < span.end; ++p) {
        if (push(p, cfg_.urgent_step_ms * urgent_rank)) ++urgent_rank;
      }
    }
  };
  // A peek still blocks the reader until its bytes are there: what it reads comes first.
  if (peek && read_head < map_.file_size()) push_ranges({{read_head, read_head + 1}});
  push_ranges(in.urgent);
  size_t const urgent_count = seq.size();
  // The guessed pieces (PickerInput::guessed) that are missing and not urgent: no deadline and
  // no rank, so kept out of the sequence (and before the window, which then leaves them out).
  std::vector<PieceIndex> guessed;
  for (ByteRange r : in.guessed) {
    PieceSpan const span = map_.pieces_for(r);
    for (PieceIndex p = span.begin; p < span.end; ++p) {
      if (!st.have(p) && in_seq.insert(p).second) guessed.push_back(p);
    }
  }

  // Ahead of the head, deadlines follow real playback time: when the reader will get there.
  auto lead_ms = [&](PieceIndex p) {
    int64_t const ahead = map_.file_bytes(p).begin - head;
    return ahead <= 0 ? 0 : int(std::min(double(INT_MAX / 2), double(ahead) / rate * 1000.0));
  };
  bool likely_done = in.likely.empty();
  auto push_likely = [&](int ms) {
    if (likely_done) return;
    likely_done = true;
    int k = 0;
    for (ByteRange r : in.likely) {
      PieceSpan const span = map_.pieces_for(r);
      for (PieceIndex p = span.begin; p < span.end; ++p) {
        if (push(p, ms + cfg_.urgent_step_ms * k)) ++k;
      }
    }
  };
  int missing_ahead = 0;
  auto push_ahead = [&](PieceIndex p) {
    int const ms = lead_ms(p);
    if (ms > cfg_.likely_after_ms && missing_ahead >= cfg_.tier_pieces[0]) push_likely(ms);
    if (push(p, ms)) ++missing_ahead;
  };
  for (PieceIndex p = window.begin; p < window.end; ++p) {
    if (!st.have(p)) push_ahead(p);
  }
  for (PieceIndex p = window.end;
       !at_end && p < file.end && missing_ahead < cfg_.min_critical_pieces; ++p) {
    if (!st.have(p)) push_ahead(p);
  }
  push_likely(seq.empty() ? 0 : seq.back().ms + cfg_.urgent_step_ms);

  // Tiers by rank among the pieces still to be requested: one in flight keeps the tier of the
  // next one to request, so it is not passed by later pieces while its blocks are incomplete.
  std::map<PieceIndex, int> deadlines;
  int rank = 0;
  std::set<PieceIndex> urgent;
  std::set<PieceIndex> first;
  int const t0 = cfg_.tier_pieces[0], t1 = t0 + cfg_.tier_pieces[1], t2 = t1 + cfg_.tier_pieces[2];
  for (size_t i = 0; i < seq.size(); ++i) {
    const Deadline& d = seq[i];
    // The first urgent pieces to request (the header's, the index's) are all needed before
    // the first frame, in no particular order: they share the top tier.
    Priority const tier = i < urgent_count && rank < cfg_.urgent_top_pieces ? Priority::top
                          : rank < t0      ? Priority::top
                          : rank < t1      ? Priority::soon
                          : rank < t2      ? Priority::near
                                           : Priority::window;
    if (!st.requested(d.piece)) {
      ++rank;
      // Newly urgent (not a header piece moving up as the one before it went out).
      if (planned_ && tier == Priority::top && i < urgent_count && !urgent_.count(d.piece))
        out.preempt = true;
    } else if (planned_ && peek && i == 0 && d.piece == map_.piece_at(read_head) &&
               !urgent_.count(d.piece)) {
      // A new peek waits for a piece already asked for (Matroska Cues fetched as a likely
      // range): its request may sit behind seconds of others in a peer's queue. Taking those
      // back lets it through first (it keeps its own: it has a deadline).
      out.preempt = true;
    }
    if (i < urgent_count) urgent.insert(d.piece);
    // What a staged pass gives deadlines first (PiecePlan::first): after a far seek the top tier;
    // after a preempt not its pieces in flight, unless urgent.
    if (tier == Priority::top && (out.retargeted || i < urgent_count || !st.requested(d.piece)))
      first.insert(d.piece);
    if (out.priorities[size_t(d.piece.value)] < uint8_t(tier)) set_prio(d.piece, tier);
    if (i < urgent_count + size_t(cfg_.min_critical_pieces) || d.ms <= cfg_.deadline_horizon_ms)
      deadlines.emplace(d.piece, d.ms);
  }
  // The guessed pieces below the top tier, each a tier below the one before it (down to the
  // lowest), so that they are asked for in their order; also below the tier their place in the
  // file gave them.
  for (size_t k = 0; k < guessed.size(); ++k)
    set_prio(guessed[k], Priority(std::max(int(Priority::behind), int(Priority::soon) - int(k))));

  // Settling after a seek, opening the file (to seek elsewhere, or to play from where it
  // opened) until the first picture is out: only the urgent and likely pieces and the first
  // missing ones from the head (at least `min_missing` of them, and all those before
  // `soon_end`; at least `min_total` missing in all). Everything else waits.
  // The fewest missing pieces a focus leaves wanted: settle_min_missing, or fewer large ones as
  // long as they hold settle_min_missing_bytes (never fewer than two).
  int const floor = std::max(
      2, int(std::min<int64_t>(cfg_.settle_min_missing,
                               (cfg_.settle_min_missing_bytes + map_.piece_size() - 1) /
                                   map_.piece_size())));
  // `from_head_present`: pieces from the head already there count among `min_missing` (opening
  // to seek with the head in an urgent range, the header: the demuxer reads the header there,
  // not past it, and once the header's piece is in, the next one would only hold up the index
  // and the start's pieces; a probe that reads on past the header, as in a transport stream,
  // keeps a missing piece ahead of it).
  auto focus = [&](PieceIndex soon_end, int min_missing, int min_total, bool from_head_present) {
    std::set<PieceIndex> wanted;
    int missing = 0;
    for (const auto* ranges : {&in.urgent, &in.guessed, &in.likely}) {
      for (ByteRange r : *ranges) {
        PieceSpan const span = map_.pieces_for(r);
        for (PieceIndex p = span.begin; p < span.end; ++p) {
          if (wanted.insert(p).second && !st.have(p)) ++missing;
        }
      }
    }
    int from_head = 0;
    for (PieceIndex p = head_piece; p < file.end; ++p) {
      bool const have = st.have(p);
      if (have && !from_head_present) continue;
      if (p >= soon_end && from_head >= min_missing && missing >= min_total) break;
      if (!have && wanted.insert(p).second) ++missing;
      ++from_head;
    }
    // Never fewer missing pieces than that floor are wanted, or libtorrent would tell
    // the peers it is not interested and they would choke it. (Near the end of the file, with
    // too few pieces missing, everything stays wanted: none missing would make the torrent
    // "finished", and libtorrent drops its seeds then.)
    if (missing < min_total) return;
    for (PieceIndex p = file.begin; p < file.end; ++p) {
      if (!wanted.count(p)) set_prio(p, Priority::skip);
    }
    for (auto it = deadlines.begin(); it != deadlines.end();) {
      it = wanted.count(it->first) ? std::next(it) : deadlines.erase(it);
    }
  };
  bool const fast = in.download_rate >= cfg_.settle_min_speedup * rate;
  if ((in.opening || in.starting) && !at_end) {
    int64_t const ps = map_.piece_size();
    int const start_floor = int((cfg_.start_min_missing_bytes + ps - 1) / ps);
    focus(head_piece, cfg_.opening_head_pieces,
          in.starting ? std::max(floor, start_floor) : floor,
          in.opening && std::any_of(in.urgent.begin(), in.urgent.end(), [&](ByteRange r) {
            PieceSpan const span = map_.pieces_for(r);
            return span.begin <= head_piece && head_piece < span.end;
          }));
  } else if (in.settling && fast && !at_end) {
    focus(map_.pieces_for({head, head + int64_t(cfg_.settle_seconds * rate)}).end,
          cfg_.settle_min_missing, floor, false);
  }

  std::set<PieceIndex> next;
  for (auto const& [piece, ms] : deadlines) {
    next.insert(piece);
    out.deadlines.push_back({piece, ms});
    if ((out.retargeted || out.preempt) && first.count(piece)) out.first.insert(piece);
  }
  // The previous plan's deadlines. A far seek clears every one of them, even those planned
  // again: with its critical list emptied, libtorrent cancels the requests still queued at the
  // peers for the old position as soon as the first new deadline arrives, instead of making the
  // new head wait behind them. A small move keeps those it skipped (close to done, and the
  // reader may come back for them); what is ahead of the head but no longer in the window (it
  // shrank, e.g. once the real byte rate is known) goes back to its tier. Verified pieces
  // already left libtorrent's list by themselves.
  bool const reset_all = out.retargeted || out.preempt;
  for (PieceIndex p : critical_) {
    if (st.have(p) || (!reset_all && next.count(p))) continue;
    if (reset_all || p >= head_piece) {
      out.resets.push_back(p);
    } else {
      next.insert(p);
      set_prio(p, Priority::window);
    }
  }
  std::stable_sort(out.deadlines.begin(), out.deadlines.end(),
                   [](const Deadline& a, const Deadline& b) { return a.ms < b.ms; });

  critical_ = std::move(next);
  urgent_ = std::move(urgent);
  prev_head_ = head_piece;
  planned_ = true;
  return out;
}

PiecePlan Picker::release(const PieceStates& st) {
  PiecePlan out;
  out.priorities.assign(size_t(map_.num_pieces()), uint8_t(Priority::skip));
  PieceSpan const file = map_.file_pieces();
  for (PieceIndex p = file.begin; p < file.end; ++p)
    out.priorities[size_t(p.value)] = uint8_t(Priority::window);
  for (PieceIndex p : critical_) {
    if (!st.have(p)) out.resets.push_back(p);
  }
  critical_.clear();
  urgent_.clear();
  prev_head_ = PieceIndex(0);
  playback_ = 0;
  planned_ = false;
  return out;
}

}  // namespace streaming
