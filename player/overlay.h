// Overlay: the Dear ImGui layer over the video. OverlayUi builds one frame from an OverlaySnapshot
// and returns the user's commands (no SDL: tests drive it headless); Overlay adds the SDL backends,
// the run-time font, scaling with the window and the show/hide timer. Neither touches the pipeline.
#pragma once

#include <string>
#include <vector>

#include "player/commands.h"
#include "player/overlay_model.h"

struct SDL_Window;
struct SDL_Renderer;
typedef union SDL_Event SDL_Event;

namespace player {

// Seek-bar colours (RGB), shared with the tests' pixel checks.
struct OverlayColors {
  static constexpr unsigned kPlayed = 0xE6E6E6, kBuffered = 0x606060, kAhead = 0x3C3C3C;
  static constexpr unsigned kVerified = 0x3C82DC, kInFlight = 0xEBA528, kCritical = 0xEB503C;
  static constexpr unsigned kMissing = 0x404040, kLocal = 0x505050;
  static constexpr unsigned kReadHead = 0xFFDC00;
};
unsigned region_color(RegionKind k);

// Builds the overlay inside an ImGui frame (between ImGui::NewFrame and ImGui::Render) in the
// current context. Keeps only interaction state (a drag in progress). Single-threaded.
class OverlayUi {
 public:
  // controls: show the seek bar and status strip (the show/hide timer's decision). Panels, the
  // buffering box and OSD messages follow the snapshot.
  std::vector<Command> build(const OverlaySnapshot& s, bool controls);

  // Where the seek bar was drawn in the last frame (pixels), for tests and hit checks.
  struct Rect {
    float x = 0, y = 0, w = 0, h = 0;
  };
  const Rect& seekbar() const { return bar_; }
  // Top edge of the controls panel in the last frame (the display height when hidden).
  float panel_top() const { return panel_top_; }
  bool dragging() const { return dragging_; }

 private:
  void seek_bar(const OverlaySnapshot& s, std::vector<Command>* cmds);
  void stats_panel(const OverlaySnapshot& s, std::vector<Command>* cmds);
  void help_panel(std::vector<Command>* cmds);
  void files_panel(const OverlaySnapshot& s, std::vector<Command>* cmds);
  void buffering_box(const OverlaySnapshot& s);

  Rect bar_;
  float panel_top_ = 0;
  bool dragging_ = false;
  double last_drag_seek_ = -1;   // ImGui time of the last seek sent while dragging
  float last_drag_x_ = -1;
};

// Main thread only. Construct after the window and renderer exist; one at a time (it owns the
// ImGui context).
class Overlay {
 public:
  Overlay(SDL_Window* window, SDL_Renderer* renderer);
  ~Overlay();
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  // Feeds an event to ImGui. Returns true when ImGui wants it (the player must then ignore it).
  bool process_event(const SDL_Event& e);
  // User activity (mouse motion, keys): show the controls for a while.
  void poke();
  // True while the controls are shown by the timer, the pointer rests on them, or a drag is in
  // progress.
  bool visible() const;
  // Builds and renders the overlay for this frame (call from the video output's overlay hook).
  // force_controls: show the controls regardless of the timer (paused, buffering, screenshots).
  std::vector<Command> draw(const OverlaySnapshot& s, bool force_controls);
  // Top of the controls panel in window pixels if the next draw shows the controls (with the
  // same force_controls), else -1. Subtitles, drawn before the overlay, move above it.
  float panel_top(bool force_controls) const;
  // True when the font loaded from a file (else ImGui's built-in one, ASCII only).
  bool has_font() const { return !font_path_.empty(); }

 private:
  void fit_font(int display_h);

  SDL_Window* window_;
  OverlayUi ui_;
  double last_activity_ = -1e9;
  bool shown_ = false;
  bool hovered_ = false;       // the pointer was over the overlay in the last frame
  float last_panel_top_ = -1;  // where the panel was when last shown
  std::string font_path_;
  int font_px_ = 0;
};

}  // namespace player
