// Overlay: the Dear ImGui layer drawn over the video — a function of a snapshot of the player
// (and swarm) state that returns the user's commands. It never touches the pipeline itself.
#pragma once

#include <string>
#include <vector>

struct SDL_Window;
struct SDL_Renderer;
typedef union SDL_Event SDL_Event;

namespace player {

// A half-open range of the file as fractions of its length, [begin, end).
struct Span {
  double begin = 0, end = 0;
};

struct OverlaySnapshot {
  double position = 0;       // seconds
  double duration = -1;      // seconds, -1 unknown
  bool paused = false;
  bool muted = false;
  double volume = 1.0;
  bool buffering = false;
  std::string buffering_text;     // e.g. "waiting for 3 pieces, 1.2 MB"
  std::string status_text;        // rates, peers, progress (filled by the wiring layer)
  std::vector<Span> downloaded;   // verified data, as fractions of the file
  std::vector<Span> in_flight;    // requested data
  double buffered_until = -1;     // seconds: contiguous buffered data ahead of the position
};

struct OverlayCommand {
  enum class Kind { SeekAbsolute, TogglePause } kind = Kind::SeekAbsolute;
  double value = 0;
};

// Maps a horizontal position on the seek bar to a time; pure, for tests.
double seekbar_time_at(double x, double bar_x, double bar_w, double duration);
// "1:02:03" / "2:03" formatting of seconds.
std::string format_time(double seconds);

// Main thread only. Construct after the window and renderer exist.
class Overlay {
 public:
  Overlay(SDL_Window* window, SDL_Renderer* renderer);
  ~Overlay();
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  // Feeds an event to ImGui. Returns true when ImGui wants it (the player must ignore it).
  bool process_event(const SDL_Event& e);
  // User activity (mouse motion, keys): show the overlay for a while.
  void poke();
  // True while the overlay is shown (so the player keeps redrawing).
  bool visible() const;
  // Builds and renders the overlay for this frame. Call from the video output's overlay hook.
  std::vector<OverlayCommand> draw(const OverlaySnapshot& s);

 private:
  double last_activity_ = -1e9;
  bool dragging_ = false;
};

}  // namespace player
