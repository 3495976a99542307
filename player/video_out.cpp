#include "player/video_out.h"

#include <SDL2/SDL.h>

#include "player/subtitles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

extern "C" {
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace player {

namespace {

class NullVideoOut : public VideoOut {
 public:
  void present(const AVFrame*) override {}
  void redraw() override {}
};

class SdlVideoOut : public VideoOut {
 public:
  ~SdlVideoOut() override {
    sws_freeContext(sws_);
    av_frame_free(&converted_);
    if (sub_texture_) SDL_DestroyTexture(sub_texture_);
    if (texture_) SDL_DestroyTexture(texture_);
    if (renderer_) SDL_DestroyRenderer(renderer_);
    if (window_) SDL_DestroyWindow(window_);
  }

  bool open(const std::string& title, int w, int h, std::string* error) {
    if (!SDL_WasInit(SDL_INIT_VIDEO) && SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
      *error = std::string("cannot open a window (") + SDL_GetError() +
               "); use --vo=null to play without one";
      return false;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    // Start at the video's size (small videos doubled), but fit on common screens.
    double scale = std::min({1.0, 1600.0 / std::max(w, 1), 900.0 / std::max(h, 1)});
    if (w > 0 && w < 640) scale = std::floor(640.0 / w);
    window_ = SDL_CreateWindow(title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                               std::max(320, int(w * scale)), std::max(180, int(h * scale)),
                               SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!window_) {
      *error = std::string("cannot open a window (") + SDL_GetError() +
               "); use --vo=null to play without one";
      return false;
    }
    renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    if (!renderer_) renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_SOFTWARE);
    if (!renderer_) {
      *error = std::string("cannot create a renderer (") + SDL_GetError() + ")";
      return false;
    }
    SDL_SetRenderDrawBlendMode(renderer_, SDL_BLENDMODE_BLEND);
    return true;
  }

  bool is_window() const override { return true; }
  SDL_Window* window() const override { return window_; }
  SDL_Renderer* renderer() const override { return renderer_; }
  void set_title(const std::string& t) override { SDL_SetWindowTitle(window_, t.c_str()); }
  void toggle_fullscreen() override { set_fullscreen(!fullscreen_); }
  void set_fullscreen(bool on) override {
    if (on == fullscreen_) return;
    fullscreen_ = on;
    SDL_SetWindowFullscreen(window_, fullscreen_ ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
  }
  bool fullscreen() const override { return fullscreen_; }
  int picture_width() const override {
    if (tex_w_ <= 0) return 0;
    double sar = sar_.num > 0 && sar_.den > 0 ? av_q2d(sar_) : 1.0;
    return static_cast<int>(tex_w_ * sar + 0.5);
  }
  int picture_height() const override { return tex_h_; }

  void present(const AVFrame* f) override {
    upload(f);
    redraw();
  }

  void redraw() override {
    SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
    SDL_RenderClear(renderer_);
    SDL_Rect dst = fit_rect();
    if (texture_) SDL_RenderCopy(renderer_, texture_, nullptr, &dst);
    if (subtitle_hook_) draw_subtitles(dst);
    if (overlay_hook_) overlay_hook_();
    if (!screenshot_path_.empty()) {
      save_screenshot(screenshot_path_);
      screenshot_path_.clear();
    }
    SDL_RenderPresent(renderer_);
  }

 private:
  void draw_subtitles(const SDL_Rect& video) {
    int max_y = -1;
    const RgbaImage* img = subtitle_hook_(VideoRect{video.x, video.y, video.w, video.h}, &max_y);
    if (!img || img->empty()) return;
    if (!sub_texture_ || sub_w_ < img->w || sub_h_ < img->h) {
      if (sub_texture_) SDL_DestroyTexture(sub_texture_);
      sub_w_ = std::max(img->w, sub_w_);
      sub_h_ = std::max(img->h, sub_h_);
      sub_texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_RGBA32, SDL_TEXTUREACCESS_STREAMING, sub_w_, sub_h_);
      if (!sub_texture_) return;
      SDL_SetTextureBlendMode(sub_texture_, SDL_BLENDMODE_BLEND);
      sub_generation_ = ~uint64_t(0);
    }
    const SDL_Rect src{0, 0, img->w, img->h};
    if (img->generation != sub_generation_) {
      SDL_UpdateTexture(sub_texture_, &src, img->pixels.data(), img->w * 4);
      sub_generation_ = img->generation;
    }
    SDL_Rect dst{video.x + img->x, video.y + img->y, img->dst_w, img->dst_h};
    // Keep clear of the controls panel: move the lines up above it.
    if (max_y >= 0 && dst.y + dst.h > max_y) dst.y = std::max(0, max_y - dst.h);
    SDL_RenderCopy(renderer_, sub_texture_, &src, &dst);
  }

  SDL_Rect fit_rect() const {
    int ow = 0, oh = 0;
    SDL_GetRendererOutputSize(renderer_, &ow, &oh);
    double aspect = tex_w_ > 0 && tex_h_ > 0 ? double(tex_w_) / tex_h_ : 16.0 / 9.0;
    if (sar_.num > 0 && sar_.den > 0) aspect *= av_q2d(sar_);
    int w = ow, h = int(ow / aspect + 0.5);
    if (h > oh) {
      h = oh;
      w = int(oh * aspect + 0.5);
    }
    return SDL_Rect{(ow - w) / 2, (oh - h) / 2, w, h};
  }

  void upload(const AVFrame* f) {
    sar_ = f->sample_aspect_ratio;
    const auto fmt = static_cast<AVPixelFormat>(f->format);
    Uint32 want = SDL_PIXELFORMAT_IYUV;
    if (fmt == AV_PIX_FMT_NV12) want = SDL_PIXELFORMAT_NV12;
    if (!texture_ || tex_w_ != f->width || tex_h_ != f->height || tex_fmt_ != want) {
      if (texture_) SDL_DestroyTexture(texture_);
      texture_ = SDL_CreateTexture(renderer_, want, SDL_TEXTUREACCESS_STREAMING, f->width, f->height);
      tex_w_ = f->width;
      tex_h_ = f->height;
      tex_fmt_ = want;
      if (!texture_) return;
    }
    SDL_YUV_CONVERSION_MODE mode = SDL_YUV_CONVERSION_BT601;
    if (f->colorspace == AVCOL_SPC_BT709) mode = SDL_YUV_CONVERSION_BT709;
    else if (f->colorspace == AVCOL_SPC_UNSPECIFIED && f->height > 576) mode = SDL_YUV_CONVERSION_BT709;
    if (f->color_range == AVCOL_RANGE_JPEG || fmt == AV_PIX_FMT_YUVJ420P) mode = SDL_YUV_CONVERSION_JPEG;
    SDL_SetYUVConversionMode(mode);

    if ((fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P) && f->linesize[0] > 0 &&
        f->linesize[1] > 0 && f->linesize[2] > 0) {
      SDL_UpdateYUVTexture(texture_, nullptr, f->data[0], f->linesize[0], f->data[1],
                           f->linesize[1], f->data[2], f->linesize[2]);
      return;
    }
    if (fmt == AV_PIX_FMT_NV12 && f->linesize[0] > 0 && f->linesize[1] > 0) {
      SDL_UpdateNVTexture(texture_, nullptr, f->data[0], f->linesize[0], f->data[1], f->linesize[1]);
      return;
    }
    // Anything else (10-bit, 4:2:2, 4:4:4, RGB...) goes through libswscale to YUV420P.
    sws_ = sws_getCachedContext(sws_, f->width, f->height, fmt, f->width, f->height,
                                AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr);
    if (!sws_) return;
    if (!converted_ || converted_->width != f->width || converted_->height != f->height) {
      av_frame_free(&converted_);
      converted_ = av_frame_alloc();
      converted_->format = AV_PIX_FMT_YUV420P;
      converted_->width = f->width;
      converted_->height = f->height;
      if (av_frame_get_buffer(converted_, 32) < 0) {
        av_frame_free(&converted_);
        return;
      }
    }
    sws_scale(sws_, f->data, f->linesize, 0, f->height, converted_->data, converted_->linesize);
    SDL_UpdateYUVTexture(texture_, nullptr, converted_->data[0], converted_->linesize[0],
                         converted_->data[1], converted_->linesize[1], converted_->data[2],
                         converted_->linesize[2]);
  }

  void save_screenshot(const std::string& path) {
    int w = 0, h = 0;
    SDL_GetRendererOutputSize(renderer_, &w, &h);
    SDL_Surface* s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 24, SDL_PIXELFORMAT_RGB24);
    if (!s) return;
    if (SDL_RenderReadPixels(renderer_, nullptr, SDL_PIXELFORMAT_RGB24, s->pixels, s->pitch) == 0)
      SDL_SaveBMP(s, path.c_str());
    SDL_FreeSurface(s);
  }

  SDL_Window* window_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  SDL_Texture* texture_ = nullptr;
  int tex_w_ = 0, tex_h_ = 0;
  Uint32 tex_fmt_ = 0;
  AVRational sar_{0, 1};
  SwsContext* sws_ = nullptr;
  AVFrame* converted_ = nullptr;
  bool fullscreen_ = false;
  SDL_Texture* sub_texture_ = nullptr;
  int sub_w_ = 0, sub_h_ = 0;
  uint64_t sub_generation_ = 0;
};

}  // namespace

std::unique_ptr<VideoOut> VideoOut::create_sdl(const std::string& title, int width, int height,
                                               std::string* error) {
  auto out = std::make_unique<SdlVideoOut>();
  if (!out->open(title, width, height, error)) return nullptr;
  return out;
}

std::unique_ptr<VideoOut> VideoOut::create_null() { return std::make_unique<NullVideoOut>(); }

}  // namespace player
