// Video outputs: an SDL2 window with a streaming texture (YUV upload, aspect-correct scaling),
// and a null twin for headless runs. They show what they are given; timing is the player's.
#pragma once

#include <functional>
#include <memory>
#include <string>

extern "C" {
#include <libavutil/frame.h>
}

struct SDL_Window;
struct SDL_Renderer;

namespace player {

// Main thread only.
class VideoOut {
 public:
  // Opens a resizable window. nullptr + *error when no display is available.
  static std::unique_ptr<VideoOut> create_sdl(const std::string& title, int width, int height,
                                              std::string* error);
  static std::unique_ptr<VideoOut> create_null();
  virtual ~VideoOut() = default;

  // Uploads a new picture and draws it (plus the overlay hook) to the screen.
  virtual void present(const AVFrame* frame) = 0;
  // Draws the last picture again (window resized, overlay changed).
  virtual void redraw() = 0;

  virtual bool is_window() const { return false; }
  virtual SDL_Window* window() const { return nullptr; }
  virtual SDL_Renderer* renderer() const { return nullptr; }
  virtual void toggle_fullscreen() {}
  virtual void set_title(const std::string&) {}

  // Called after the picture is drawn and before the frame is shown (ImGui overlay).
  void set_overlay_hook(std::function<void()> hook) { overlay_hook_ = std::move(hook); }
  // Saves the next drawn frame (picture + overlay) as a BMP file.
  void request_screenshot(const std::string& path) { screenshot_path_ = path; }

 protected:
  std::function<void()> overlay_hook_;
  std::string screenshot_path_;
};

}  // namespace player
