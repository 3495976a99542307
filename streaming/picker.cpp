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
  bool const peek = std::any_of(in.side_reads.begin(), in.side_reads.end(),
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
  out.retargeted = planned_ && !at_end && !prev_window_.contains(head_piece);

  // Everything of the file stays wanted, so the download (and later the seeding) goes on; the
  // tiers only order it: the window and as much after it, then the rest, then what was played.
  for (PieceIndex p = file.begin; p < file.end; ++p) {
    if (p < head_piece)
      set_prio(p, Priority::behind);
    else if (p < readahead_end)
      set_prio(p, Priority::window);
    else
      set_prio(p, Priority::ahead);
  }

  std::map<PieceIndex, int> deadlines;
  auto add_deadline = [&](PieceIndex p, int ms, Priority prio) {
    if (out.priorities[size_t(p.value)] < uint8_t(prio)) set_prio(p, prio);
    auto [it, inserted] = deadlines.emplace(p, ms);
    if (!inserted) it->second = std::min(it->second, ms);
  };

  int urgent_rank = 0;
  auto add_ranges = [&](const std::vector<ByteRange>& ranges, Priority prio) {
    for (ByteRange r : ranges) {
      PieceSpan const span = map_.pieces_for(r);
      for (PieceIndex p = span.begin; p < span.end; ++p) {
        if (!st.have(p) && !deadlines.count(p))
          add_deadline(p, cfg_.urgent_step_ms * urgent_rank++, prio);
      }
    }
  };
  // A peek still blocks the reader until its bytes are there: what it reads comes first.
  if (peek && read_head < map_.file_size()) add_ranges({{read_head, read_head + 1}}, Priority::top);
  add_ranges(in.urgent, Priority::top);
  add_ranges(in.likely, Priority::top);

  // Ahead of the head, deadlines follow real playback time: when the reader will get there.
  auto lead_ms = [&](PieceIndex p) {
    int64_t const ahead = map_.file_bytes(p).begin - head;
    return ahead <= 0 ? 0 : int(std::min(double(INT_MAX / 2), double(ahead) / rate * 1000.0));
  };
  int missing_ahead = 0;
  auto add_ahead = [&](PieceIndex p) {
    int const ms = lead_ms(p);
    Priority const prio = missing_ahead < cfg_.top_pieces ? Priority::top
                          : ms <= cfg_.soon_ms            ? Priority::soon
                                                          : Priority::window;
    add_deadline(p, ms, prio);
    ++missing_ahead;
  };
  for (PieceIndex p = window.begin; p < window.end; ++p) {
    if (!st.have(p)) add_ahead(p);
  }
  for (PieceIndex p = window.end;
       !at_end && p < file.end && missing_ahead < cfg_.min_critical_pieces; ++p) {
    if (!st.have(p)) add_ahead(p);
  }

  std::set<PieceIndex> next;
  for (auto const& [piece, ms] : deadlines) {
    next.insert(piece);
    out.deadlines.push_back({piece, ms});
  }
  // The previous plan's deadlines. A far seek clears every one of them, even those planned
  // again: with its critical list emptied, libtorrent cancels the requests still queued at the
  // peers for the old position as soon as the first new deadline arrives, instead of making the
  // new head wait behind them. A small move keeps those it skipped (close to done, and the
  // reader may come back for them); what is ahead of the head but no longer in the window (it
  // shrank, e.g. once the real byte rate is known) goes back to its tier. Verified pieces
  // already left libtorrent's list by themselves.
  for (PieceIndex p : critical_) {
    if (st.have(p) || (!out.retargeted && next.count(p))) continue;
    if (out.retargeted || p >= head_piece) {
      out.resets.push_back(p);
    } else {
      next.insert(p);
      set_prio(p, Priority::window);
    }
  }
  std::stable_sort(out.deadlines.begin(), out.deadlines.end(),
                   [](const Deadline& a, const Deadline& b) { return a.ms < b.ms; });

  critical_ = std::move(next);
  prev_window_ = window;
  planned_ = true;
  return out;
}

PiecePlan Picker::release(const PieceStates& st) {
  PiecePlan out;
  out.priorities.assign(size_t(map_.num_pieces()), uint8_t(Priority::skip));
  PieceSpan const file = map_.file_pieces();
  for (PieceIndex p = file.begin; p < file.end; ++p)
    out.priorities[size_t(p.value)] = uint8_t(Priority::ahead);
  for (PieceIndex p : critical_) {
    if (!st.have(p)) out.resets.push_back(p);
  }
  critical_.clear();
  prev_window_ = {};
  playback_ = 0;
  planned_ = false;
  return out;
}

}  // namespace streaming
