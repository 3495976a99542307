#include "player/overlay.h"

#include <SDL2/SDL.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "imgui_impl_sdl.h"
#include "imgui_impl_sdlrenderer.h"
#include "player/clock.h"
#include "player/keymap.h"

namespace player {

namespace {

constexpr double kHideAfter = 2.0;        // seconds without activity
constexpr double kDragSeekEvery = 0.25;   // seconds between seeks while dragging
const char* const kFontPaths[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
};

ImU32 rgb(unsigned c, int alpha = 255) {
  return IM_COL32((c >> 16) & 255, (c >> 8) & 255, c & 255, alpha);
}

constexpr ImGuiWindowFlags kHudFlags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                       ImGuiWindowFlags_NoSavedSettings |
                                       ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;

void text_shadowed(ImDrawList* dl, ImVec2 p, ImU32 col, const std::string& s) {
  dl->AddText(ImVec2(p.x + 1, p.y + 1), IM_COL32(0, 0, 0, 200), s.c_str());
  dl->AddText(p, col, s.c_str());
}

}  // namespace

unsigned region_color(RegionKind k) {
  switch (k) {
    case RegionKind::Played: return OverlayColors::kPlayed;
    case RegionKind::Buffered: return OverlayColors::kBuffered;
    case RegionKind::Ahead: return OverlayColors::kAhead;
    case RegionKind::Verified: return OverlayColors::kVerified;
    case RegionKind::InFlight: return OverlayColors::kInFlight;
    case RegionKind::Critical: return OverlayColors::kCritical;
    case RegionKind::Missing: return OverlayColors::kMissing;
    case RegionKind::Local: return OverlayColors::kLocal;
  }
  return OverlayColors::kMissing;
}

// ---- OverlayUi -------------------------------------------------------------------------------

std::vector<Command> OverlayUi::build(const OverlaySnapshot& s, bool controls) {
  std::vector<Command> cmds;
  const ImGuiIO& io = ImGui::GetIO();
  const ImVec2 disp = io.DisplaySize;
  panel_top_ = disp.y;
  if (disp.x <= 0 || disp.y <= 0) return cmds;
  const float F = ImGui::GetFontSize();
  const float pad = std::round(F * 0.6f);

  if (!controls && dragging_) {
    dragging_ = false;  // the panel went away under the mouse: drop the drag
  }
  if (controls) {
    const bool buffering_row = s.buffering;
    const float bar_h = std::round(F * 0.9f);
    const float panel_h = pad + bar_h + pad * 0.8f + F + (buffering_row ? F + pad * 0.4f : 0) + pad;
    panel_top_ = disp.y - panel_h;
    ImGui::SetNextWindowPos(ImVec2(0, panel_top_));
    ImGui::SetNextWindowSize(ImVec2(disp.x, panel_h));
    ImGui::SetNextWindowBgAlpha(0.6f);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(pad, pad));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0.f);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0.f);
    ImGui::Begin("##controls", nullptr, kHudFlags);
    seek_bar(s, &cmds);
    ImGui::Dummy(ImVec2(1, pad * 0.8f - ImGui::GetStyle().ItemSpacing.y * 2));

    // Status strip: pause button, time, buffered ahead, speed, volume | swarm.
    ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(F * 0.3f, 0));
    if (ImGui::Button(s.paused ? " > ##pause" : " || ##pause", ImVec2(F * 1.8f, F)))
      cmds.push_back({Command::Kind::TogglePause, 0});
    ImGui::PopStyleVar();
    ImGui::SameLine();
    ImGui::TextUnformatted(time_text(s).c_str());
    ImGui::SameLine();
    char buf[96];
    std::snprintf(buf, sizeof buf, "+%.1f s", seconds_ahead(s));
    ImGui::TextDisabled("%s", buf);
    if (std::fabs(s.speed - 1.0) > 1e-3) {
      ImGui::SameLine();
      ImGui::Text("%.2fx", s.speed);
    }
    ImGui::SameLine();
    if (s.muted) ImGui::TextDisabled("muted");
    else ImGui::TextDisabled("vol %d%%", static_cast<int>(std::lround(s.volume)));
    if (s.playlist.size() > 1) {
      ImGui::SameLine();
      int cur = 0;
      for (size_t i = 0; i < s.playlist.size(); ++i)
        if (s.playlist[i].current) cur = static_cast<int>(i) + 1;
      std::snprintf(buf, sizeof buf, "file %d/%zu##files", cur, s.playlist.size());
      ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(F * 0.3f, 0));
      if (ImGui::Button(buf)) cmds.push_back({Command::Kind::ToggleFilePicker, 0});
      ImGui::PopStyleVar();
    }
    const std::string swarm = swarm_text(s, io.Fonts->Fonts.Size > 0 && io.Fonts->Fonts[0]->FindGlyphNoFallback(0x2193));
    if (!swarm.empty()) {
      const float w = ImGui::CalcTextSize(swarm.c_str()).x;
      ImGui::SameLine(std::max(ImGui::GetCursorPosX() + F, disp.x - pad - w));
      ImGui::TextUnformatted(swarm.c_str());
    }
    if (buffering_row) {
      ImGui::TextColored(ImVec4(1.0f, 0.75f, 0.25f, 1.0f), "Buffering: %s", buffering_text(s).c_str());
    }
    ImGui::End();
    ImGui::PopStyleVar(3);
  }

  if (s.buffering) buffering_box(s);
  if (!s.osd_message.empty()) {
    text_shadowed(ImGui::GetForegroundDrawList(), ImVec2(pad, pad), IM_COL32(255, 255, 255, 255), s.osd_message);
  }
  if (s.show_stats) stats_panel(s, &cmds);
  if (s.show_help) help_panel(&cmds);
  if (s.show_files) files_panel(s, &cmds);
  return cmds;
}

void OverlayUi::seek_bar(const OverlaySnapshot& s, std::vector<Command>* cmds) {
  const ImGuiIO& io = ImGui::GetIO();
  const float F = ImGui::GetFontSize();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float bar_w = ImGui::GetContentRegionAvail().x;
  const float bar_h = std::round(F * 0.9f);
  bar_ = {origin.x, origin.y, bar_w, bar_h};
  ImGui::InvisibleButton("##seekbar", ImVec2(bar_w, bar_h));
  const bool hovered = ImGui::IsItemHovered();

  const float time_h = std::round(bar_h * 0.35f);
  for (const SeekbarRegion& r : seekbar_regions(s)) {
    const float x0 = origin.x + float(r.begin) * bar_w;
    const float x1 = std::max(origin.x + float(r.end) * bar_w, x0 + 1);
    const float y0 = r.lane == Lane::Time ? origin.y : origin.y + time_h;
    const float y1 = r.lane == Lane::Time ? origin.y + time_h : origin.y + bar_h;
    dl->AddRectFilled(ImVec2(std::round(x0), y0), ImVec2(std::round(x1), y1), rgb(region_color(r.kind)));
  }
  const double head = seekbar_read_head(s);
  if (head >= 0) {
    const float x = std::round(origin.x + float(head) * bar_w);
    dl->AddRectFilled(ImVec2(x - 1, origin.y + time_h), ImVec2(x + 1, origin.y + bar_h), rgb(OverlayColors::kReadHead));
    dl->AddTriangleFilled(ImVec2(x - 4, origin.y + bar_h + 5), ImVec2(x + 4, origin.y + bar_h + 5),
                          ImVec2(x, origin.y + bar_h), rgb(OverlayColors::kReadHead));
  }
  if (s.duration > 0) {
    const float x = std::round(origin.x + float(std::clamp(s.position / s.duration, 0.0, 1.0)) * bar_w);
    dl->AddRectFilled(ImVec2(x - 2, origin.y - 3), ImVec2(x + 2, origin.y + bar_h + 3), IM_COL32(255, 255, 255, 255));
  }

  // Click or drag seeks: at most every kDragSeekEvery while dragging, and once on release.
  const float mx = io.MousePos.x;
  if (ImGui::IsItemActivated() && s.duration > 0) {
    dragging_ = true;
    last_drag_seek_ = -1;
    last_drag_x_ = -1;
  }
  if (dragging_) {
    const double now = ImGui::GetTime();
    if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
      dragging_ = false;
      cmds->push_back({Command::Kind::SeekAbsolute, seekbar_time_at(mx, origin.x, bar_w, s.duration)});
    } else if (mx != last_drag_x_ && last_drag_x_ >= 0 && now - last_drag_seek_ >= kDragSeekEvery) {
      cmds->push_back({Command::Kind::SeekAbsolute, seekbar_time_at(mx, origin.x, bar_w, s.duration)});
      last_drag_seek_ = now;
      last_drag_x_ = mx;
    } else if (last_drag_x_ < 0) {
      last_drag_x_ = mx;
      last_drag_seek_ = now;
    }
  }
  if ((hovered || dragging_) && s.duration > 0) {
    const std::string t = format_time(seekbar_time_at(mx, origin.x, bar_w, s.duration));
    const ImVec2 ts = ImGui::CalcTextSize(t.c_str());
    const float x = std::clamp(mx - ts.x / 2, 2.f, io.DisplaySize.x - ts.x - 2);
    const ImVec2 p(x, origin.y - ts.y - F * 0.6f);
    ImDrawList* fg = ImGui::GetForegroundDrawList();
    fg->AddRectFilled(ImVec2(p.x - 4, p.y - 2), ImVec2(p.x + ts.x + 4, p.y + ts.y + 2), IM_COL32(0, 0, 0, 190), 3.f);
    fg->AddText(p, IM_COL32(255, 255, 255, 255), t.c_str());
  }
}

void OverlayUi::buffering_box(const OverlaySnapshot& s) {
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  const float F = ImGui::GetFontSize();
  const std::string what = buffering_text(s);
  static const char* const kSpin[] = {"|", "/", "-", "\\"};
  const char* spin = kSpin[static_cast<int>(ImGui::GetTime() * 8) % 4];
  ImGui::SetNextWindowPos(ImVec2(disp.x * 0.5f, disp.y * 0.42f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowBgAlpha(0.65f);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(F, F * 0.6f));
  ImGui::Begin("##buffering", nullptr, kHudFlags | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoInputs);
  ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.3f, 1.0f), "%s Buffering", spin);
  if (!what.empty()) ImGui::TextUnformatted(what.c_str());
  ImGui::End();
  ImGui::PopStyleVar();
}

void OverlayUi::stats_panel(const OverlaySnapshot& s, std::vector<Command>* cmds) {
  const float F = ImGui::GetFontSize();
  ImGui::SetNextWindowPos(ImVec2(F * 0.6f, F * 2.0f), ImGuiCond_Always);
  ImGui::SetNextWindowBgAlpha(0.7f);
  bool open = true;
  ImGui::Begin("Stats (i)", &open,
               ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoFocusOnAppearing);
  if (!s.title.empty()) ImGui::TextUnformatted(s.title.c_str());
  if (!s.video_codec.empty())
    ImGui::Text("video   %s  %dx%d  %.3g fps", s.video_codec.c_str(), s.width, s.height, s.fps);
  if (!s.audio_codec.empty()) ImGui::Text("audio   %s", s.audio_codec.c_str());
  ImGui::Text("dropped frames %lld   A/V drift %+.0f ms", static_cast<long long>(s.frames_dropped), s.av_drift * 1000);
  ImGui::Text("queues  video %d/%d pkts  audio %d/%d pkts  frames %d/%d", s.video_packets, s.video_packets_max,
              s.audio_packets, s.audio_packets_max, s.video_frames, s.video_frames_max);
  ImGui::Text("speed %.2fx   buffered ahead %.1f s   byte rate %s", s.speed, seconds_ahead(s),
              format_rate(s.byte_rate).c_str());
  std::string tracks = "audio  ";
  for (const TrackEntry& t : s.audio_tracks) tracks += (t.selected ? "[" : " ") + std::to_string(t.id) + (t.selected ? "] " : "  ");
  if (s.audio_tracks.empty()) tracks += "none";
  ImGui::TextUnformatted(tracks.c_str());
  for (const TrackEntry& t : s.audio_tracks)
    if (t.selected) ImGui::TextDisabled("        %s", t.title.c_str());
  tracks = "subs   ";
  bool any = false;
  for (const TrackEntry& t : s.sub_tracks) {
    tracks += (t.selected ? "[" : " ") + std::to_string(t.id) + (t.selected ? "] " : "  ");
    any |= t.selected;
  }
  tracks += any ? "" : "[off]";
  ImGui::TextUnformatted(tracks.c_str());
  for (const TrackEntry& t : s.sub_tracks)
    if (t.selected) ImGui::TextDisabled("        %s%s  delay %+.0f ms", t.title.c_str(), s.sub_visible ? "" : " (hidden)",
                                        s.sub_delay * 1000);

  const SwarmSnapshot& w = s.swarm;
  if (w.have) {
    ImGui::Separator();
    ImGui::Text("swarm   %s", swarm_text(s, false).c_str());
    ImGui::Text("data    %s down  %s up", format_bytes(double(w.downloaded)).c_str(), format_bytes(double(w.uploaded)).c_str());
    if (w.ring_capacity > 0)
      ImGui::Text("ring buffer %s / %s (%.0f%%)", format_bytes(double(w.ring_used)).c_str(),
                  format_bytes(double(w.ring_capacity)).c_str(), 100.0 * w.ring_used / w.ring_capacity);
    else
      ImGui::Text("read-ahead verified %s", format_bytes(double(w.buffered_ahead)).c_str());
    // The picker's window: the pieces with deadlines.
    int first = -1, last = -1, critical = 0, inflight = 0;
    for (size_t i = 0; i < w.pieces.size(); ++i) {
      if (w.pieces[i] == 'c') {
        if (first < 0) first = int(i);
        last = int(i);
        ++critical;
      }
      if (w.pieces[i] == 'r') ++inflight;
    }
    if (critical > 0) ImGui::Text("picker window pieces %d-%d (%d with deadlines)  %d more in flight", first, last, critical, inflight);
    else ImGui::Text("picker window  none   %d pieces in flight", inflight);
    const std::string& map = w.torrent_pieces.empty() ? w.pieces : w.torrent_pieces;
    if (!map.empty()) {
      ImGui::Text("piece map (%zu pieces%s)", map.size(), w.torrent_pieces.empty() ? " of this file" : "");
      // One cell per piece, or per group of pieces for large torrents.
      const int cols = 64;
      const size_t cells = std::min<size_t>(map.size(), cols * 16);
      const float cell = std::max(3.f, std::round(F * 0.45f));
      const ImVec2 o = ImGui::GetCursorScreenPos();
      ImDrawList* dl = ImGui::GetWindowDrawList();
      for (size_t c = 0; c < cells; ++c) {
        const size_t b = c * map.size() / cells, e = std::max(b + 1, (c + 1) * map.size() / cells);
        int have = 0, crit = 0, fly = 0;
        for (size_t i = b; i < e; ++i) {
          have += map[i] == 'h';
          crit += map[i] == 'c';
          fly += map[i] == 'r';
        }
        RegionKind k = crit ? RegionKind::Critical : fly ? RegionKind::InFlight
                       : have == int(e - b) ? RegionKind::Verified : RegionKind::Missing;
        unsigned col = region_color(k);
        if (k == RegionKind::Missing && have > 0) col = 0x2A5A96;  // partly verified group
        const float x = o.x + float(c % cols) * (cell + 1), y = o.y + float(c / cols) * (cell + 1);
        dl->AddRectFilled(ImVec2(x, y), ImVec2(x + cell, y + cell), rgb(col));
      }
      const size_t rows = (cells + cols - 1) / cols;
      ImGui::Dummy(ImVec2(cols * (cell + 1), float(rows) * (cell + 1)));
    }
  }
  ImGui::End();
  if (!open) cmds->push_back({Command::Kind::ToggleStats, 0});
}

void OverlayUi::help_panel(std::vector<Command>* cmds) {
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(disp.x * 0.5f, disp.y * 0.45f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowBgAlpha(0.8f);
  bool open = true;
  ImGui::Begin("Keys (?)", &open,
               ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoCollapse);
  if (ImGui::BeginTable("##keys", 2)) {
    for (const auto& [keys, what] : key_help()) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::TextColored(ImVec4(1.0f, 0.85f, 0.4f, 1.0f), "%s", keys);
      ImGui::TableSetColumnIndex(1);
      ImGui::TextUnformatted(what);
    }
    ImGui::EndTable();
  }
  ImGui::End();
  if (!open) cmds->push_back({Command::Kind::ToggleHelp, 0});
}

void OverlayUi::files_panel(const OverlaySnapshot& s, std::vector<Command>* cmds) {
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  const float F = ImGui::GetFontSize();
  ImGui::SetNextWindowPos(ImVec2(disp.x * 0.5f, disp.y * 0.45f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSizeConstraints(ImVec2(F * 16, 0), ImVec2(disp.x * 0.9f, disp.y * 0.7f));
  ImGui::SetNextWindowBgAlpha(0.85f);
  bool open = true;
  ImGui::Begin("Files (F8)", &open,
               ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoCollapse);
  if (s.playlist.empty()) ImGui::TextDisabled("one file only");
  for (size_t i = 0; i < s.playlist.size(); ++i) {
    const PlaylistEntry& e = s.playlist[i];
    std::string label = (e.current ? "> " : "   ") + e.name + "##file" + std::to_string(i);
    if (ImGui::Selectable(label.c_str(), e.current) && !e.current)
      cmds->push_back({Command::Kind::PlaylistSelect, double(i)});
  }
  ImGui::End();
  if (!open) cmds->push_back({Command::Kind::ToggleFilePicker, 0});
}

// ---- Overlay (SDL glue) ----------------------------------------------------------------------

Overlay::Overlay(SDL_Window* window, SDL_Renderer* renderer) : window_(window) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // nothing written next to the user's files
  io.LogFilename = nullptr;
  ImGui::StyleColorsDark();
  for (const char* p : kFontPaths) {
    if (FILE* f = std::fopen(p, "rb")) {
      std::fclose(f);
      font_path_ = p;
      break;
    }
  }
  ImGui_ImplSDL2_InitForSDLRenderer(window);
  ImGui_ImplSDLRenderer_Init(renderer);
  int h = 0;
  SDL_GetWindowSize(window, nullptr, &h);
  fit_font(h);
}

Overlay::~Overlay() {
  ImGui_ImplSDLRenderer_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
}

void Overlay::fit_font(int display_h) {
  // The overlay scales with the window: about 36 lines of text fill its height.
  const int px = std::clamp(static_cast<int>(std::lround(display_h / 36.0)), 13, 40);
  if (px == font_px_) return;
  font_px_ = px;
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFont* font = nullptr;
  if (!font_path_.empty()) {
    static const ImWchar ranges[] = {0x0020, 0x00FF, 0x2010, 0x2027, 0x2190, 0x21FF, 0x25A0, 0x25FF, 0};
    font = io.Fonts->AddFontFromFileTTF(font_path_.c_str(), float(px), nullptr, ranges);
    if (!font) font_path_.clear();
  }
  if (!font) {
    ImFontConfig cfg;
    cfg.SizePixels = float(px);
    io.Fonts->AddFontDefault(&cfg);
  }
  ImGui_ImplSDLRenderer_DestroyFontsTexture();  // rebuilt by the next NewFrame
  ImGuiStyle style;
  ImGui::StyleColorsDark(&style);
  style.ScaleAllSizes(float(px) / 16.f);
  ImGui::GetStyle() = style;
}

bool Overlay::process_event(const SDL_Event& e) {
  ImGui_ImplSDL2_ProcessEvent(&e);
  if (e.type == SDL_MOUSEMOTION || e.type == SDL_MOUSEBUTTONDOWN) poke();
  const ImGuiIO& io = ImGui::GetIO();
  switch (e.type) {
    case SDL_MOUSEMOTION:
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
    case SDL_MOUSEWHEEL:
      return io.WantCaptureMouse;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
    case SDL_TEXTINPUT:
      return io.WantCaptureKeyboard || io.WantTextInput;
    default:
      return false;
  }
}

void Overlay::poke() { last_activity_ = now_seconds(); }

float Overlay::panel_top(bool force_controls) const {
  if (!force_controls && !visible()) return -1.f;
  if (last_panel_top_ >= 0) return last_panel_top_;
  int h = 0;
  SDL_GetWindowSize(window_, nullptr, &h);
  return float(h) - float(font_px_) * 4.5f;  // not drawn yet: about its height
}

bool Overlay::visible() const {
  return ui_.dragging() || hovered_ || now_seconds() - last_activity_ < kHideAfter;
}

std::vector<Command> Overlay::draw(const OverlaySnapshot& s, bool force_controls) {
  int h = 0;
  SDL_GetWindowSize(window_, nullptr, &h);
  fit_font(h);
  ImGui_ImplSDLRenderer_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  ImGui::NewFrame();
  shown_ = force_controls || visible();
  std::vector<Command> cmds = ui_.build(s, shown_);
  if (shown_) last_panel_top_ = ui_.panel_top();
  hovered_ = shown_ && ImGui::GetIO().WantCaptureMouse;
  ImGui::Render();
  ImGui_ImplSDLRenderer_RenderDrawData(ImGui::GetDrawData());
  // The mouse pointer hides with the controls (over the video only).
  SDL_ShowCursor(shown_ || s.show_files || s.show_help || s.show_stats ? SDL_ENABLE : SDL_DISABLE);
  return cmds;
}

}  // namespace player
