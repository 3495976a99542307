// A real window run renders the testsrc2 picture with the overlay over it: under Xvfb (when
// installed) and under SDL's offscreen driver. The test reads the saved screenshot's pixels.
#include <doctest/doctest.h>
#include <SDL2/SDL.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "run_process.h"

using namespace cine_test;

namespace {

struct Rgb {
  int r, g, b;
};

class Shot {
 public:
  explicit Shot(const std::string& path) : s_(SDL_LoadBMP(path.c_str())) {
    if (s_) {
      SDL_Surface* c = SDL_ConvertSurfaceFormat(s_, SDL_PIXELFORMAT_RGB24, 0);
      SDL_FreeSurface(s_);
      s_ = c;
    }
  }
  ~Shot() {
    if (s_) SDL_FreeSurface(s_);
  }
  bool ok() const { return s_ != nullptr; }
  int w() const { return s_->w; }
  int h() const { return s_->h; }
  Rgb at(int x, int y) const {
    const uint8_t* p = static_cast<const uint8_t*>(s_->pixels) + y * s_->pitch + x * 3;
    return {p[0], p[1], p[2]};
  }

 private:
  SDL_Surface* s_;
};

bool grayish(Rgb c) { return std::abs(c.r - c.g) < 14 && std::abs(c.g - c.b) < 14; }

// The checks shared by both drivers.
void check_screenshot(const std::string& path) {
  Shot s(path);
  REQUIRE(s.ok());
  CHECK(s.w() >= 640);  // the 320x240 clip opens at twice its size
  // testsrc2's top half is vertical colour bars: many distinct saturated colours on one row.
  std::set<int> hues;
  int y = s.h() / 4;
  for (int x = 5; x < s.w(); x += s.w() / 16) {
    Rgb c = s.at(x, y);
    if (!grayish(c)) hues.insert((c.r / 64) * 16 + (c.g / 64) * 4 + c.b / 64);
  }
  CHECK(hues.size() >= 5);
  // The overlay: a seek bar row near the bottom that is uniformly gray across the window,
  // which the colourful picture alone never is.
  bool bar = false;
  for (int yy = s.h() - 1; yy > s.h() * 2 / 3 && !bar; --yy) {
    int gray = 0, n = 0;
    for (int x = s.w() / 2; x < s.w() - 20; x += 4, ++n) {
      Rgb c = s.at(x, yy);
      // The bar's dark gray, tinted slightly by the picture under its translucency.
      auto dark = [](int v) { return v >= 35 && v <= 100; };
      if (dark(c.r) && dark(c.g) && dark(c.b) && std::abs(c.r - c.g) < 24 && std::abs(c.g - c.b) < 24) ++gray;
    }
    bar = gray >= n * 9 / 10;
  }
  CHECK(bar);
}

ProcessResult play_window(const std::string& shot, const std::vector<std::string>& env) {
  std::string clip = std::string(CINE_MEDIA_DIR) + "/clip.mkv";
  std::remove(shot.c_str());
  return run_process({CINE_BINARY, "play", clip, "--vo=sdl", "--ao=null", "--length=2.5",
                      "--no-resume-playback",
                      "--screenshot-at=1.5," + shot, "--quiet"},
                     30, env);
}

}  // namespace

TEST_CASE("window under SDL's offscreen driver renders the picture and the overlay") {
  std::string shot = std::string(CINE_MEDIA_DIR) + "/../shot_offscreen.bmp";
  ProcessResult r = play_window(shot, {"SDL_VIDEODRIVER=offscreen", "SDL_AUDIODRIVER=dummy"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  check_screenshot(shot);
}

TEST_CASE("window under Xvfb renders the picture and the overlay") {
  if (!have_xvfb()) {
    MESSAGE("Xvfb not installed; skipped");
    return;
  }
  // Xvfb picks a free display number itself. Another X server starting at the same moment can
  // take that number (cine then finds no X server): start a fresh one and try again.
  std::string shot = std::string(CINE_MEDIA_DIR) + "/../shot_xvfb.bmp";
  ProcessResult r;
  std::string display;
  for (int attempt = 0; attempt < 4; ++attempt) {
    Xvfb x;
    REQUIRE(x.ok());
    display = x.display();
    r = play_window(shot, {"DISPLAY=" + display, "SDL_VIDEODRIVER=x11", "SDL_AUDIODRIVER=dummy"});
    if (r.code == 0 || r.err.find("not available") == std::string::npos) break;
    usleep(300 * 1000);
  }
  INFO(display);
  INFO(r.err);
  REQUIRE(r.code == 0);
  check_screenshot(shot);
}
