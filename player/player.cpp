#include "player/player.h"

#include <SDL2/SDL.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "player/audio_out.h"
#include "player/clock.h"
#include "player/decoder.h"
#include "player/demuxer.h"
#include "player/video_out.h"

namespace player {

namespace {
constexpr double kSyncMin = 0.04, kSyncMax = 0.1;  // A/V sync thresholds (s), as ffplay
constexpr double kStallDebounce = 0.1;             // s of starvation before a stall counts
constexpr double kVolumeStep = 0.1;

const char* codec_name(AVFormatContext* fmt, int idx) {
  if (idx < 0) return nullptr;
  return avcodec_get_name(fmt->streams[idx]->codecpar->codec_id);
}
}  // namespace

struct Player::Impl {
  Impl(streaming::ByteSource* s, PlayerOptions o, EventSink* e)
      : src(s), opts(std::move(o)), events(e) {}

  // --- fixed at construction --------------------------------------------------------------
  streaming::ByteSource* src;
  PlayerOptions opts;
  EventSink* events;
  Player* owner = nullptr;

  // --- pipeline (created in run) ---------------------------------------------------------
  std::unique_ptr<Demuxer> demuxer;
  std::unique_ptr<PacketQueue> vpq, apq;
  std::unique_ptr<VideoFrameQueue> vfq;
  std::unique_ptr<AudioChunkQueue> afq;
  std::unique_ptr<VideoDecoder> vdec;
  std::unique_ptr<AudioDecoder> adec;
  std::unique_ptr<AudioOut> ao;
  std::unique_ptr<VideoOut> vo;
  std::unique_ptr<Overlay> overlay;
  FILE* hash_file = nullptr;

  std::atomic<bool> quit{false};
  std::mutex inbox_mu;
  std::vector<Player::Command> inbox;  // posted from other threads, drained by the main loop
  std::atomic<int> serial{0};  // the generation every stage must match (seek counter)
  std::mutex demux_mu;         // guards `demuxer` pointer for request_quit during open

  // --- main-thread state ------------------------------------------------------------------
  double duration = -1;
  bool has_video = false, has_audio = false;
  bool paused = false;
  double pause_started = 0;
  bool muted = false;
  double volume = 1.0;
  Clock vclock;
  double frame_timer = 0;
  double last_pts = NAN, last_duration = 0.04;
  int shown_serial = -1;           // serial of the last presented frame
  bool first_frame_done = false;
  bool user_seek_pending = false;  // a seek_done is owed for the current serial
  double seek_target = 0;          // target of the latest seek (for relative seeks in a row)
  bool seeking = false;            // current serial has not presented its first frame
  std::vector<std::pair<std::pair<double, double>, bool>> seek_at;  // ((at, target), fired)
  double seek_at_prev = -1;        // position at the previous check (same serial)
  int seek_at_prev_serial = -1;
  std::vector<std::pair<std::pair<double, std::string>, bool>> shots;
  double played = 0;               // seconds of playback, for --length
  double last_progress = 0;
  double last_tick = 0;
  double waiting_since = -1;
  bool stalled = false;
  double last_redraw = 0;
  bool need_redraw = false;
  Player::Stats stats;
  mutable std::mutex stats_mu;

  // ----------------------------------------------------------------------------------------
  void emit(const std::string& ev, nlohmann::json f = nlohmann::json::object()) {
    if (events) events->emit(ev, std::move(f));
  }

  double master_clock() const {
    if (opts.no_sync || !has_audio || !ao) return NAN;
    if (audio_finished()) return NAN;
    return ao->clock(serial.load());
  }

  bool audio_finished() const {
    return !has_audio || (adec->finished_serial() == serial.load() && afq->count() == 0 &&
                          (ao->starving() || opts.no_sync));
  }
  bool video_finished() const {
    return !has_video || (vdec->finished_serial() == serial.load() && vfq->count() == 0);
  }

  double position() const {
    const int s = serial.load();
    if (seeking) return seek_target;
    if (opts.no_sync && has_video) return std::isnan(last_pts) ? 0.0 : last_pts;
    double a = has_audio && ao ? ao->clock(s) : NAN;
    if (!std::isnan(a) && !audio_finished()) return std::max(0.0, a);
    double v = vclock.get(s);
    if (!std::isnan(v) && has_video) {
      // The video clock extrapolates; never run past the shown frame's end.
      if (!std::isnan(last_pts)) v = std::min(v, last_pts + last_duration);
      return std::max(0.0, v);
    }
    return std::isnan(last_pts) ? 0.0 : last_pts;
  }

  // ---- seeking ---------------------------------------------------------------------------
  void seek(double target, bool user) {
    if (duration > 0) target = std::min(target, std::max(0.0, duration - 0.05));
    target = std::max(0.0, target);
    const int s = serial.load() + 1;
    serial = s;
    vfq->flush();
    afq->flush();
    demuxer->request_seek(target, s);
    seek_target = target;
    seeking = true;
    if (user) {
      user_seek_pending = true;
      emit("seek_begin", {{"target", target}});
    }
    if (stalled) {
      stalled = false;
      emit("stall_end", {{"pos", position()}});
    }
    waiting_since = -1;
    need_redraw = true;
  }

  void seek_relative(double delta) {
    double base = seeking ? seek_target : position();
    seek(base + delta, true);
  }

  void set_paused(bool p) {
    if (p == paused) return;
    paused = p;
    if (ao) ao->set_paused(p);
    vclock.set_paused(p);
    if (p) {
      pause_started = now_seconds();
    } else {
      frame_timer += now_seconds() - pause_started;
    }
    need_redraw = true;
  }

  // ---- presentation ----------------------------------------------------------------------
  void present(VideoFrame& f) {
    vo->present(f.frame.get());
    const int s = serial.load();
    const bool first_of_serial = shown_serial != s;
    if (!first_of_serial && !std::isnan(last_pts)) {
      double d = f.pts - last_pts;
      if (d > 0 && d < 1.0) played += d;
    }
    vclock.set(f.pts, s);
    if (paused) vclock.set_paused(true);
    last_pts = f.pts;
    last_duration = f.duration;
    shown_serial = s;
    {
      std::lock_guard<std::mutex> lk(stats_mu);
      ++stats.frames_shown;
      double a = master_clock();
      if (!first_of_serial && !std::isnan(a) && played > 1.0)
        stats.av_drift_max = std::max(stats.av_drift_max, std::fabs(f.pts - a));
    }
    if (first_of_serial) {
      seeking = false;
      if (!first_frame_done) {
        first_frame_done = true;
        emit("first_frame", {{"pos", f.pts}});
      } else if (user_seek_pending) {
        emit("seek_done", {{"pos", f.pts}});
      }
      user_seek_pending = false;
    }
    if (stalled) {
      stalled = false;
      emit("stall_end", {{"pos", f.pts}});
    }
    waiting_since = -1;
    last_redraw = now_seconds();
  }

  double target_delay(double delay) {
    double master = master_clock();
    double v = vclock.get(serial.load());
    if (std::isnan(master) || std::isnan(v)) return delay;
    double diff = v - master;
    double thr = std::clamp(delay, kSyncMin, kSyncMax);
    if (std::fabs(diff) > 10.0) return delay;  // a discontinuity, not drift
    if (diff <= -thr) return std::max(0.0, delay + diff);
    if (diff >= thr && delay > kSyncMax) return delay + diff;
    if (diff >= thr) return 2 * delay;
    return delay;
  }

  // Shows the frame that is due, if any. Lowers *remaining to the time until the next one.
  void video_refresh(double* remaining) {
    for (;;) {
      VideoFrame* front = nullptr;
      double pts = 0, dur = 0;
      int fserial = -1;
      if (!vfq->peek([&](VideoFrame& f) {
            front = &f;
            pts = f.pts;
            dur = f.duration;
            fserial = f.serial;
          }))
        return;
      const int s = serial.load();
      if (fserial != s) {
        vfq->try_pop();
        continue;
      }
      if (shown_serial != s) {  // first picture after open or a seek: show it at once
        auto f = vfq->try_pop();
        if (!f) return;
        present(*f);
        frame_timer = now_seconds();
        *remaining = 0;
        return;
      }
      if (paused) return;
      if (opts.no_sync) {
        auto f = vfq->try_pop();
        if (!f) return;
        present(*f);
        *remaining = 0;
        return;
      }
      double last_dur = pts - last_pts;
      if (std::isnan(last_dur) || last_dur <= 0 || last_dur > 10) last_dur = last_duration;
      double delay = target_delay(last_dur);
      double now = now_seconds();
      if (now < frame_timer + delay) {
        *remaining = std::min(*remaining, frame_timer + delay - now);
        return;
      }
      frame_timer += delay;
      if (delay > 0 && now - frame_timer > kSyncMax) frame_timer = now;
      // Late and another frame is waiting: drop this one to catch up.
      if (vfq->count() > 1 && now > frame_timer + dur) {
        vfq->try_pop();
        std::lock_guard<std::mutex> lk(stats_mu);
        ++stats.frames_dropped;
        last_pts = pts;  // keep the clock's notion of time moving
        continue;
      }
      auto f = vfq->try_pop();
      if (!f) return;
      present(*f);
      (void)front;
      return;
    }
  }

  // ---- per-turn checks ---------------------------------------------------------------------
  // A trigger fires when playback passes its time (not when a seek jumps over it); AT 0
  // fires right after the first frame. Each fires once.
  void check_seek_at() {
    if (!first_frame_done || seeking) {
      seek_at_prev = -1;
      return;
    }
    const double pos = position();
    const double prev = seek_at_prev_serial == serial.load() ? seek_at_prev : -1;
    seek_at_prev = pos;
    seek_at_prev_serial = serial.load();
    for (auto& [sa, fired] : seek_at) {
      if (fired) continue;
      const bool crossed = sa.first <= 0 || (prev >= 0 && prev < sa.first && sa.first <= pos) ||
                           (prev < 0 && std::fabs(pos - sa.first) < 1e-3);
      if (crossed) {
        fired = true;
        seek(sa.second, true);
        return;
      }
    }
  }

  void check_screenshots() {
    if (!vo->is_window() || !first_frame_done || seeking) return;
    double pos = position();
    for (auto& [shot, done] : shots) {
      if (done || pos < shot.first) continue;
      done = true;
      vo->request_screenshot(shot.second);
      vo->redraw();
    }
  }

  void check_stall(double now) {
    if (!first_frame_done || paused || seeking || demuxer->eof_for(serial.load())) {
      waiting_since = -1;
      return;
    }
    bool waiting;
    if (has_video)
      waiting = vfq->count() == 0 && vpq->count() == 0 && vdec->finished_serial() != serial.load();
    else
      waiting = afq->count() == 0 && apq->count() == 0 && ao->starving();
    if (!waiting) {
      waiting_since = -1;
      if (stalled && !has_video) {
        stalled = false;
        emit("stall_end", {{"pos", position()}});
      }
      return;
    }
    if (waiting_since < 0) waiting_since = now;
    if (!stalled && now - waiting_since >= kStallDebounce) {
      stalled = true;
      emit("stall_begin", {{"pos", position()}});
      need_redraw = true;
    }
  }

  bool at_end() const {
    const int s = serial.load();
    if (seeking || !demuxer->eof_for(s)) return false;
    return video_finished() && audio_finished();
  }

  OverlaySnapshot snapshot() const {
    OverlaySnapshot snap;
    snap.position = position();
    snap.duration = duration;
    snap.paused = paused;
    snap.muted = muted;
    snap.volume = volume;
    snap.buffering = stalled || (seeking && first_frame_done) || !first_frame_done;
    if (owner->decorate) owner->decorate(snap);
    return snap;
  }

  void draw_overlay() {
    if (!overlay) return;
    OverlaySnapshot snap = snapshot();
    for (const OverlayCommand& c : overlay->draw(snap)) {
      if (c.kind == OverlayCommand::Kind::SeekAbsolute) seek(c.value, true);
      else if (c.kind == OverlayCommand::Kind::TogglePause) set_paused(!paused);
    }
  }

  void handle_key(const SDL_KeyboardEvent& k) {
    const bool shift = k.keysym.mod & KMOD_SHIFT;
    switch (k.keysym.sym) {
      case SDLK_q: quit = true; break;
      case SDLK_ESCAPE: quit = true; break;
      case SDLK_SPACE:
      case SDLK_p: set_paused(!paused); break;
      case SDLK_LEFT: seek_relative(shift ? -1 : -5); break;
      case SDLK_RIGHT: seek_relative(shift ? 1 : 5); break;
      case SDLK_UP: seek_relative(shift ? 5 : 60); break;
      case SDLK_DOWN: seek_relative(shift ? -5 : -60); break;
      case SDLK_f: vo->toggle_fullscreen(); break;
      case SDLK_m:
        muted = !muted;
        if (ao) ao->set_muted(muted);
        break;
      case SDLK_9:
      case SDLK_KP_DIVIDE:
        volume = std::max(0.0, volume - kVolumeStep);
        if (ao) ao->set_volume(volume);
        break;
      case SDLK_0:
      case SDLK_KP_MULTIPLY:
        volume = std::min(1.3, volume + kVolumeStep);
        if (ao) ao->set_volume(volume);
        break;
      default: break;
    }
    need_redraw = true;
  }

  void handle_events() {
    if (!vo->is_window()) return;
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
      if (overlay && overlay->process_event(e)) {
        need_redraw = true;
        continue;
      }
      switch (e.type) {
        case SDL_QUIT: quit = true; break;
        case SDL_KEYDOWN:
          if (overlay) overlay->poke();
          handle_key(e.key);
          break;
        case SDL_MOUSEBUTTONDOWN:
          if (e.button.button == SDL_BUTTON_LEFT && e.button.clicks == 2) vo->toggle_fullscreen();
          need_redraw = true;
          break;
        case SDL_MOUSEMOTION: need_redraw = true; break;
        case SDL_WINDOWEVENT:
          if (e.window.event == SDL_WINDOWEVENT_EXPOSED ||
              e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
            need_redraw = true;
          break;
        default: break;
      }
    }
  }

  void drain_inbox() {
    std::vector<Player::Command> cmds;
    {
      std::lock_guard<std::mutex> lk(inbox_mu);
      cmds.swap(inbox);
    }
    for (const Player::Command& c : cmds) {
      switch (c.kind) {
        case Player::Command::Kind::SeekAbsolute: seek(c.value, true); break;
        case Player::Command::Kind::SeekRelative: seek_relative(c.value); break;
        case Player::Command::Kind::SetPause: set_paused(c.value != 0); break;
        case Player::Command::Kind::TogglePause: set_paused(!paused); break;
        case Player::Command::Kind::Quit: quit = true; break;
      }
    }
  }

  void teardown() {
    if (vpq) vpq->abort();
    if (apq) apq->abort();
    if (vfq) vfq->abort();
    if (afq) afq->abort();
    if (demuxer) demuxer->stop();
    if (ao) ao->stop();
    vdec.reset();
    adec.reset();
    overlay.reset();
    vo.reset();
    ao.reset();
    {
      std::lock_guard<std::mutex> lk(demux_mu);
      demuxer.reset();
    }
    if (hash_file) {
      std::fclose(hash_file);
      hash_file = nullptr;
    }
  }

  int run(std::string* error);
};

int Player::Impl::run(std::string* error) {
  auto fail = [&](const std::string& msg) {
    *error = msg;
    teardown();
    return 1;
  };
  {
    std::lock_guard<std::mutex> lk(demux_mu);
    demuxer = std::make_unique<Demuxer>(src);
  }
  if (quit) return fail("interrupted");
  std::string err;
  if (!demuxer->open(&err)) return fail(quit ? "interrupted" : err);
  AVFormatContext* fmt = demuxer->format();
  duration = demuxer->duration();
  has_video = demuxer->video_stream() >= 0;
  has_audio = demuxer->audio_stream() >= 0;

  vpq = std::make_unique<PacketQueue>(600, 24u << 20);
  apq = std::make_unique<PacketQueue>(1200, 4u << 20);
  vfq = std::make_unique<VideoFrameQueue>(6, 0);

  if (has_video) {
    vdec = std::make_unique<VideoDecoder>(vfq.get());
    if (!vdec->open(fmt, demuxer->video_stream(), &err)) {
      if (!has_audio) return fail(err);
      if (!opts.quiet) std::fprintf(stderr, "cine: warning: %s; playing audio only\n", err.c_str());
      has_video = false;
      vdec.reset();
    }
  }
  AudioFormat afmt;
  if (has_audio) {
    adec = std::make_unique<AudioDecoder>(nullptr, afmt);  // replaced once the output is known
    AVCodecParameters* par = fmt->streams[demuxer->audio_stream()]->codecpar;
    afmt.sample_rate = par->sample_rate > 0 ? par->sample_rate : 48000;
    afmt.channels = std::clamp(par->ch_layout.nb_channels, 1, 2);
    if (opts.audio_device && !opts.no_sync) {
      std::string aerr;
      ao = AudioOut::create_sdl(afmt, &aerr);
      if (!ao && !opts.quiet)
        std::fprintf(stderr, "cine: warning: %s; playing without sound\n", aerr.c_str());
    }
    if (!ao) ao = AudioOut::create_null(afmt, !opts.no_sync);
    afmt = ao->format();
    afq = std::make_unique<AudioChunkQueue>(256, static_cast<size_t>(afmt.bytes_per_second() / 2));
    adec = std::make_unique<AudioDecoder>(afq.get(), afmt);
    if (!adec->open(fmt, demuxer->audio_stream(), &err)) {
      if (!has_video) return fail(err);
      if (!opts.quiet) std::fprintf(stderr, "cine: warning: %s; playing without sound\n", err.c_str());
      has_audio = false;
      adec.reset();
      ao.reset();
    }
  }
  if (!afq) afq = std::make_unique<AudioChunkQueue>(1, 0);

  nlohmann::json opened = {{"duration", duration > 0 ? nlohmann::json(duration) : nlohmann::json()},
                           {"video_codec", has_video ? nlohmann::json(codec_name(fmt, demuxer->video_stream())) : nlohmann::json()},
                           {"audio_codec", has_audio ? nlohmann::json(codec_name(fmt, demuxer->audio_stream())) : nlohmann::json()}};
  emit("opened", opened);

  // Outputs.
  if (has_video && opts.video_window) {
    AVCodecParameters* par = fmt->streams[demuxer->video_stream()]->codecpar;
    vo = VideoOut::create_sdl(opts.title.empty() ? "Cine" : opts.title, par->width, par->height, &err);
    if (!vo) return fail(err);
    overlay = std::make_unique<Overlay>(vo->window(), vo->renderer());
    vo->set_overlay_hook([this] { draw_overlay(); });
    overlay->poke();
  } else {
    vo = VideoOut::create_null();
  }
  if (!opts.frame_hash_file.empty() && vdec) {
    hash_file = std::fopen(opts.frame_hash_file.c_str(), "w");
    if (!hash_file) return fail("cannot write '" + opts.frame_hash_file + "'");
    vdec->set_hash_file(hash_file);
  }
  if (ao && has_audio) ao->set_volume(volume);

  for (auto& sa : opts.seek_at) seek_at.push_back({sa, false});
  for (auto& sh : opts.screenshots) shots.push_back({sh, false});

  // Start position: seek before the threads start so the first packets already belong to it.
  double start = opts.start_is_percent ? (duration > 0 ? duration * opts.start / 100.0 : 0) : opts.start;
  if (start > 0) {
    if (duration > 0) start = std::min(start, std::max(0.0, duration - 0.05));
    serial = 1;
    demuxer->request_seek(start, 1);
    seek_target = start;
    seeking = true;
  }

  demuxer->start(has_video ? vpq.get() : nullptr, has_audio ? apq.get() : nullptr);
  if (has_video) vdec->start(vpq.get(), &serial);
  if (has_audio) {
    adec->start(apq.get(), &serial);
    ao->start(afq.get(), &serial);
  }

  last_progress = now_seconds();
  int code = 0;
  while (!quit) {
    double remaining = 0.01;
    handle_events();
    drain_inbox();
    if (quit) break;
    check_seek_at();
    if (has_video) video_refresh(&remaining);
    else if (!seeking || (has_audio && ao->started(serial.load()))) {
      if (seeking && has_audio && ao->started(serial.load())) {
        seeking = false;
        if (!first_frame_done) {
          first_frame_done = true;
        } else if (user_seek_pending) {
          user_seek_pending = false;
          emit("seek_done", {{"pos", position()}});
        }
      } else if (!first_frame_done && has_audio && ao->started(serial.load())) {
        first_frame_done = true;
      }
    }
    check_screenshots();
    const double now = now_seconds();
    check_stall(now);

    if (now - last_progress >= 1.0) {
      last_progress = now;
      emit("progress", {{"pos", position()}});
    }
    if (now - last_tick >= 0.25) {
      last_tick = now;
      if (owner->on_tick) owner->on_tick(position(), stalled || seeking);
    }
    if (opts.frames >= 0 && stats.frames_shown >= opts.frames) break;
    if (opts.length >= 0 && played >= opts.length) break;
    if (!has_video && opts.length >= 0 && first_frame_done && position() >= start + opts.length) break;
    std::string fatal = demuxer->fatal_error();
    if (at_end()) {
      if (!fatal.empty()) {
        emit("error", {{"message", fatal}});
        if (!opts.quiet) std::fprintf(stderr, "cine: %s\n", fatal.c_str());
      }
      emit("eof");
      break;
    }
    if (vo->is_window() && (need_redraw || (overlay && overlay->visible() && now - last_redraw > 1.0 / 30))) {
      need_redraw = false;
      vo->redraw();
      last_redraw = now;
    }
    // Sleep until the next thing is due (or an input event arrives).
    if (remaining > 0) {
      if (vo->is_window()) {
        SDL_WaitEventTimeout(nullptr, std::max(1, static_cast<int>(remaining * 1000)));
      } else if (has_video && !paused) {
        vfq->wait_nonempty(std::chrono::milliseconds(std::max(1, static_cast<int>(remaining * 1000))));
      } else {
        SDL_Delay(std::max(1, static_cast<int>(remaining * 1000)));
      }
    }
  }
  teardown();
  return code;
}

Player::Player(streaming::ByteSource* source, PlayerOptions opts, EventSink* events)
    : impl_(std::make_unique<Impl>(source, std::move(opts), events)) {
  impl_->owner = this;
}

Player::~Player() { impl_->teardown(); }

int Player::run(std::string* error) { return impl_->run(error); }

void Player::request_quit() {
  impl_->quit = true;
  // Wake a demuxer (or open) blocked on missing data; the main loop sees `quit` within 10 ms.
  std::lock_guard<std::mutex> lk(impl_->demux_mu);
  if (impl_->demuxer) impl_->demuxer->interrupt();
}

void Player::post(Command c) {
  std::lock_guard<std::mutex> lk(impl_->inbox_mu);
  impl_->inbox.push_back(c);
}

Player::Stats Player::stats() const {
  std::lock_guard<std::mutex> lk(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace player
