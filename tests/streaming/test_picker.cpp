// Picker policy as plain data: piece state strings ('h' have, 'r' requested, '.' missing),
// 100-byte pieces, rates in bytes per second.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "streaming/picker.h"
#include "streaming/torrent_stream.h"

using namespace streaming;

namespace {

PickerConfig config() {
  PickerConfig c;
  c.min_window_seconds = 10;
  c.max_window_seconds = 30;
  c.min_window_pieces = 4;
  c.min_critical_pieces = 4;
  c.urgent_step_ms = 10;
  c.assumed_byte_rate = 100;
  c.tier_pieces[0] = 2;  // two on top, two soon, four near
  c.tier_pieces[1] = 2;
  c.tier_pieces[2] = 4;
  c.deadline_horizon_ms = 1 << 30;  // deadlines over the whole window unless a test says
  c.start_min_missing_bytes = 400;  // four of these 100-byte pieces
  return c;
}

// The pieces holding deadlines, as a string over the torrent: 'c' deadline, '.' none.
std::string deadline_string(const PiecePlan& plan, int num_pieces) {
  std::string s(size_t(num_pieces), '.');
  for (const Deadline& d : plan.deadlines) s[size_t(d.piece.value)] = 'c';
  return s;
}

std::string priority_string(const PiecePlan& plan) {
  std::string s;
  for (uint8_t p : plan.priorities) s += char('0' + p);
  return s;
}

int deadline_of(const PiecePlan& plan, int piece) {
  for (const Deadline& d : plan.deadlines)
    if (d.piece.value == piece) return d.ms;
  return -1;
}

bool has_reset(const PiecePlan& plan, int piece) {
  return std::find(plan.resets.begin(), plan.resets.end(), PieceIndex(piece)) != plan.resets.end();
}

}  // namespace

TEST_CASE("picker: deadlines follow playback time over the window") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;  // one piece per second: the 10 s window is 10 pieces
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.window == PieceSpan{PieceIndex(0), PieceIndex(10)});
  CHECK(deadline_string(plan, 20) == "cccccccccc..........");
  for (int i = 0; i < 10; ++i) CHECK(deadline_of(plan, i) == i * 1000);
  CHECK(std::is_sorted(plan.deadlines.begin(), plan.deadlines.end(),
                       [](const Deadline& a, const Deadline& b) { return a.ms < b.ms; }));
  // A faster media rate packs the same window into less time.
  in.byte_rate = 200;
  plan = picker.plan(in, st);
  CHECK(deadline_of(plan, 4) == 2000);
}

TEST_CASE("picker: only the next seconds carry deadlines, the rest of the window its tier") {
  PickerConfig cfg = config();
  cfg.deadline_horizon_ms = 3000;
  Picker picker(PieceMap(0, 2000, 2000, 100), cfg);
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;  // one piece per second
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.window == PieceSpan{PieceIndex(0), PieceIndex(10)});
  CHECK(deadline_string(plan, 20) == "cccc................");
  // Past the horizon the window keeps its tiers: near, then the window's.
  CHECK(plan.priorities[5] == uint8_t(Priority::near));
  CHECK(plan.priorities[9] == uint8_t(Priority::window));
  // Urgent ranges keep theirs wherever they are, and the head's pieces still come first.
  in.urgent = {{1900, 2000}};
  plan = picker.plan(in, st);
  CHECK(deadline_string(plan, 20) == "cccc...............c");
  CHECK(deadline_of(plan, 19) == 0);
  // The horizon moves with the head: read on three pieces, three more get deadlines.
  in.urgent.clear();
  in.read_head = 300;
  st = PieceBits::from_string("hhh.................");
  plan = picker.plan(in, st);
  CHECK(deadline_string(plan, 20) == "...cccc.............");
}

TEST_CASE("picker: after a seek, only what is needed next until playback goes on") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;       // one piece per second
  in.download_rate = 1000;  // ten times as fast
  in.urgent = {{0, 50}, {1900, 2000}};  // a header, and an index at the end
  in.settling = true;
  PiecePlan plan = picker.plan(in, st);
  // The header's and the index's pieces and the first four missing from the head; nothing
  // else (not even the rest of the window), and no deadline outside that.
  CHECK(priority_string(plan) == "76650000000000000007");
  CHECK(deadline_string(plan, 20) == "cccc...............c");
  // The wanted pieces move on with the head and past the ones already there.
  in.urgent = {{0, 50}};
  in.read_head = 150;
  st = PieceBits::from_string("hh.h.h..............");
  plan = picker.plan(in, st);
  CHECK(priority_string(plan) == "10707066000000000000");
  // Once playback goes on, the whole file is wanted again, in its tiers.
  in.settling = false;
  plan = picker.plan(in, st);
  CHECK(priority_string(plan).find('0') == std::string::npos);
  // A download not known to be well ahead of playback keeps fetching side by side.
  in.settling = true;
  for (double rate : {0.0, 250.0}) {
    in.download_rate = rate;
    plan = picker.plan(in, st);
    CHECK(priority_string(plan).find('0') == std::string::npos);
  }
  // Near the end, with fewer missing pieces than that, nothing is held back: none wanted and
  // missing would make libtorrent tell the peers it is not interested.
  in.download_rate = 1000;
  in.read_head = 1800;
  st = PieceBits::from_string("hhhhhhhhhhhhhhhhhh..");
  plan = picker.plan(in, st);
  CHECK(priority_string(plan).find('0') == std::string::npos);
}

TEST_CASE("picker: a reader opening the file to seek elsewhere gets its header and index only") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.read_head = 0;
  in.urgent = {{0, 50}};         // the header
  in.likely = {{1880, 2000}};    // a guess at an index at the end
  in.opening = true;
  // Any download rate, even none known yet: no playback runs from the head.
  for (double rate : {0.0, 50.0, 1000.0}) {
    in.download_rate = rate;
    PiecePlan plan = picker.plan(in, st);
    // The header's piece, the guess's, and from the head only as many as keep four missing
    // pieces wanted (fewer and libtorrent would tell the peers it is not interested).
    CHECK(priority_string(plan) == "77000000000000000065");
    CHECK(deadline_string(plan, 20) == "cc................cc");
  }
  // The demuxer's probe reads on: the next piece from the head comes with it.
  in.read_head = 120;
  st = PieceBits::from_string("hh..................");
  PiecePlan plan = picker.plan(in, st);
  CHECK(priority_string(plan) == "10770000000000000066");
  // Once the reader has made its seek, the window opens where it reads.
  in.opening = false;
  in.read_head = 1000;
  plan = picker.plan(in, st);
  CHECK(priority_string(plan).find('0') == std::string::npos);
  CHECK(plan.priorities[10] == 7);
}

TEST_CASE("picker: a guessed start comes after the header and the index, in its order") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.urgent = {{0, 50}, {1950, 2000}};  // the header, and the index at the end
  in.guessed = {{1200, 1450}};          // where the start probably is
  in.opening = true;
  PiecePlan plan = picker.plan(in, st);
  // Header and index on top with deadlines; the guess's pieces one tier each below, first to
  // last, without deadlines; nothing else.
  CHECK(priority_string(plan) == "70000000000065400007");
  CHECK(deadline_string(plan, 20) == "c..................c");
  // A longer guess runs down to the lowest tier that is still wanted.
  in.guessed = {{1000, 1800}};
  plan = picker.plan(in, st);
  CHECK(priority_string(plan) == "70000000006543211107");
  // The header's piece is in and the demuxer has read it: not the next piece from the head.
  st = PieceBits::from_string("h...................");
  in.guessed = {{1200, 1450}};
  in.read_head = 50;
  plan = picker.plan(in, st);
  CHECK(plan.priorities[1] == 0);
  CHECK(deadline_string(plan, 20) == "...................c");
  // A probe that reads on past the header (a transport stream's) keeps a missing piece ahead.
  st = PieceBits::from_string("hh..................");
  in.read_head = 150;
  plan = picker.plan(in, st);
  CHECK(plan.priorities[2] != 0);
  CHECK(plan.priorities[3] == 0);
}

TEST_CASE("picker: until the first picture from the start, what that picture needs") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.urgent = {{0, 50}, {1850, 2000}};  // the header, and an index at the end (a moov)
  in.byte_rate = 100;
  in.starting = true;
  // Any download rate: the header's piece, the index's two and the next one from the head,
  // four missing pieces; not the window beside them.
  for (double rate : {0.0, 150.0, 1000.0}) {
    in.download_rate = rate;
    PiecePlan plan = picker.plan(in, st);
    CHECK(priority_string(plan) == "76000000000000000077");
  }
  // The demuxer reads on from the header: the focus follows the head.
  st = PieceBits::from_string("h.................hh");
  in.read_head = 120;
  PiecePlan plan = picker.plan(in, st);
  CHECK(priority_string(plan) == "17766000000000000044");
  // The picture is out: the whole window.
  in.starting = false;
  plan = picker.plan(in, st);
  CHECK(priority_string(plan).find('0') == std::string::npos);
  // Small pieces: at least start_min_missing_bytes stay wanted.
  PickerConfig cfg = config();
  cfg.start_min_missing_bytes = 750;
  Picker small(PieceMap(0, 2000, 2000, 100), cfg);
  in.starting = true;
  in.read_head = 0;
  st = PieceBits::from_string("....................");
  plan = small.plan(in, st);
  std::string const p = priority_string(plan);
  CHECK(std::count(p.begin(), p.end(), '0') == 12);  // 8 missing wanted: 3 urgent, 5 from head
  CHECK(p.substr(0, 5).find('0') == std::string::npos);
}

TEST_CASE("picker: large pieces keep fewer pieces wanted while opening") {
  // Which pieces are wanted at all: 'x', or '0'.
  auto wanted = [](const PiecePlan& plan) {
    std::string w = priority_string(plan);
    for (char& c : w) c = c == '0' ? '0' : 'x';
    return w;
  };
  // Pieces of 100 bytes count as large when two of them hold settle_min_missing_bytes.
  PickerConfig cfg = config();
  cfg.settle_min_missing_bytes = 200;
  Picker picker(PieceMap(0, 2000, 2000, 100), cfg);
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.urgent = {{0, 50}};
  in.likely = {{1950, 2000}};
  in.opening = true;
  // The header's piece and the guess's: two missing pieces, enough.
  CHECK(wanted(picker.plan(in, st)) == "x000000000000000000x");
  // Small pieces keep four missing ones wanted.
  Picker small(PieceMap(0, 2000, 2000, 100), config());
  CHECK(wanted(small.plan(in, st)) == "xxx0000000000000000x");
  // With one of them there, the next from the head keeps two wanted.
  st = PieceBits::from_string("h...................");
  in.read_head = 50;
  CHECK(wanted(picker.plan(in, st)) == "xx00000000000000000x");
  // Never fewer than two, however large the pieces.
  cfg.settle_min_missing_bytes = 1;
  Picker large(PieceMap(0, 2000, 2000, 100), cfg);
  in.likely.clear();
  st = PieceBits::from_string("....................");
  in.read_head = 0;
  CHECK(wanted(large.plan(in, st)) == "xx000000000000000000");
}

TEST_CASE("picker: window size adapts to byte rate and download rate") {
  Picker picker(PieceMap(0, 100000, 100000, 100), config());
  CHECK(picker.window_bytes(100, 0) == 1000);      // 10 s at 100 B/s
  CHECK(picker.window_bytes(100, 50) == 1000);     // download slower than playback: minimum
  CHECK(picker.window_bytes(100, 200) == 2000);    // twice as fast: 20 s
  CHECK(picker.window_bytes(100, 10000) == 3000);  // capped at 30 s
  CHECK(picker.window_bytes(1000, 0) == 10000);
  CHECK(picker.window_bytes(1, 0) == 400);   // at least min_window_pieces pieces
  CHECK(picker.window_bytes(0, 0) == 1000);  // unknown rate: the assumed one
}

TEST_CASE("picker: header and index ranges come first with tight deadlines") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PieceBits st = PieceBits::from_string("....................");
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;
  in.urgent = {{0, 150}, {1850, 2000}};  // header (pieces 0-1), moov at the end (18-19)
  PiecePlan plan = picker.plan(in, st);
  CHECK(deadline_of(plan, 0) == 0);
  CHECK(deadline_of(plan, 1) == 10);
  CHECK(deadline_of(plan, 18) == 20);
  CHECK(deadline_of(plan, 19) == 30);
  // The index is due before the rest of the window.
  CHECK(deadline_of(plan, 19) < deadline_of(plan, 2));
  // The header and the index share the top tier (both are needed before the first frame),
  // the window follows below.
  CHECK(plan.priorities[0] == 7);
  CHECK(plan.priorities[1] == 7);
  CHECK(plan.priorities[18] == 7);
  CHECK(plan.priorities[19] == 7);
  CHECK(plan.priorities[2] < 7);
  // Once there, they drop out of the deadlines.
  st.set_have(PieceIndex(18));
  st.set_have(PieceIndex(19));
  plan = picker.plan(in, st);
  CHECK(deadline_of(plan, 18) == -1);
  CHECK(deadline_of(plan, 19) == -1);
}

TEST_CASE("picker: only the first few urgent pieces share the top tier") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());  // urgent_top_pieces: 4
  PieceBits st = PieceBits::from_string("r...................");
  PickerInput in;
  in.byte_rate = 100;
  in.urgent = {{0, 150}, {1000, 2000}};  // a header (0-1, 0 in flight) and a large index (10-19)
  PiecePlan const plan = picker.plan(in, st);
  // Piece 0 is in flight and does not count: 1, 10, 11 and 12 are the first four to request.
  for (int p : {0, 1, 10, 11, 12}) CHECK(plan.priorities[size_t(p)] == 7);
  // The rest of the index follows in the tiers below, in order.
  CHECK(plan.priorities[13] < 7);
  CHECK(plan.priorities[19] <= plan.priorities[13]);
  CHECK(plan.priorities[2] <= plan.priorities[19]);
}

TEST_CASE("picker: likely ranges come after the first seconds of the window") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.read_head = 1500;
  in.byte_rate = 100;
  in.urgent = {{0, 100}};
  in.likely = {{2800, 3000}};  // a guess at the index, or Cues only a seek reads
  PiecePlan plan = picker.plan(in, st);
  // Needed in this order: 0 (urgent), 15 16 17 (the window's first 2 s), 28 29, 18 19 ...
  CHECK(deadline_of(plan, 0) == 0);
  CHECK(deadline_of(plan, 17) == 2000);
  CHECK(deadline_of(plan, 28) == 3000);
  CHECK(deadline_of(plan, 29) == 3010);
  CHECK(deadline_of(plan, 18) == 3000);
  CHECK(plan.priorities[0] == 7);
  CHECK(plan.priorities[15] == 7);  // the read head
  CHECK(plan.priorities[16] == 6);
  CHECK(plan.priorities[17] == 6);
  CHECK(plan.priorities[28] == 5);
  CHECK(plan.priorities[29] == 5);
  CHECK(plan.priorities[18] == 5);
  CHECK(plan.priorities[20] == 4);
  // Nothing ahead of them missing: they come right after the urgent ranges.
  for (int i = 15; i < 28; ++i) st.set_have(PieceIndex(i));
  plan = picker.plan(in, st);
  CHECK(plan.priorities[28] == 7);
  CHECK(plan.priorities[29] == 6);
}

TEST_CASE("picker: by default only the very next piece is on top") {
  Picker picker(PieceMap(0, 2000, 2000, 100), PickerConfig{});
  PickerInput in;
  in.byte_rate = 100;
  PieceBits st(20);
  PiecePlan plan = picker.plan(in, st);
  CHECK(priority_string(plan).substr(0, 8) == "76655554");
}

TEST_CASE("picker: a header piece needed first and not yet asked for preempts the queues") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.byte_rate = 100;
  in.urgent = {{0, 100}};
  PiecePlan plan = picker.plan(in, st);
  CHECK_FALSE(plan.preempt);  // the first plan has nothing to take back
  st.set_have(PieceIndex(0));
  st.set_requested(PieceIndex(1));
  st.set_requested(PieceIndex(2));
  in.urgent = {{0, 100}, {2900, 3000}};  // the header told: moov is at the end
  plan = picker.plan(in, st);
  CHECK(plan.preempt);
  CHECK(plan.priorities[29] == 7);
  CHECK(deadline_of(plan, 29) == 0);
  CHECK(has_reset(plan, 3));
  // Asked for now: no second preempt.
  st.set_requested(PieceIndex(29));
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.preempt);
  CHECK(plan.resets.empty());
}

TEST_CASE("picker: a peek at a piece already in flight preempts the queues") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.byte_rate = 100;
  in.urgent = {{0, 100}};
  in.likely = {{2900, 3000}};      // Matroska Cues, read only to seek
  in.side_reads = {{2900, 3000}};
  in.read_head = 500;
  PiecePlan plan = picker.plan(in, st);
  st.set_requested(PieceIndex(29));  // asked for, not there yet
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.preempt);
  // A seek: the demuxer reads the Cues first and waits for that piece.
  st.set_requested(PieceIndex(5));  // the window's first pieces are in flight too
  st.set_requested(PieceIndex(6));
  in.read_head = 2950;
  plan = picker.plan(in, st);
  CHECK(plan.preempt);
  CHECK(deadline_of(plan, 29) == 0);
  CHECK(plan.priorities[29] == 7);
  // Staged: the peeked piece and the next window piece to request get their deadlines first;
  // the ones in flight (top tier too) do not, so libtorrent takes their requests back.
  CHECK(plan.priorities[5] == 7);
  CHECK(plan.priorities[6] == 7);
  CHECK(plan.first == std::set<PieceIndex>{PieceIndex(0), PieceIndex(7), PieceIndex(29)});
  // Once: the next plan of the same peek takes nothing back.
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.preempt);
  // A peek at a piece that is there is no wait at all.
  st.set_have(PieceIndex(29));
  in.read_head = 500;
  plan = picker.plan(in, st);
  in.read_head = 2950;
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.preempt);
}

TEST_CASE("picker: a piece in flight keeps the tier of the next one to request") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;
  // 0 and 1 are being downloaded: 2 and 3 are the next to request, on top with them.
  PieceBits st = PieceBits::from_string("rr..................");
  PiecePlan plan = picker.plan(in, st);
  CHECK(priority_string(plan).substr(0, 12) == "777766555533");
  st = PieceBits::from_string("h.r.................");
  plan = picker.plan(in, st);
  CHECK(priority_string(plan).substr(0, 12) == "477766555533");
}

TEST_CASE("picker: the rest of the file stays wanted, in tiers") {
  // Our file: bytes [250, 1250) of a 2000-byte torrent -> pieces [2, 13).
  Picker picker(PieceMap(250, 1000, 2000, 100), config());
  PieceBits st(20);
  PickerInput in;
  in.read_head = 450;  // piece 7
  in.byte_rate = 25;   // window 250 bytes -> at least 4 pieces: 7..10
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.window == PieceSpan{PieceIndex(7), PieceIndex(11)});
  // 0-1 other file, 2-6 behind the head, 7-10 window (the next two missing on top, then two
  // "soon"), 11-12 read-ahead, 13+ other files.
  CHECK(priority_string(plan) == "00111117766330000000");
  CHECK(deadline_string(plan, 20) == ".......cccc.........");
}

TEST_CASE("picker: verified pieces get no deadline, and the critical set never runs dry") {
  Picker picker(PieceMap(0, 2000, 2000, 100), config());
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;
  PieceBits st = PieceBits::from_string("hhhhhhhhhh..........");
  PiecePlan plan = picker.plan(in, st);
  // The whole window is there: the next missing pieces past it get deadlines.
  CHECK(deadline_string(plan, 20) == "..........cccc......");
  CHECK(deadline_of(plan, 10) == 10000);
  // Gaps inside the window are filled first, then enough to keep four critical.
  st = PieceBits::from_string("hhh.hhhhhh.h.h.h.h.h");
  plan = picker.plan(in, st);
  CHECK(deadline_string(plan, 20) == "...c......c.c.c.....");
  // Nothing missing ahead: nothing critical (and nothing missing behind is chased).
  in.read_head = 1500;
  st = PieceBits::from_string("...hhhhhhhhhhhhhhhhh");
  plan = picker.plan(in, st);
  CHECK(plan.deadlines.empty());
}

TEST_CASE("picker: a far seek clears the old deadlines at once") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.window == PieceSpan{PieceIndex(0), PieceIndex(10)});
  st.set_have(PieceIndex(0));
  st.set_have(PieceIndex(1));

  in.read_head = 2000;  // piece 20: outside the old window
  plan = picker.plan(in, st);
  CHECK(plan.retargeted);
  CHECK(plan.window == PieceSpan{PieceIndex(20), PieceIndex(30)});
  for (int i = 2; i < 10; ++i) CHECK(has_reset(plan, i));
  CHECK_FALSE(has_reset(plan, 0));  // verified: libtorrent already dropped it
  CHECK(plan.resets.size() == 8);
  CHECK(deadline_of(plan, 20) == 0);
  // The deadlines that go out first: the top tier at the new head (two pieces here).
  CHECK(plan.first == std::set<PieceIndex>{PieceIndex(20), PieceIndex(21)});
  CHECK(deadline_string(plan, 30) == "....................cccccccccc");
  CHECK(picker.critical().size() == 10);
  CHECK(plan.priorities[5] == 1);  // behind the head now, still wanted
}

TEST_CASE("picker: priorities rise towards the read head") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;  // a piece a second: 10 s window, the next 2 s "soon"
  PieceBits st = PieceBits::from_string("h.............................");
  PiecePlan plan = picker.plan(in, st);
  // 0 have; the next missing: 1 2 top, 3 4 soon, 5-8 near, then the rest of the window (0-9),
  // as much after it (10-19) and the rest.
  CHECK(priority_string(plan) ==
        "477665555" + std::string(1, '4') + std::string(10, '3') + std::string(10, '2'));
  in.byte_rate = 400;  // four pieces a second: the 10 s window is the whole file
  plan = picker.plan(in, st);
  CHECK(priority_string(plan) == "477665555" + std::string(21, '4'));
}

TEST_CASE("picker: reading the container index is a peek, not a seek") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.byte_rate = 100;
  in.urgent = {{0, 100}, {2800, 3000}};
  in.side_reads = {{2800, 3000}};  // moov at the end
  in.read_head = 0;
  PiecePlan plan = picker.plan(in, st);
  in.read_head = 2950;  // the demuxer parses moov...
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.retargeted);
  CHECK(plan.window == PieceSpan{PieceIndex(0), PieceIndex(10)});
  CHECK(deadline_of(plan, 29) == 0);  // ...and waits for this piece first
  CHECK(deadline_of(plan, 28) == 20);
  // The index was urgent already: nothing is taken back.
  CHECK_FALSE(plan.preempt);
  CHECK(plan.resets.empty());
  st.set_have(PieceIndex(0));
  st.set_have(PieceIndex(28));
  st.set_have(PieceIndex(29));
  in.read_head = 40;  // ...and comes back to the media data
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.retargeted);
  CHECK_FALSE(plan.preempt);
  CHECK(plan.resets.empty());
  in.read_head = 2000;  // a real seek still re-targets
  plan = picker.plan(in, st);
  CHECK(plan.retargeted);
}

TEST_CASE("picker: a far seek resets even the deadlines it plans again") {
  // libtorrent cancels the requests queued for the old position only when its critical list
  // was empty before the new deadlines: so every old deadline is reset, the index's too.
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;
  in.urgent = {{2900, 3000}};  // the index, piece 29
  picker.plan(in, st);
  in.read_head = 1500;
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.retargeted);
  CHECK(has_reset(plan, 29));
  CHECK(deadline_of(plan, 29) == 0);
  CHECK(plan.resets.size() == 11);  // 0..9 and 29
}

TEST_CASE("picker: a small seek inside the window keeps the deadlines") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 100;
  picker.plan(in, st);

  in.read_head = 350;  // piece 3, inside [0, 10)
  PiecePlan plan = picker.plan(in, st);
  CHECK_FALSE(plan.retargeted);
  CHECK(plan.resets.empty());
  CHECK(plan.window == PieceSpan{PieceIndex(3), PieceIndex(14)});
  // Pieces 0-2, skipped, keep their deadline (not re-issued) and a window priority.
  for (int i = 0; i < 3; ++i) {
    CHECK(picker.critical().count(PieceIndex(i)) == 1);
    CHECK(plan.priorities[size_t(i)] == 4);
    CHECK(deadline_of(plan, i) == -1);
  }
  CHECK(deadline_of(plan, 3) == 0);
  // Later a far seek clears them too.
  in.read_head = 2500;
  plan = picker.plan(in, st);
  CHECK(plan.retargeted);
  for (int i = 0; i < 14; ++i) CHECK(has_reset(plan, i));
}

TEST_CASE("picker: a window that shrinks gives back what it no longer covers") {
  Picker picker(PieceMap(0, 3000, 3000, 100), config());
  PieceBits st(30);
  PickerInput in;
  in.read_head = 0;
  in.byte_rate = 0;        // unknown: the assumed 100 B/s, a 10-piece window
  in.download_rate = 300;  // three times the rate: a 30 s window
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.window == PieceSpan{PieceIndex(0), PieceIndex(30)});
  in.download_rate = 0;  // 10 s: pieces 0..9
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.retargeted);
  CHECK(plan.resets.size() == 20);
  for (int i = 10; i < 30; ++i) CHECK(has_reset(plan, i));
  CHECK(picker.critical().size() == 10);
  CHECK(plan.priorities[15] == 3);  // read-ahead now
}

TEST_CASE("picker: playing forward never resets anything") {
  Picker picker(PieceMap(0, 5000, 5000, 100), config());
  PieceBits st(50);
  PickerInput in;
  in.byte_rate = 100;
  for (int64_t head = 0; head < 5000; head += 50) {
    in.read_head = head;
    // The reader only gets past verified pieces.
    for (int i = 0; i < int(head / 100); ++i) st.set_have(PieceIndex(i));
    PiecePlan plan = picker.plan(in, st);
    CHECK(plan.resets.empty());
    CHECK_FALSE(plan.retargeted);
    CHECK_FALSE(plan.deadlines.empty());
    CHECK(plan.deadlines.front().piece == PieceIndex(int(head / 100)));
  }
}

TEST_CASE("picker: release hands everything back to a plain download") {
  Picker picker(PieceMap(250, 1000, 2000, 100), config());
  PieceBits st(20);
  PickerInput in;
  in.read_head = 450;
  in.byte_rate = 100;
  picker.plan(in, st);
  REQUIRE_FALSE(picker.critical().empty());
  st.set_have(PieceIndex(7));
  PiecePlan plan = picker.release(st);
  CHECK(picker.critical().empty());
  CHECK(plan.deadlines.empty());
  CHECK_FALSE(has_reset(plan, 7));  // verified already
  CHECK(plan.resets.size() == 5);   // 8..12
  CHECK(priority_string(plan) == "00444444444440000000");
  // A later plan starts afresh (no far-seek resets of the released deadlines).
  in.read_head = 0;
  plan = picker.plan(in, st);
  CHECK_FALSE(plan.retargeted);
  CHECK(plan.resets.empty());
}

TEST_CASE("picker: read head at the end of the file") {
  Picker picker(PieceMap(0, 1000, 1000, 100), config());
  PieceBits st = PieceBits::from_string("hhhhh.....");
  PickerInput in;
  in.read_head = 1000;
  PiecePlan plan = picker.plan(in, st);
  CHECK(plan.window.empty());
  CHECK(plan.deadlines.empty());
  CHECK(priority_string(plan) == "1111111111");  // still wanted, for seeding
}

TEST_CASE("picker: piece state strings") {
  PieceBits b = PieceBits::from_string("h.r");
  CHECK(b.have(PieceIndex(0)));
  CHECK_FALSE(b.have(PieceIndex(1)));
  CHECK(b.requested(PieceIndex(2)));
  CHECK_FALSE(b.have(PieceIndex(7)));  // out of range
  CHECK(b.count_have() == 1);
}

TEST_CASE("picker: a seek is told from reading on by the missing media jumped over") {
  Picker picker(PieceMap(0, 5000, 5000, 100), config());
  PickerInput in;
  in.byte_rate = 100;  // a piece a second; small seeks go up to 5 s
  PieceBits st(50);
  for (int i = 0; i < 20; ++i) st.set_have(PieceIndex(i));
  in.read_head = 500;
  picker.plan(in, st);
  in.read_head = 1950;  // over 14 verified pieces: reading on
  CHECK_FALSE(picker.plan(in, st).retargeted);
  in.read_head = 2450;  // 5 missing pieces ahead: a small seek
  CHECK_FALSE(picker.plan(in, st).retargeted);
  in.read_head = 3100;  // 6 more missing: a seek
  CHECK(picker.plan(in, st).retargeted);
  in.read_head = 1000;  // back onto verified data: nothing to take back
  CHECK_FALSE(picker.plan(in, st).retargeted);
  in.read_head = 3000;
  picker.plan(in, st);
  in.read_head = 2900;  // back onto a missing piece: a seek
  CHECK(picker.plan(in, st).retargeted);
  st.set_requested(PieceIndex(30));
  in.read_head = 3150;  // over a piece in flight: a seek, however small
  CHECK(picker.plan(in, st).retargeted);
}

TEST_CASE("start guess: a second before the start to a quarter after, at the average byte rate") {
  // 100 s in 100 MB: 1 MB a second.
  ByteRange const r = start_guess(100'000'000, 100.0, 70.0);
  CHECK(r.begin == 69'000'000);
  CHECK(r.end == 70'250'000);
  // Clipped to the file at both ends.
  CHECK(start_guess(100'000'000, 100.0, 0.5).begin == 0);
  CHECK(start_guess(100'000'000, 100.0, 99.9).end == 100'000'000);
  // Nothing to guess from.
  CHECK(start_guess(100'000'000, -1, 70.0).empty());
  CHECK(start_guess(0, 100.0, 70.0).empty());
  CHECK(start_guess(100'000'000, 100.0, 0).empty());
  CHECK(start_guess(100'000'000, 100.0, 100.0).empty());
}

TEST_CASE("start guess for a start in percent: no duration needed") {
  // Without a duration: at that share of the bytes, a window of the assumed rate (1 MB/s here).
  ByteRange const r = start_guess_fraction(100'000'000, -1, 0.7, 1'000'000);
  CHECK(r.begin == 69'000'000);
  CHECK(r.end == 70'250'000);
  // With one: the file's own rate (200 s in 100 MB: 0.5 MB a second).
  ByteRange const d = start_guess_fraction(100'000'000, 200.0, 0.7, 1'000'000);
  CHECK(d.begin == 69'500'000);
  CHECK(d.end == 70'125'000);
  // A small file: a fiftieth of it, not a second at the assumed rate.
  ByteRange const s = start_guess_fraction(600'000, -1, 0.7, 1'000'000);
  CHECK(s.begin == 420'000 - 12'000);
  CHECK(s.end == 420'000 + 3'000);
  CHECK(start_guess_fraction(100'000'000, -1, 0.0, 1'000'000).empty());
  CHECK(start_guess_fraction(100'000'000, -1, 1.0, 1'000'000).empty());
  CHECK(start_guess_fraction(0, -1, 0.7, 1'000'000).empty());
  CHECK(start_guess_fraction(100'000'000, -1, 0.7, 0).empty());
}

TEST_CASE("stream state: starting and opening end with the first picture") {
  PieceMap const map(0, 1 << 20, 1 << 20, 1 << 16);
  int wakes = 0;
  auto state = std::make_shared<StreamState>(map, 1 << 20, "x", [&wakes] { ++wakes; });
  state->set_starting(true);
  state->set_opening(true);
  CHECK(wakes == 2);  // each change wakes the session to plan again
  TorrentStream reader(state);
  reader.start_position_reached();
  CHECK_FALSE(state->starting());
  CHECK_FALSE(state->opening());
  CHECK(wakes == 4);
}

TEST_CASE("stream state: the start position a reader announced, until the seek withdraws it") {
  PieceMap const map(0, 1 << 20, 1 << 20, 1 << 16);
  StreamState s(map, 1 << 20, "x", [] {});
  CHECK(s.start_seconds(90) < 0);  // nothing announced
  s.set_seeks_after_open(63.0, false);
  CHECK(s.start_seconds(90) == doctest::Approx(63.0));
  CHECK(s.start_seconds(-1) == doctest::Approx(63.0));
  s.set_seeks_after_open(70.0, true);  // percent: needs the duration
  CHECK(s.start_seconds(90) == doctest::Approx(63.0));
  CHECK(s.start_seconds(-1) < 0);
  CHECK(s.start_fraction() == doctest::Approx(0.7));  // but its share of the file does not
  s.set_prefetch(ByteRange{1000, 2000});  // a hint is not a withdrawal
  CHECK(s.start_seconds(90) == doctest::Approx(63.0));
  s.set_prefetch(ByteRange{});  // the seek was made
  CHECK(s.start_seconds(90) < 0);
  CHECK(s.start_fraction() < 0);
  s.set_seeks_after_open(63.0, false);  // seconds: no share without the duration
  CHECK(s.start_fraction() < 0);
}
