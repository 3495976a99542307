// Video outputs: an SDL2 window with a streaming texture (YUV upload, aspect-correct scaling,
// subtitle image on top), and a null twin for headless runs. They show what they are given;
// timing and what the subtitles say are the player's.
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

struct RgbaImage;

// Where the picture is drawn inside the window (pixels).
struct VideoRect {
  int x = 0, y = 0, w = 0, h = 0;
};

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
  virtual void set_fullscreen(bool) {}
  virtual bool fullscreen() const { return false; }
  virtual void set_title(const std::string&) {}
  // Size of the picture in its own pixels (after the sample aspect ratio), 0 before the first.
  virtual int picture_width() const { return 0; }
  virtual int picture_height() const { return 0; }

  // Called after the picture is drawn and before the frame is shown (ImGui overlay).
  void set_overlay_hook(std::function<void()> hook) { overlay_hook_ = std::move(hook); }
  // Called after the picture and before the overlay: returns the subtitle image to draw over the
  // picture's rectangle (or nullptr), and the lowest y it may reach (-1: no limit).
  using SubtitleHook = std::function<const RgbaImage*(const VideoRect& rect, int* max_y)>;
  void set_subtitle_hook(SubtitleHook hook) { subtitle_hook_ = std::move(hook); }
  // Saves the next drawn frame (picture + overlay) as a BMP file.
  void request_screenshot(const std::string& path) { screenshot_path_ = path; }

 protected:
  std::function<void()> overlay_hook_;
  SubtitleHook subtitle_hook_;
  std::string screenshot_path_;
};

}  // namespace player
