// The overlay is a function of a snapshot: seek-bar regions and status texts from plain
// snapshots, and the commands a headless ImGui frame produces for clicks and drags.
#include <doctest/doctest.h>

#include <cmath>

#include "imgui.h"
#include "imgui_internal.h"
#include "player/overlay.h"

using namespace player;

namespace {

OverlaySnapshot swarm_snapshot() {
  OverlaySnapshot s;
  s.duration = 100;
  s.position = 25;
  s.buffered_until = 40;  // the demuxer has read 15 s ahead
  s.file_size = 1400;
  s.byte_rate = 14;       // bytes per second of media
  s.swarm.have = true;
  s.swarm.piece_size = 100;
  s.swarm.file_offset = 0;
  s.swarm.pieces = "hhhh..rrcc..hh";
  return s;
}

// A headless ImGui context: 1280x720, the built-in font, no backend.
struct Headless {
  Headless() {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(1280, 720);
    io.IniFilename = nullptr;
    io.Fonts->AddFontDefault();
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
    io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(intptr_t(1)));
  }
  ~Headless() { ImGui::DestroyContext(); }
  std::vector<Command> frame(OverlayUi& ui, const OverlaySnapshot& s, float mx, float my, bool down,
                             bool controls = true, float dt = 1.f / 60) {
    ImGuiIO& io = ImGui::GetIO();
    io.DeltaTime = dt;
    io.MousePos = ImVec2(mx, my);
    io.MouseDown[0] = down;
    ImGui::NewFrame();
    std::vector<Command> c = ui.build(s, controls);
    ImGui::Render();
    return c;
  }
};

}  // namespace

TEST_CASE("seek bar: time lane (played, buffered) and data lane (pieces) as fractions") {
  OverlaySnapshot s = swarm_snapshot();
  std::vector<SeekbarRegion> r = seekbar_regions(s);
  std::vector<SeekbarRegion> time, data;
  for (const auto& x : r) (x.lane == Lane::Time ? time : data).push_back(x);
  REQUIRE(time.size() == 3);
  CHECK(time[0].kind == RegionKind::Played);
  CHECK(time[0].end == doctest::Approx(0.25));
  CHECK(time[1].kind == RegionKind::Buffered);
  CHECK(time[1].begin == doctest::Approx(0.25));
  CHECK(time[1].end == doctest::Approx(0.40));  // 15 s read ahead, no verified bytes past the head
  CHECK(time[2].kind == RegionKind::Ahead);
  CHECK(time[2].end == doctest::Approx(1.0));

  const RegionKind kinds[] = {RegionKind::Verified, RegionKind::Missing, RegionKind::InFlight,
                              RegionKind::Critical, RegionKind::Missing, RegionKind::Verified};
  const double begins[] = {0, 4, 6, 8, 10, 12};
  REQUIRE(data.size() == 6);
  for (size_t i = 0; i < data.size(); ++i) {
    CAPTURE(i);
    CHECK(data[i].kind == kinds[i]);
    CHECK(data[i].begin == doctest::Approx(begins[i] / 14));
  }
  CHECK(data[0].end == doctest::Approx(4.0 / 14));
  CHECK(data[5].end == doctest::Approx(1.0));
  // Lanes are covered without gaps.
  for (auto* lane : {&time, &data})
    for (size_t i = 1; i < lane->size(); ++i) CHECK((*lane)[i].begin == doctest::Approx((*lane)[i - 1].end));

  // Verified bytes past the read head count as buffered time too.
  s.swarm.buffered_ahead = 140;  // 10 s at 14 B/s
  CHECK(seconds_ahead(s) == doctest::Approx(25.0));
}

TEST_CASE("seek bar: a file that starts inside its first piece, read head, local files") {
  OverlaySnapshot s;
  s.duration = 10;
  s.file_size = 250;
  s.swarm.have = true;
  s.swarm.piece_size = 100;
  s.swarm.file_offset = 50;   // the file starts half-way into its first piece
  s.swarm.pieces = "h.r";     // covers file bytes [0,50) [50,150) [150,250)
  s.read_head = 125;
  std::vector<SeekbarRegion> data;
  for (const auto& x : seekbar_regions(s))
    if (x.lane == Lane::Data) data.push_back(x);
  REQUIRE(data.size() == 3);
  CHECK(data[0].kind == RegionKind::Verified);
  CHECK(data[0].end == doctest::Approx(0.2));
  CHECK(data[1].kind == RegionKind::Missing);
  CHECK(data[1].end == doctest::Approx(0.6));
  CHECK(data[2].kind == RegionKind::InFlight);
  CHECK(seekbar_read_head(s) == doctest::Approx(0.5));

  OverlaySnapshot local;
  local.duration = 10;
  local.position = 5;
  local.file_size = 1000;
  data.clear();
  for (const auto& x : seekbar_regions(local))
    if (x.lane == Lane::Data) data.push_back(x);
  REQUIRE(data.size() == 1);
  CHECK(data[0].kind == RegionKind::Local);
  CHECK(seekbar_read_head(local) == -1);
}

TEST_CASE("buffering says what it waits for; status texts") {
  OverlaySnapshot s = swarm_snapshot();
  CHECK(buffering_text(s).empty());  // not buffering
  s.buffering = true;
  s.buffering_what = "stalled";
  s.read_head = 450;  // piece 4, missing; pieces 4..5 missing, 6..9 in flight or critical
  s.byte_rate = 300;  // 2 s of media = 600 bytes = 6 pieces ahead count
  CHECK(buffering_text(s) == "waiting for 6 pieces, 600 B");
  s.byte_rate = 10;   // a slow stream: the next piece is all it waits for
  CHECK(buffering_text(s) == "waiting for 1 piece, 100 B");
  s.read_head = 50;   // inside verified data: not waiting on pieces
  CHECK(buffering_text(s) == "waiting for data (stalled)");
  s.swarm.have = false;
  s.buffering_what = "opening";
  CHECK(buffering_text(s) == "opening the file");

  OverlaySnapshot w;
  w.position = 62;
  w.duration = 3725;
  CHECK(time_text(w) == "1:02 / 1:02:05");
  w.swarm.have = true;
  w.swarm.download_rate = 1200000;
  w.swarm.upload_rate = 80000;
  w.swarm.peers = 12;
  w.swarm.seeds = 5;
  w.swarm.progress = 0.43;
  w.swarm.ratio = 0.12;
  CHECK(swarm_text(w, false) == "down 1.2 MB/s  up 80 kB/s  12 peers (5 seeds / 7 leechers)  43%  ratio 0.12");
  CHECK(swarm_text(w, true).find("\xE2\x86\x93 1.2 MB/s") == 0);
  CHECK(format_bytes(1.2e6) == "1.2 MB");
}

TEST_CASE("a click on the seek bar seeks there; hidden controls take no clicks") {
  Headless h;
  OverlayUi ui;
  OverlaySnapshot s = swarm_snapshot();
  CHECK(h.frame(ui, s, 0, 0, false).empty());
  const OverlayUi::Rect bar = ui.seekbar();
  REQUIRE(bar.w > 1000);
  CHECK(bar.y > 600);  // at the bottom of the 720 px display
  const float x = bar.x + bar.w * 0.5f, y = bar.y + bar.h * 0.5f;
  CHECK(h.frame(ui, s, x, y, false).empty());  // hover
  CHECK(h.frame(ui, s, x, y, true).empty());   // press
  std::vector<Command> c = h.frame(ui, s, x, y, false);  // release
  REQUIRE(c.size() == 1);
  CHECK(c[0].kind == Command::Kind::SeekAbsolute);
  CHECK(c[0].value == doctest::Approx(50.0).epsilon(0.01));

  // The same click with the controls hidden does nothing.
  OverlayUi hidden;
  h.frame(hidden, s, 0, 0, false, false);
  h.frame(hidden, s, x, y, true, false);
  CHECK(h.frame(hidden, s, x, y, false, false).empty());
}

TEST_CASE("dragging along the seek bar seeks while moving (throttled) and where it is released") {
  Headless h;
  OverlayUi ui;
  OverlaySnapshot s = swarm_snapshot();
  h.frame(ui, s, 0, 0, false);
  const OverlayUi::Rect bar = ui.seekbar();
  const float y = bar.y + bar.h / 2;
  auto at = [&](double f) { return bar.x + float(f) * bar.w; };
  std::vector<Command> all;
  for (auto& c : h.frame(ui, s, at(0.2), y, false)) all.push_back(c);
  for (auto& c : h.frame(ui, s, at(0.2), y, true)) all.push_back(c);
  CHECK(ui.dragging());
  // Move 0.2 -> 0.6 in 20 frames of 50 ms each.
  for (int i = 1; i <= 20; ++i)
    for (auto& c : h.frame(ui, s, at(0.2 + 0.02 * i), y, true, true, 0.05f)) all.push_back(c);
  const size_t while_dragging = all.size();
  CHECK(while_dragging >= 2);
  CHECK(while_dragging <= 6);  // at most one every 0.25 s over 1 s of dragging
  for (const Command& c : all) {
    CHECK(c.kind == Command::Kind::SeekAbsolute);
    CHECK(c.value > 20);
    CHECK(c.value <= 60.5);
  }
  for (auto& c : h.frame(ui, s, at(0.8), y, false)) all.push_back(c);
  REQUIRE(all.size() == while_dragging + 1);
  CHECK(all.back().value == doctest::Approx(80.0).epsilon(0.01));
  CHECK_FALSE(ui.dragging());
}

TEST_CASE("panels: the file list selects a file; closing panels toggles them off") {
  Headless h;
  OverlayUi ui;
  OverlaySnapshot s = swarm_snapshot();
  s.show_files = true;
  s.playlist = {{"Show.S01E01.mkv", false}, {"Show.S01E02.mkv", true}, {"Show.S01E10.mkv", false}};
  h.frame(ui, s, 0, 0, false);
  h.frame(ui, s, 0, 0, false);  // auto-resized windows settle on the second frame
  ImGuiWindow* w = ImGui::FindWindowByName("Files (F8)");
  REQUIRE(w != nullptr);
  const float row = ImGui::GetTextLineHeightWithSpacing();
  const ImVec2 first = w->DC.CursorStartPos;
  const float x = first.x + 20, y = first.y + row * 2 + row / 2;  // the third entry
  h.frame(ui, s, x, y, false);
  h.frame(ui, s, x, y, true);
  std::vector<Command> c = h.frame(ui, s, x, y, false);
  REQUIRE(c.size() == 1);
  CHECK(c[0].kind == Command::Kind::PlaylistSelect);
  CHECK(c[0].value == 2);

  // The stats window's close button asks to toggle it off.
  OverlayUi ui2;
  OverlaySnapshot st = swarm_snapshot();
  st.show_stats = true;
  h.frame(ui2, st, 0, 0, false);
  h.frame(ui2, st, 0, 0, false);
  ImGuiWindow* sw = ImGui::FindWindowByName("Stats (i)");
  REQUIRE(sw != nullptr);
  const ImRect title = sw->TitleBarRect();
  const float cx = title.Max.x - ImGui::GetStyle().FramePadding.x - ImGui::GetFontSize() / 2,
              cy = title.GetCenter().y;
  h.frame(ui2, st, cx, cy, false);
  h.frame(ui2, st, cx, cy, true);
  c = h.frame(ui2, st, cx, cy, false);
  REQUIRE(c.size() == 1);
  CHECK(c[0].kind == Command::Kind::ToggleStats);
}

TEST_CASE("the overlay keeps to a snapshot: the same snapshot draws the same frame") {
  Headless h;
  OverlayUi a, b;
  OverlaySnapshot s = swarm_snapshot();
  s.show_stats = true;
  s.buffering = true;
  auto draw = [&](OverlayUi& ui) {
    ImGuiIO& io = ImGui::GetIO();
    io.DeltaTime = 1.f / 60;
    io.MousePos = ImVec2(-1, -1);
    ImGui::NewFrame();
    ui.build(s, true);
    ImGui::Render();
    size_t vtx = 0;
    for (int i = 0; i < ImGui::GetDrawData()->CmdListsCount; ++i) vtx += size_t(ImGui::GetDrawData()->CmdLists[i]->VtxBuffer.Size);
    return vtx;
  };
  draw(a);
  const size_t va = draw(a);
  draw(b);
  const size_t vb = draw(b);
  CHECK(va > 0);
  CHECK(va == vb);
}
