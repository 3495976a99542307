#include "player/overlay.h"

#include <SDL2/SDL.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "imgui_impl_sdl.h"
#include "imgui_impl_sdlrenderer.h"
#include "player/clock.h"

namespace player {

namespace {
constexpr double kHideAfter = 2.0;  // seconds without activity
const char* const kFontPaths[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
};
}  // namespace

double seekbar_time_at(double x, double bar_x, double bar_w, double duration) {
  if (bar_w <= 0 || duration <= 0) return 0;
  double f = std::clamp((x - bar_x) / bar_w, 0.0, 1.0);
  return f * duration;
}

std::string format_time(double s) {
  if (!(s >= 0)) s = 0;
  long t = static_cast<long>(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

Overlay::Overlay(SDL_Window* window, SDL_Renderer* renderer) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // nothing written next to the user's files
  ImGui::StyleColorsDark();
  for (const char* p : kFontPaths) {
    if (FILE* f = std::fopen(p, "rb")) {
      std::fclose(f);
      io.Fonts->AddFontFromFileTTF(p, 18.0f);
      break;
    }
  }
  ImGui_ImplSDL2_InitForSDLRenderer(window);
  ImGui_ImplSDLRenderer_Init(renderer);
}

Overlay::~Overlay() {
  ImGui_ImplSDLRenderer_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
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
      return io.WantCaptureKeyboard;
    default:
      return false;
  }
}

void Overlay::poke() { last_activity_ = now_seconds(); }

bool Overlay::visible() const { return dragging_ || now_seconds() - last_activity_ < kHideAfter; }

std::vector<OverlayCommand> Overlay::draw(const OverlaySnapshot& s) {
  std::vector<OverlayCommand> cmds;
  ImGui_ImplSDLRenderer_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  ImGui::NewFrame();

  const bool show = visible() || s.paused || s.buffering;
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  if (show && disp.x > 0 && disp.y > 0) {
    const float pad = 12.0f;
    const float bar_h = 14.0f;
    const float panel_h = ImGui::GetFontSize() * 2.0f + bar_h + pad * 2.5f;
    ImGui::SetNextWindowPos(ImVec2(0, disp.y - panel_h));
    ImGui::SetNextWindowSize(ImVec2(disp.x, panel_h));
    ImGui::SetNextWindowBgAlpha(0.55f);
    ImGui::Begin("##controls", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const float bar_w = disp.x - 2 * pad;
    const ImVec2 a(origin.x, origin.y), b(origin.x + bar_w, origin.y + bar_h);
    ImGui::InvisibleButton("##seekbar", ImVec2(bar_w, bar_h));
    const bool hovered = ImGui::IsItemHovered();
    // Background, then verified data, in-flight data, played part, read head.
    dl->AddRectFilled(a, b, IM_COL32(60, 60, 60, 220), 3.0f);
    auto span_rect = [&](const Span& sp, ImU32 col) {
      float x0 = a.x + float(std::clamp(sp.begin, 0.0, 1.0)) * bar_w;
      float x1 = a.x + float(std::clamp(sp.end, 0.0, 1.0)) * bar_w;
      if (x1 > x0) dl->AddRectFilled(ImVec2(x0, a.y), ImVec2(std::max(x1, x0 + 1), b.y), col);
    };
    for (const Span& sp : s.downloaded) span_rect(sp, IM_COL32(110, 150, 200, 230));
    for (const Span& sp : s.in_flight) span_rect(sp, IM_COL32(220, 170, 60, 230));
    if (s.duration > 0) {
      float f = float(std::clamp(s.position / s.duration, 0.0, 1.0));
      dl->AddRectFilled(a, ImVec2(a.x + f * bar_w, b.y), IM_COL32(235, 235, 235, 150), 3.0f);
      dl->AddRectFilled(ImVec2(a.x + f * bar_w - 2, a.y - 3), ImVec2(a.x + f * bar_w + 2, b.y + 3),
                        IM_COL32(255, 255, 255, 255));
    }
    const float mx = ImGui::GetIO().MousePos.x;
    if (ImGui::IsItemActivated()) dragging_ = true;
    if (dragging_ && !ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
      dragging_ = false;
      cmds.push_back({OverlayCommand::Kind::SeekAbsolute, seekbar_time_at(mx, a.x, bar_w, s.duration)});
    }
    if ((hovered || dragging_) && s.duration > 0) {
      ImGui::SetTooltip("%s", format_time(seekbar_time_at(mx, a.x, bar_w, s.duration)).c_str());
    }
    std::string line = format_time(s.position) + " / " +
                       (s.duration > 0 ? format_time(s.duration) : std::string("--:--"));
    if (s.paused) line += "   [paused]";
    if (s.muted) line += "   [muted]";
    else if (std::fabs(s.volume - 1.0) > 0.01) line += "   vol " + std::to_string(int(s.volume * 100 + 0.5)) + "%";
    ImGui::TextUnformatted(line.c_str());
    if (!s.status_text.empty()) {
      ImGui::SameLine();
      ImGui::TextDisabled("   %s", s.status_text.c_str());
    }
    if (s.buffering) {
      ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.3f, 1.0f), "Buffering%s%s",
                         s.buffering_text.empty() ? "" : ": ", s.buffering_text.c_str());
    }
    ImGui::End();
  }
  ImGui::Render();
  ImGui_ImplSDLRenderer_RenderDrawData(ImGui::GetDrawData());
  return cmds;
}

}  // namespace player
