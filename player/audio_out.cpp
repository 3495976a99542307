#include "player/audio_out.h"

#include <SDL2/SDL.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace player {

void AudioOut::fill(uint8_t* out, int len, double latency) {
  std::lock_guard<std::mutex> lk(mu_);
  const int want_serial = serial_->load();
  const int bpf = fmt_.bytes_per_frame();
  int written = 0;
  double end_pts = NAN;
  double speed = 1.0;
  while (written < len) {
    if (!have_chunk_ || offset_ >= chunk_.data.size()) {
      std::optional<AudioChunk> c = q_->try_pop();
      if (!c) break;
      if (c->serial != want_serial) continue;  // stale after a seek
      chunk_ = std::move(*c);
      offset_ = 0;
      have_chunk_ = true;
    }
    if (chunk_.serial != want_serial) {
      have_chunk_ = false;
      continue;
    }
    size_t n = std::min<size_t>(len - written, chunk_.data.size() - offset_);
    std::memcpy(out + written, chunk_.data.data() + offset_, n);
    offset_ += n;
    written += static_cast<int>(n);
    speed = chunk_.speed;
    end_pts = chunk_.pts + static_cast<double>(offset_ / bpf) / fmt_.sample_rate * speed;
  }
  if (written < len) std::memset(out + written, 0, len - written);

  const bool muted = muted_.load();
  const double vol = volume_.load();
  if (written > 0 && (muted || vol != 1.0)) {
    if (fmt_.sample_fmt == AV_SAMPLE_FMT_FLT) {
      float* s = reinterpret_cast<float*>(out);
      const float g = muted ? 0.f : static_cast<float>(vol);
      for (int i = 0; i < written / 4; ++i) s[i] *= g;
    } else if (fmt_.sample_fmt == AV_SAMPLE_FMT_S16) {
      int16_t* s = reinterpret_cast<int16_t*>(out);
      const double g = muted ? 0 : vol;
      for (int i = 0; i < written / 2; ++i)
        s[i] = static_cast<int16_t>(std::clamp(s[i] * g, -32768.0, 32767.0));
    }
  }

  if (written > 0) {
    // Extrapolate between callbacks; freeze when the data ran out inside this buffer.
    clock_.set_speed(speed);
    clock_.set(end_pts - latency * speed, want_serial, written < len);
    starving_ = written < len;
  } else {
    // Nothing at all: hold the clock where it was (only if it belongs to this serial).
    double held = clock_.get(want_serial);
    if (!std::isnan(held)) clock_.set(held, want_serial, true);
    starving_ = true;
  }
}

namespace {

// Sample frames per device buffer: about 20 ms (1024 at 48 kHz), a power of two from 512 up.
int device_buffer_samples(int sample_rate) {
  int samples = 512;
  while (samples * 50 < sample_rate && samples < 8192) samples *= 2;
  return samples;
}

class SdlAudioOut : public AudioOut {
 public:
  ~SdlAudioOut() override { stop(); }

  bool open(const AudioFormat& want, std::string* error) {
    if (!SDL_WasInit(SDL_INIT_AUDIO) && SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
      *error = std::string("no audio: ") + SDL_GetError();
      return false;
    }
    SDL_AudioSpec w{}, have{};
    w.freq = want.sample_rate;
    w.format = AUDIO_F32SYS;
    w.channels = static_cast<Uint8>(std::min(want.channels, 8));
    // About 20 ms of audio per callback keeps latency low and the clock fine-grained.
    w.samples = static_cast<Uint16>(device_buffer_samples(w.freq));
    w.callback = &SdlAudioOut::callback;
    w.userdata = this;
    dev_ = SDL_OpenAudioDevice(nullptr, 0, &w, &have,
                               SDL_AUDIO_ALLOW_FREQUENCY_CHANGE | SDL_AUDIO_ALLOW_CHANNELS_CHANGE);
    if (!dev_) {
      *error = std::string("no audio device: ") + SDL_GetError();
      return false;
    }
    fmt_.sample_rate = have.freq;
    fmt_.channels = have.channels;
    fmt_.sample_fmt = AV_SAMPLE_FMT_FLT;
    hw_bytes_ = static_cast<int>(have.size);
    return true;
  }

  void start(AudioChunkQueue* q, const std::atomic<int>* serial) override {
    q_ = q;
    serial_ = serial;
    SDL_PauseAudioDevice(dev_, 0);
  }
  void stop() override {
    if (dev_) {
      SDL_CloseAudioDevice(dev_);
      dev_ = 0;
    }
  }
  void set_paused(bool p) override {
    if (dev_) SDL_PauseAudioDevice(dev_, p ? 1 : 0);
    clock_.set_paused(p);
  }

 private:
  static void SDLCALL callback(void* ud, Uint8* stream, int len) {
    auto* self = static_cast<SdlAudioOut*>(ud);
    // SDL keeps about two buffers queued towards the hardware.
    double latency = 2.0 * self->hw_bytes_ / self->fmt_.bytes_per_second();
    self->fill(stream, len, latency);
  }
  SDL_AudioDeviceID dev_ = 0;
  int hw_bytes_ = 0;
};

class NullAudioOut : public AudioOut {
 public:
  explicit NullAudioOut(bool realtime) : realtime_(realtime) {}
  ~NullAudioOut() override { stop(); }

  void start(AudioChunkQueue* q, const std::atomic<int>* serial) override {
    q_ = q;
    serial_ = serial;
    thread_ = std::thread([this] { run(); });
  }
  void stop() override {
    quit_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void set_paused(bool p) override {
    paused_ = p;
    clock_.set_paused(p);
  }

 private:
  void run() {
    using namespace std::chrono;
    const int bpf = fmt_.bytes_per_frame();
    std::vector<uint8_t> scratch;
    double last = now_seconds();
    double owed = 0;  // frames of playback time not consumed yet
    const auto period = duration_cast<microseconds>(
        duration<double>(double(device_buffer_samples(fmt_.sample_rate)) / fmt_.sample_rate));
    while (!quit_) {
      if (!realtime_) {
        // As fast as data comes: consume whatever is queued.
        if (!q_->wait_nonempty(milliseconds(20))) continue;
        scratch.resize(8192 * bpf);
        fill(scratch.data(), static_cast<int>(scratch.size()), 0);
        continue;
      }
      // One device buffer's worth each period, as the SDL device takes it.
      std::this_thread::sleep_for(period);
      double now = now_seconds();
      if (paused_) {
        last = now;
        continue;
      }
      owed += (now - last) * fmt_.sample_rate;
      last = now;
      int frames = static_cast<int>(owed);
      if (frames <= 0) continue;
      owed -= frames;
      scratch.resize(static_cast<size_t>(frames) * bpf);
      fill(scratch.data(), static_cast<int>(scratch.size()), 0);
    }
  }
  bool realtime_;
  std::atomic<bool> quit_{false};
  std::atomic<bool> paused_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<AudioOut> AudioOut::create_sdl(const AudioFormat& want, std::string* error) {
  auto out = std::make_unique<SdlAudioOut>();
  if (!out->open(want, error)) return nullptr;
  return out;
}

std::unique_ptr<AudioOut> AudioOut::create_null(const AudioFormat& fmt, bool realtime) {
  auto out = std::make_unique<NullAudioOut>(realtime);
  out->fmt_ = fmt;
  return out;
}

}  // namespace player
