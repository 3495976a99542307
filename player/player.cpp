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
#include "player/keymap.h"
#include "player/overlay.h"
#include "player/subtitles.h"
#include "player/video_out.h"

namespace player {

namespace {
constexpr double kSyncMin = 0.04, kSyncMax = 0.1;  // A/V sync thresholds (s), as ffplay
constexpr double kStallDebounce = 0.1;             // s of starvation before a stall counts
constexpr double kHoldStarve = 2.0;  // s with nothing read during a pre-roll before a stall counts
constexpr double kOsdSeconds = 1.5;                // how long a feedback message stays
constexpr double kPoll = 0.01;        // s between turns of the play loop while it polls
constexpr double kSteadySleep = 0.1;  // the longest sleep while video plays from a queued frame
constexpr double kMinSpeed = 0.25, kMaxSpeed = 4.0;
constexpr double kMaxVolume = 130;

const char* codec_name(AVFormatContext* fmt, int idx) {
  if (idx < 0) return nullptr;
  return avcodec_get_name(fmt->streams[idx]->codecpar->codec_id);
}

std::string meta(const AVStream* st, const char* key) {
  const AVDictionaryEntry* e = av_dict_get(st->metadata, key, nullptr, 0);
  return e && e->value ? e->value : "";
}

std::string base_name(const std::string& p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// "eng · English · SubRip" (the parts that exist).
std::string track_title(const std::string& lang, const std::string& title, const std::string& codec) {
  std::string out;
  for (const std::string& part : {lang, title, codec}) {
    if (part.empty()) continue;
    if (!out.empty()) out += " \xC2\xB7 ";
    out += part;
  }
  return out.empty() ? std::string("unnamed") : out;
}

std::string codec_display(AVCodecID id) {
  const AVCodecDescriptor* d = avcodec_descriptor_get(id);
  if (!d) return avcodec_get_name(id);
  if (d->type == AVMEDIA_TYPE_SUBTITLE && d->long_name) return d->long_name;
  return d->name;
}

bool crossed(double at, double prev, double pos) {
  return at <= 0 || (prev >= 0 && prev < at && at <= pos) || (prev < 0 && std::fabs(pos - at) < 1e-3);
}
}  // namespace

struct Player::Impl {
  Impl(streaming::ByteSource* s, PlayerOptions o, EventSink* e) : src(s), opts(std::move(o)), events(e) {}

  // --- fixed at construction --------------------------------------------------------------
  streaming::ByteSource* src;  // the current file's source
  PlayerOptions opts;
  EventSink* events;
  Player* owner = nullptr;

  // --- the current file: its pipeline (created in open_file, destroyed in close_file) ----------
  std::unique_ptr<streaming::ByteSource> owned_src;  // sources of later playlist entries
  std::string title;
  int playlist_pos = 0;
  std::unique_ptr<Demuxer> demuxer;
  std::unique_ptr<PacketQueue> vpq, apq, spq;
  std::unique_ptr<VideoFrameQueue> vfq;
  std::unique_ptr<AudioChunkQueue> afq;
  std::unique_ptr<VideoDecoder> vdec;
  std::unique_ptr<AudioDecoder> adec;
  std::unique_ptr<AudioOut> ao;
  FILE* hash_file = nullptr;
  struct SubTrack {
    int stream = -1;  // stream index; -1 for an external file
    std::string name, lang, codec;
    bool external = false, default_track = false;
    bool bitmap = false;  // pictures (PGS, DVD): decoded only while selected, to bound memory
    std::unique_ptr<SubtitleDecoder> dec;
    std::unique_ptr<SubtitleTrack> track;
  };
  std::unique_ptr<SubtitleEngine> sub_engine;
  std::vector<SubTrack> subs;
  int sub_sel = -1;                 // index into subs
  bool sub_chosen = false;          // the user picked a subtitle track for this file
  std::vector<int> audio_streams;   // stream indices
  int audio_sel = -1;               // index into audio_streams
  // Descriptions read once at open (the read thread owns the streams afterwards).
  struct AudioInfo {
    std::string title, lang, codec, label;
    int rate = 0, channels = 0;
    bool default_track = false;
  };
  std::vector<AudioInfo> audio_info;  // parallel to audio_streams
  std::string video_codec;
  int video_w = 0, video_h = 0;
  double start_offset = 0;

  // --- kept across files ------------------------------------------------------------------
  std::unique_ptr<VideoOut> vo;
  std::unique_ptr<Overlay> overlay;

  // --- shared with other threads --------------------------------------------------------------
  std::atomic<bool> quit{false};
  std::mutex inbox_mu;
  std::vector<Command> inbox;  // posted from other threads, drained by the main loop
  std::vector<std::pair<int, ExternalSub>> sub_inbox;  // late subtitle files (same lock)
  std::atomic<int> serial{0};  // the generation every stage must match (seek counter)
  std::mutex demux_mu;         // guards `demuxer` pointer for request_quit during open
  Player::Stats stats;
  mutable std::mutex stats_mu;
  Player::Properties props;
  mutable std::mutex props_mu;

  // --- main-thread state of the current file (reset_file_state) -----------------------------
  double duration = -1;
  bool has_video = false, has_audio = false;
  Clock vclock;
  double frame_timer = 0;
  double last_pts = NAN, last_duration = 0.04;
  int64_t last_key_pos = -1;       // byte position of the last keyframe shown
  int shown_serial = -1;           // serial of the last presented frame
  bool first_frame_done = false;
  bool prerolling = false;         // holding the first picture until cache_initial is buffered
  double hold_read_until = -2;     // during the hold: the demuxer's last read_until seen, and when
  double hold_moved_at = 0;        //   it last moved
  bool user_seek_pending = false;  // a seek_done is owed for the current serial
  double seek_target = 0;          // target of the latest seek (for relative seeks in a row)
  bool seeking = false;            // current serial has not presented its first frame
  int64_t read_pos_at_seek = -1;   // the demuxer's byte position when the latest seek began
  double trigger_prev = -1;        // position at the previous trigger check (same serial)
  int trigger_prev_serial = -1;
  double start = 0;
  double last_progress = 0;
  double last_tick = 0;
  double waiting_since = -1;
  bool stalled = false;
  double last_redraw = 0;
  bool need_redraw = false;
  bool step_pending = false;       // frame step: show one frame while paused
  bool stepped = false;            // paused on a stepped frame: resync audio on resume
  double last_drift = 0;
  bool eof_reached = false;

  // --- main-thread state kept across files ----------------------------------------------------
  double played = 0;               // seconds of playback (all files), for --length
  std::vector<std::pair<std::pair<double, double>, bool>> seek_at;  // ((at, target), fired)
  std::vector<std::pair<std::pair<double, std::string>, bool>> keys_at;
  std::vector<std::pair<std::pair<double, std::string>, bool>> shots;
  bool paused = false;
  double pause_started = 0;
  bool muted = false;
  double volume = 100;             // percent
  double speed = 1;
  bool sub_visible = true;
  double sub_delay = 0;
  bool show_stats = false, show_help = false, show_files = false;
  std::string osd_message;
  double osd_until = 0;
  bool force_controls_once = false;
  LeaveReason leave_reason = LeaveReason::Quit;
  int switch_to = -1;              // playlist entry to move to

  // ----------------------------------------------------------------------------------------
  void emit(const std::string& ev, nlohmann::json f = nlohmann::json::object()) {
    if (events) events->emit(ev, std::move(f));
  }

  void osd(const std::string& msg) {
    osd_message = msg;
    osd_until = now_seconds() + kOsdSeconds;
    need_redraw = true;
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
    // Paused (or stepped) on a picture: the position is that picture's time.
    if ((stepped || paused) && has_video && shown_serial == s && !std::isnan(last_pts)) return last_pts;
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

  // The time subtitles are shown for: the picture on screen, shifted by the subtitle delay.
  double subtitle_time() const {
    double t = has_video && !std::isnan(last_pts) && !seeking ? last_pts : position();
    return t - sub_delay;
  }

  // ---- seeking ---------------------------------------------------------------------------
  void seek(double target, bool user, int audio_stream = -2) {
    if (duration > 0) target = std::min(target, std::max(0.0, duration - 0.05));
    target = std::max(0.0, target);
    const int s = serial.load() + 1;
    serial = s;
    vfq->flush();
    afq->flush();
    read_pos_at_seek = demuxer->read_position();
    demuxer->request_seek(target, s, audio_stream);
    seek_target = target;
    seeking = true;
    eof_reached = false;
    // A stream holds the picture after a seek as after opening, until cache_initial is buffered:
    // starting at once on the few packets that made the first picture would stall a moment later.
    if (opts.cache_initial > 0 && !prerolling) {
      prerolling = true;
      hold_moved_at = now_seconds();
      if (ao) ao->set_paused(true);
    }
    if (user) {
      user_seek_pending = true;
      if (src) src->playback_pending();
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
    if (ao) ao->set_paused(p || prerolling);
    vclock.set_paused(p);
    if (p) {
      pause_started = now_seconds();
    } else {
      frame_timer += now_seconds() - pause_started;
      if (stepped) {
        // Frames were stepped while the audio stood still: line the audio up with the picture.
        stepped = false;
        if (!std::isnan(last_pts) && demuxer) seek(last_pts, false);
      }
    }
    need_redraw = true;
  }

  void set_speed(double s) {
    speed = std::clamp(s, kMinSpeed, kMaxSpeed);
    if (std::fabs(speed - 1.0) < 1e-3) speed = 1.0;
    vclock.set_speed(speed);
    if (adec) adec->set_speed(speed);
    char buf[32];
    std::snprintf(buf, sizeof buf, "Speed %.2fx", speed);
    osd(buf);
  }

  void apply_volume() {
    if (!ao) return;
    ao->set_muted(muted);
    const double v = std::clamp(volume, 0.0, kMaxVolume) / 100.0;
    ao->set_volume(v * v * v);  // perceived loudness: cubic, as mpv's software volume
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
    if (paused || prerolling) vclock.set_paused(true);
    last_pts = f.pts;
    last_duration = f.duration;
    if (f.key && f.pos >= 0) last_key_pos = f.pos;
    shown_serial = s;
    {
      std::lock_guard<std::mutex> lk(stats_mu);
      ++stats.frames_shown;
      stats.video_threads = vdec->threads();
      double a = master_clock();
      if (!first_of_serial && !std::isnan(a)) {
        last_drift = f.pts - a;
        if (played > 1.0) stats.av_drift_max = std::max(stats.av_drift_max, std::fabs(last_drift));
      }
    }
    if (first_of_serial) {
      seeking = false;
      if (src && !prerolling) src->playback_ready();
      if (!first_frame_done) {
        first_output_done();
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
    double diff = (v - master) / speed;  // in wall seconds
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
      double pts = 0, dur = 0;
      int fserial = -1;
      if (!vfq->peek([&](VideoFrame& f) {
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
      if (prerolling) {  // the picture stands until the pre-roll is buffered (mpv: buffering)
        *remaining = std::min(*remaining, 0.005);
        return;
      }
      if (paused) {
        if (!step_pending) return;
        auto f = vfq->try_pop();
        if (!f) return;
        step_pending = false;
        stepped = true;
        present(*f);
        return;
      }
      if (opts.no_sync) {
        auto f = vfq->try_pop();
        if (!f) return;
        present(*f);
        *remaining = 0;
        return;
      }
      double last_dur = pts - last_pts;
      if (std::isnan(last_dur) || last_dur <= 0 || last_dur > 10) last_dur = last_duration;
      double delay = target_delay(last_dur / speed);
      double now = now_seconds();
      if (now < frame_timer + delay) {
        *remaining = std::min(*remaining, frame_timer + delay - now);
        return;
      }
      frame_timer += delay;
      if (delay > 0 && now - frame_timer > kSyncMax) frame_timer = now;
      // Late and another frame is waiting: drop this one to catch up.
      if (vfq->count() > 1 && now > frame_timer + dur / speed) {
        vfq->try_pop();
        std::lock_guard<std::mutex> lk(stats_mu);
        ++stats.frames_dropped;
        last_pts = pts;  // keep the clock's notion of time moving
        continue;
      }
      auto f = vfq->try_pop();
      if (!f) return;
      present(*f);
      // The next frame is due about one frame from now (the next turn computes it exactly).
      *remaining = std::min(*remaining, std::max(0.0, frame_timer + last_duration / speed - now));
      return;
    }
  }

  // The file's first picture (or, without video, its first sound) is out: at the start
  // position, if there is one, which the source may now stop focusing on.
  void first_output_done() {
    first_frame_done = true;
    if (src) src->start_position_reached();
  }

  // ---- per-turn checks ---------------------------------------------------------------------
  // A trigger fires when playback passes its time (not when a seek jumps over it); AT 0
  // fires right after the first frame. Each fires once; one per turn.
  void check_triggers() {
    if (!first_frame_done || seeking) {
      trigger_prev = -1;
      return;
    }
    const double pos = position();
    const double prev = trigger_prev_serial == serial.load() ? trigger_prev : -1;
    trigger_prev = pos;
    trigger_prev_serial = serial.load();
    for (auto& [sa, fired] : seek_at) {
      if (fired || !crossed(sa.first, prev, pos)) continue;
      fired = true;
      seek(sa.second, true);
      return;
    }
    for (auto& [ka, fired] : keys_at) {
      if (fired || !crossed(ka.first, prev, pos)) continue;
      fired = true;
      if (overlay) overlay->poke();
      if (auto c = command_for_key(ka.second)) apply(*c);
      return;
    }
  }

  void check_screenshots() {
    if (!vo->is_window() || !first_frame_done || seeking) return;
    double pos = position();
    for (auto& [shot, done] : shots) {
      if (done || pos < shot.first) continue;
      done = true;
      vo->request_screenshot(shot.second);
      force_controls_once = true;  // a screenshot shows the controls
      vo->redraw();
      force_controls_once = false;
    }
  }

  void check_stall(double now) {
    if (!first_frame_done || paused || seeking || demuxer->eof_for(serial.load())) {
      waiting_since = -1;
      return;
    }
    bool waiting;
    if (prerolling) {
      // Holding the picture for the pre-roll is no stall while media keeps arriving; it is one
      // once nothing new was read for kHoldStarve (a swarm that stopped, a seeder gone).
      const double until = demuxer->read_until(serial.load());
      if (until != hold_read_until) {
        hold_read_until = until;
        hold_moved_at = now;
      }
      waiting = now - hold_moved_at >= kHoldStarve;
    } else if (has_video)
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

  // The pre-roll (PlayerOptions::cache_initial) is buffered: enough media past the first
  // picture was demuxed, or the file ended, or the packet queues are full.
  bool preroll_ready() {
    const int s = serial.load();
    if (has_video && shown_serial != s) return false;  // the picture comes first
    if (demuxer->eof_for(s)) return true;
    if ((vpq && vpq->full()) || (apq && apq->full())) return true;
    double from = NAN;
    if (has_video) {
      vfq->peek([&](VideoFrame& f) {
        if (f.serial == s) from = f.pts;
      });
      if (std::isnan(from)) return false;  // not even the first picture yet
    } else {
      from = seeking ? seek_target : start;
    }
    return demuxer->read_until(s) >= from + opts.cache_initial;
  }

  void check_preroll() {
    if (!prerolling || !preroll_ready()) return;
    prerolling = false;
    if (src) src->playback_ready();
    if (ao) ao->set_paused(paused);
    vclock.set_paused(paused);
    frame_timer = now_seconds();
    emit("playing", {{"pos", position()}});
    need_redraw = true;
  }

  bool at_end() const {
    const int s = serial.load();
    if (seeking || !demuxer->eof_for(s)) return false;
    return video_finished() && audio_finished();
  }

  void drain_subtitles() {
    if (!spq) return;
    while (auto item = spq->try_pop()) {
      if (item->kind != PacketItem::Kind::Data || !item->pkt) continue;
      for (SubTrack& t : subs) {
        if (t.bitmap && &t != selected_sub()) continue;
        if (t.stream == item->pkt->stream_index && t.dec) {
          const size_t before = t.track ? t.track->event_count() : 0;
          t.dec->decode(item->pkt.get(), start_offset, t.track.get());
          if (&t == selected_sub() && t.track && t.track->event_count() != before && paused) need_redraw = true;
        }
      }
    }
  }

  SubTrack* selected_sub() { return sub_sel >= 0 && sub_sel < int(subs.size()) ? &subs[size_t(sub_sel)] : nullptr; }

  // ---- tracks ----------------------------------------------------------------------------------
  std::string sub_label(int sel) const {
    if (sel < 0 || sel >= int(subs.size())) return "Subtitles: off";
    const SubTrack& t = subs[size_t(sel)];
    return "Subtitles " + std::to_string(sel + 1) + "/" + std::to_string(subs.size()) + ": " +
           track_title(t.lang, t.name, t.external ? "external" : t.codec);
  }

  void select_sub(int sel) {
    if (sel < -1 || sel >= int(subs.size())) sel = -1;
    const bool reread = sel >= 0 && sel != sub_sel && subs[size_t(sel)].bitmap && demuxer;
    sub_sel = sel;
    sub_chosen = true;
    osd(sub_label(sel));
    // Pictures of a track that was not decoded so far: read the current stretch again.
    if (reread && first_frame_done) seek(seeking ? seek_target : position(), false);
  }

  // Loads an external subtitle file into the current file's tracks; returns its index or -1.
  int load_external_sub(const ExternalSub& x) {
    if (!sub_engine) {
      std::vector<std::pair<std::string, std::string>> fonts;
      if (demuxer) fonts = demuxer->attached_fonts();
      sub_engine = std::make_unique<SubtitleEngine>(std::move(fonts));
    }
    std::string serr;
    auto track = sub_engine->load(x.data.empty() ? x.path : x.name, x.data, &serr);
    if (!track) {
      if (!opts.quiet) std::fprintf(stderr, "cine: warning: %s\n", serr.c_str());
      return -1;
    }
    SubTrack t;
    t.name = base_name(x.name.empty() ? x.path : x.name);
    t.codec = "external";
    t.external = true;
    t.track = std::move(track);
    subs.push_back(std::move(t));
    return int(subs.size()) - 1;
  }

  void select_audio(int sel) {
    if (!adec || !ao || sel < 0 || sel >= int(audio_streams.size())) return;
    if (sel == audio_sel) {
      osd(audio_label());
      return;
    }
    const int stream = audio_streams[size_t(sel)];
    // Stop the old decoder before the seek's Flush is queued, so the new one receives it.
    adec->request_stop();
    afq->flush();
    adec.reset();
    std::string err;
    auto dec = std::make_unique<AudioDecoder>(afq.get(), ao->format());
    if (!dec->open(demuxer->format(), stream, &err)) {
      osd("Audio track " + std::to_string(sel + 1) + ": " + err);
      dec = std::make_unique<AudioDecoder>(afq.get(), ao->format());
      if (!dec->open(demuxer->format(), audio_streams[size_t(audio_sel)], &err)) return;
      sel = audio_sel;
    }
    adec = std::move(dec);
    adec->set_speed(speed);
    if (opts_audio_tap()) adec->set_tap(audio_tap_adapter());
    audio_sel = sel;
    const double at = seeking ? seek_target : position();
    seek(at, false, audio_streams[size_t(sel)]);
    adec->start(apq.get(), &serial);
    osd(audio_label());
  }

  std::string audio_label() const {
    if (audio_sel < 0) return "Audio: none";
    return "Audio " + std::to_string(audio_sel + 1) + "/" + std::to_string(audio_streams.size()) + ": " +
           audio_info[size_t(audio_sel)].label;
  }

  bool opts_audio_tap() const { return static_cast<bool>(opts.audio_tap); }
  AudioDecoder::Tap audio_tap_adapter() {
    const int rate = ao->format().sample_rate, channels = ao->format().channels;
    auto tap = opts.audio_tap;
    return [tap, rate, channels](const AudioChunk& c) {
      tap(reinterpret_cast<const float*>(c.data.data()), c.data.size() / (sizeof(float) * channels), channels, rate);
    };
  }

  // ---- commands --------------------------------------------------------------------------------
  void apply(const Command& c) {
    using K = Command::Kind;
    switch (c.kind) {
      case K::SeekAbsolute: seek(c.value, true); break;
      case K::SeekRelative: seek_relative(c.value); break;
      case K::SeekPercent:
        if (duration > 0) seek(duration * std::clamp(c.value, 0.0, 100.0) / 100.0, true);
        break;
      case K::SetPause: set_paused(c.value != 0); break;
      case K::TogglePause: set_paused(!paused); break;
      case K::Quit:
        leave_reason = LeaveReason::Quit;
        quit = true;
        break;
      case K::QuitWatchLater:
        leave_reason = LeaveReason::QuitWatchLater;
        quit = true;
        break;
      case K::FrameStep:
        if (!has_video) break;
        set_paused(true);
        step_pending = true;
        break;
      case K::FrameBackStep:
        if (!has_video || std::isnan(last_pts)) break;
        set_paused(true);
        stepped = false;
        seek(std::max(0.0, last_pts - last_duration - 0.001), true);
        break;
      case K::SpeedMultiply: set_speed(speed * c.value); break;
      case K::SetSpeed: set_speed(c.value); break;
      case K::ToggleFullscreen:
        if (vo) vo->toggle_fullscreen();
        break;
      case K::ExitFullscreen:
        if (show_help || show_files || show_stats) {
          show_help = show_files = show_stats = false;
        } else if (vo) {
          vo->set_fullscreen(false);
        }
        break;
      case K::ToggleMute:
      case K::SetMute:
        muted = c.kind == K::ToggleMute ? !muted : c.value != 0;
        apply_volume();
        osd(muted ? "Mute" : "Unmute");
        break;
      case K::VolumeAdd:
      case K::SetVolume:
        volume = std::clamp(c.kind == K::VolumeAdd ? volume + c.value : c.value, 0.0, kMaxVolume);
        apply_volume();
        osd("Volume " + std::to_string(static_cast<int>(std::lround(volume))) + "%" + (muted ? " (muted)" : ""));
        break;
      case K::CycleAudio:
        if (audio_streams.size() > 1 && audio_sel >= 0) {
          const int n = int(audio_streams.size());
          select_audio(((audio_sel + (c.value < 0 ? -1 : 1)) % n + n) % n);
        } else {
          osd(audio_label());
        }
        break;
      case K::SetAudioTrack: select_audio(static_cast<int>(c.value) - 1); break;
      case K::CycleSub: {
        // Through every track and "off": off, 1, 2, ..., n, off, ...
        const int n = int(subs.size());
        int pos = sub_sel + 1;  // 0 = off
        pos = ((pos + (c.value < 0 ? -1 : 1)) % (n + 1) + (n + 1)) % (n + 1);
        select_sub(pos - 1);
        break;
      }
      case K::SetSubTrack: select_sub(static_cast<int>(c.value) - 1); break;
      case K::ToggleSubVisibility:
        sub_visible = !sub_visible;
        osd(sub_visible ? "Subtitles visible" : "Subtitles hidden");
        break;
      case K::SubDelayAdd: {
        sub_delay = std::round((sub_delay + c.value) * 1000) / 1000;
        char buf[48];
        std::snprintf(buf, sizeof buf, "Subtitle delay %+.0f ms", sub_delay * 1000);
        osd(buf);
        break;
      }
      case K::ToggleStats: show_stats = !show_stats; break;
      case K::ToggleHelp: show_help = !show_help; break;
      case K::ToggleFilePicker: show_files = !show_files; break;
      case K::PlaylistNext:
      case K::PlaylistPrev:
      case K::PlaylistSelect: {
        const int n = int(opts.playlist.size());
        int to = c.kind == K::PlaylistNext ? playlist_pos + 1
                 : c.kind == K::PlaylistPrev ? playlist_pos - 1
                                             : static_cast<int>(c.value);
        if (n <= 1 || !owner->open_entry) {
          osd("No other file");
        } else if (to < 0 || to >= n) {
          osd(to < 0 ? "First file" : "Last file");
        } else if (to != playlist_pos) {
          switch_to = to;
          leave_reason = LeaveReason::Switch;
          show_files = false;
        }
        break;
      }
    }
    need_redraw = true;
  }

  // ---- overlay -----------------------------------------------------------------------------------
  OverlaySnapshot snapshot() const {
    OverlaySnapshot snap;
    snap.position = position();
    snap.duration = duration;
    snap.paused = paused;
    snap.muted = muted;
    snap.volume = volume;
    snap.speed = speed;
    snap.buffering = stalled || seeking || prerolling || !first_frame_done;
    snap.buffering_what = !first_frame_done ? "opening" : seeking ? "seeking" : stalled ? "stalled" : "";
    snap.buffered_until = demuxer ? demuxer->read_until(serial.load()) : -1;
    snap.file_size = src ? src->size() : -1;
    snap.read_head = demuxer ? demuxer->read_position() : -1;
    if (duration > 0 && snap.file_size > 0) snap.byte_rate = double(snap.file_size) / duration;
    // Until the demuxer reads at the seek target, its last byte is the old place: estimate.
    if (seeking && first_frame_done && snap.read_head == read_pos_at_seek && snap.byte_rate > 0)
      snap.read_head = std::min(snap.file_size - 1, static_cast<int64_t>(seek_target * snap.byte_rate));
    snap.title = title;
    if (has_video) {
      snap.video_codec = video_codec;
      snap.width = video_w;
      snap.height = video_h;
      snap.fps = vdec ? vdec->frame_rate() : 0;
    }
    if (has_audio && audio_sel >= 0) {
      const AudioInfo& a = audio_info[size_t(audio_sel)];
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s  %d Hz  %d ch", a.codec.c_str(), a.rate, a.channels);
      snap.audio_codec = buf;
    }
    {
      std::lock_guard<std::mutex> lk(stats_mu);
      snap.frames_dropped = stats.frames_dropped;
    }
    snap.av_drift = last_drift;
    if (vpq) {
      snap.video_packets = int(vpq->count());
      snap.video_packets_max = int(vpq->max_count());
    }
    if (apq) {
      snap.audio_packets = int(apq->count());
      snap.audio_packets_max = int(apq->max_count());
    }
    if (vfq) {
      snap.video_frames = int(vfq->count());
      snap.video_frames_max = int(vfq->max_count());
    }
    for (size_t i = 0; i < audio_info.size(); ++i)
      snap.audio_tracks.push_back({int(i) + 1, audio_info[i].label, int(i) == audio_sel});
    for (size_t i = 0; i < subs.size(); ++i)
      snap.sub_tracks.push_back({int(i) + 1, track_title(subs[i].lang, subs[i].name, subs[i].external ? "external" : subs[i].codec),
                                 int(i) == sub_sel});
    snap.sub_visible = sub_visible;
    snap.sub_delay = sub_delay;
    if (opts.playlist.size() > 1)
      for (size_t i = 0; i < opts.playlist.size(); ++i)
        snap.playlist.push_back({opts.playlist[i], int(i) == playlist_pos});
    snap.show_stats = show_stats;
    snap.show_help = show_help;
    snap.show_files = show_files;
    if (now_seconds() < osd_until) snap.osd_message = osd_message;
    if (owner->decorate) owner->decorate(snap);
    return snap;
  }

  // The controls stay up while paused or buffering, and in screenshots.
  bool controls_forced() const {
    return force_controls_once || paused || stalled || seeking || !first_frame_done;
  }

  void draw_overlay() {
    if (!overlay) return;
    OverlaySnapshot snap = snapshot();
    for (const Command& c : overlay->draw(snap, controls_forced())) apply(c);
  }

  const RgbaImage* subtitle_image(const VideoRect& rect, int* max_y) {
    SubTrack* t = selected_sub();
    if (!sub_engine || !t || !t->track || !sub_visible) return nullptr;
    if (overlay) {
      const float top = overlay->panel_top(controls_forced());
      if (top >= 0) *max_y = static_cast<int>(top) - 4;
    }
    const int vw = vo->picture_width(), vh = vo->picture_height();
    const RgbaImage& img = sub_engine->render(t->track.get(), subtitle_time(), rect.w, rect.h, vw, vh);
    return &img;
  }

  // ---- input -------------------------------------------------------------------------------------
  void key(const std::string& name) {
    if (name.empty()) return;
    if (overlay) overlay->poke();
    if (auto c = command_for_key(name)) apply(*c);
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
        case SDL_QUIT:
          leave_reason = LeaveReason::Quit;
          quit = true;
          break;
        case SDL_KEYDOWN:
          key(key_name(e.key.keysym.sym, e.key.keysym.mod));
          break;
        case SDL_TEXTINPUT:
          for (const char* p = e.text.text; *p; ++p) {
            const unsigned char ch = static_cast<unsigned char>(*p);
            if (ch == ' ') continue;  // named SPACE by the key-down event
            if (ch < 0x80) {
              key(std::string(1, static_cast<char>(ch)));
            } else {
              key(p);  // one non-ASCII character: the rest of the text
              break;
            }
          }
          break;
        case SDL_MOUSEBUTTONDOWN:
          if (e.button.button == SDL_BUTTON_LEFT && e.button.clicks == 2) apply({Command::Kind::ToggleFullscreen, 0});
          if (e.button.button == SDL_BUTTON_RIGHT) apply({Command::Kind::TogglePause, 0});
          if (e.button.button == SDL_BUTTON_X1) key("MBTN_BACK");
          if (e.button.button == SDL_BUTTON_X2) key("MBTN_FORWARD");
          need_redraw = true;
          break;
        case SDL_MOUSEWHEEL:
          if (e.wheel.y != 0) key(e.wheel.y > 0 ? "WHEEL_UP" : "WHEEL_DOWN");
          if (e.wheel.x != 0) key(e.wheel.x > 0 ? "WHEEL_RIGHT" : "WHEEL_LEFT");
          break;
        case SDL_MOUSEMOTION:
          if (overlay) overlay->poke();
          need_redraw = true;
          break;
        case SDL_WINDOWEVENT:
          if (e.window.event == SDL_WINDOWEVENT_EXPOSED || e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
            need_redraw = true;
          break;
        default: break;
      }
    }
  }

  void drain_inbox() {
    std::vector<Command> cmds;
    std::vector<std::pair<int, ExternalSub>> late;
    {
      std::lock_guard<std::mutex> lk(inbox_mu);
      cmds.swap(inbox);
      late.swap(sub_inbox);
    }
    for (const Command& c : cmds) apply(c);
    for (auto& [pos, x] : late) {
      if (pos != playlist_pos || !demuxer) continue;
      const int idx = load_external_sub(x);
      // A file that sits beside the video is there for a reason: show it unless the user chose.
      if (idx >= 0 && opts.sid == 0 && !sub_chosen) {
        select_sub(idx);
        sub_chosen = false;
      } else if (idx >= 0) {
        osd("Subtitles added: " + subs[size_t(idx)].name);
      }
    }
  }

  void publish_properties() {
    Player::Properties p;
    p.time_pos = position();
    p.duration = duration;
    p.percent_pos = duration > 0 ? std::clamp(p.time_pos / duration * 100, 0.0, 100.0) : 0;
    p.pause = paused;
    p.mute = muted;
    p.seeking = seeking;
    p.buffering = stalled || seeking || prerolling || !first_frame_done;
    p.eof_reached = eof_reached;
    p.fullscreen = vo && vo->fullscreen();
    p.idle = !demuxer;
    p.volume = volume;
    p.speed = speed;
    p.sub_delay = sub_delay;
    p.sub_visibility = sub_visible;
    p.aid = audio_sel >= 0 && has_audio ? audio_sel + 1 : 0;
    p.sid = sub_sel >= 0 ? sub_sel + 1 : 0;
    for (size_t i = 0; i < audio_info.size(); ++i) {
      const AudioInfo& a = audio_info[i];
      p.tracks.push_back({"audio", int(i) + 1, a.title, a.lang, a.codec, false, int(i) == audio_sel && has_audio,
                          a.default_track});
    }
    for (size_t i = 0; i < subs.size(); ++i)
      p.tracks.push_back({"sub", int(i) + 1, subs[i].name, subs[i].lang, subs[i].codec, subs[i].external,
                          int(i) == sub_sel, subs[i].default_track});
    p.filename = title;
    p.playlist_pos = playlist_pos;
    p.playlist_count = static_cast<int>(std::max<size_t>(1, opts.playlist.size()));
    if (const SubTrack* t = sub_sel >= 0 && sub_sel < int(subs.size()) ? &subs[size_t(sub_sel)] : nullptr)
      if (t->track && sub_visible) p.sub_text = t->track->text_at(subtitle_time());
    std::lock_guard<std::mutex> lk(props_mu);
    props = std::move(p);
  }

  // ---- files ---------------------------------------------------------------------------------------
  void reset_file_state() {
    duration = -1;
    has_video = has_audio = false;
    vclock.reset();
    vclock.set_speed(speed);
    frame_timer = 0;
    last_pts = NAN;
    last_duration = 0.04;
    last_key_pos = -1;
    shown_serial = -1;
    first_frame_done = false;
    user_seek_pending = false;
    seek_target = 0;
    seeking = false;
    trigger_prev = -1;
    trigger_prev_serial = -1;
    start = 0;
    waiting_since = -1;
    stalled = false;
    need_redraw = true;
    step_pending = stepped = false;
    last_drift = 0;
    eof_reached = false;
    switch_to = -1;
    leave_reason = LeaveReason::Quit;
    subs.clear();
    sub_sel = -1;
    sub_chosen = false;
    audio_streams.clear();
    audio_sel = -1;
    audio_info.clear();
    video_codec.clear();
    video_w = video_h = 0;
  }

  struct FileSpec {
    double start = 0;
    bool start_is_percent = false;
    int64_t prefetch_pos = -1, prefetch_len = 0;
    std::vector<ExternalSub> subs;
  };

  bool open_file(const FileSpec& spec, std::string* error);
  void close_file(Player::Leave* leave);
  LeaveReason play_loop();
  void teardown();
  int run(std::string* error);
};

bool Player::Impl::open_file(const FileSpec& spec, std::string* error) {
  reset_file_state();
  {
    std::lock_guard<std::mutex> lk(demux_mu);
    demuxer = std::make_unique<Demuxer>(src);
    demuxer->set_exact_seeks(opts.exact_seeks);
  }
  if (quit) {
    *error = "interrupted";
    return false;
  }
  // The bytes of a remembered position are wanted as soon as the container's header, and so is
  // the index the start seek reads.
  if (spec.prefetch_pos >= 0 && spec.prefetch_len > 0) src->prefetch(spec.prefetch_pos, spec.prefetch_len);
  if (spec.start > 0) src->will_seek_after_open(spec.start, spec.start_is_percent);
  std::string err;
  if (!demuxer->open(&err, opts.aid)) {
    *error = quit ? "interrupted" : err;
    return false;
  }
  AVFormatContext* fmt = demuxer->format();
  duration = demuxer->duration();
  start_offset = demuxer->start_offset();
  has_video = demuxer->video_stream() >= 0;
  has_audio = demuxer->audio_stream() >= 0;
  audio_streams = demuxer->audio_streams();
  for (size_t i = 0; i < audio_streams.size(); ++i) {
    if (audio_streams[i] == demuxer->audio_stream()) audio_sel = int(i);
    const AVStream* st = fmt->streams[audio_streams[i]];
    AudioInfo a;
    a.title = meta(st, "title");
    a.lang = meta(st, "language");
    a.codec = avcodec_get_name(st->codecpar->codec_id);
    a.label = track_title(a.lang, a.title, codec_display(st->codecpar->codec_id));
    a.rate = st->codecpar->sample_rate;
    a.channels = st->codecpar->ch_layout.nb_channels;
    a.default_track = (st->disposition & AV_DISPOSITION_DEFAULT) != 0;
    audio_info.push_back(std::move(a));
  }
  if (has_video) {
    const AVCodecParameters* par = fmt->streams[demuxer->video_stream()]->codecpar;
    video_codec = codec_name(fmt, demuxer->video_stream());
    video_w = par->width;
    video_h = par->height;
  }

  vpq = std::make_unique<PacketQueue>(600, 24u << 20);
  apq = std::make_unique<PacketQueue>(1200, 4u << 20);
  spq = std::make_unique<PacketQueue>(4000, 8u << 20);
  const FrameQueueShape shape = video_frame_queue_shape(video_w, video_h);
  vfq = std::make_unique<VideoFrameQueue>(shape.frames, 0);
  vfq->set_refill_at(shape.refill_at);

  if (has_video) {
    vdec = std::make_unique<VideoDecoder>(vfq.get());
    vdec->set_slow_fraction(opts.decode_slow_fraction);
    if (!vdec->open(fmt, demuxer->video_stream(), &err)) {
      if (!has_audio) {
        *error = err;
        return false;
      }
      if (!opts.quiet) std::fprintf(stderr, "cine: warning: %s; playing audio only\n", err.c_str());
      has_video = false;
      vdec.reset();
    }
  }
  AudioFormat afmt;
  if (has_audio) {
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
      if (!has_video) {
        *error = err;
        return false;
      }
      if (!opts.quiet) std::fprintf(stderr, "cine: warning: %s; playing without sound\n", err.c_str());
      has_audio = false;
      adec.reset();
      ao.reset();
    }
  }
  if (!afq) afq = std::make_unique<AudioChunkQueue>(1, 0);
  if (adec) {
    adec->set_speed(speed);
    if (opts.audio_tap) adec->set_tap(audio_tap_adapter());
  }

  // Subtitles: every embedded text/bitmap stream, then the external files.
  for (int idx : demuxer->subtitle_streams()) {
    const AVStream* st = fmt->streams[idx];
    SubTrack t;
    t.stream = idx;
    t.name = meta(st, "title");
    t.lang = meta(st, "language");
    t.codec = codec_display(st->codecpar->codec_id);
    t.default_track = (st->disposition & (AV_DISPOSITION_DEFAULT | AV_DISPOSITION_FORCED)) != 0;
    const AVCodecDescriptor* d = avcodec_descriptor_get(st->codecpar->codec_id);
    t.bitmap = d && (d->props & AV_CODEC_PROP_BITMAP_SUB);
    t.dec = std::make_unique<SubtitleDecoder>();
    std::string serr;
    if (!t.dec->open(st, &serr)) continue;
    subs.push_back(std::move(t));
  }
  if (!subs.empty() || !spec.subs.empty()) {
    sub_engine = std::make_unique<SubtitleEngine>(demuxer->attached_fonts());
    for (SubTrack& t : subs) t.track = sub_engine->new_track(t.dec->header());
    for (const ExternalSub& x : spec.subs) load_external_sub(x);
  }
  // --sid, else an external file (given or found beside the video), else a default-flagged track.
  if (opts.sid > 0) {
    sub_sel = opts.sid <= int(subs.size()) ? opts.sid - 1 : -1;
  } else if (opts.sid == 0) {
    for (size_t i = 0; i < subs.size() && sub_sel < 0; ++i)
      if (subs[i].external) sub_sel = int(i);
    for (size_t i = 0; i < subs.size() && sub_sel < 0; ++i)
      if (subs[i].default_track) sub_sel = int(i);
  }

  nlohmann::json opened = {{"duration", duration > 0 ? nlohmann::json(duration) : nlohmann::json()},
                           {"video_codec", has_video ? nlohmann::json(codec_name(fmt, demuxer->video_stream())) : nlohmann::json()},
                           {"audio_codec", has_audio ? nlohmann::json(codec_name(fmt, demuxer->audio_stream())) : nlohmann::json()}};
  emit("opened", opened);

  // Outputs: the window stays from one file to the next.
  if (has_video && opts.video_window && !(vo && vo->is_window())) {
    AVCodecParameters* par = fmt->streams[demuxer->video_stream()]->codecpar;
    vo = VideoOut::create_sdl(title.empty() ? "Cine" : title, par->width, par->height, &err);
    if (!vo) {
      *error = err;
      return false;
    }
    overlay = std::make_unique<Overlay>(vo->window(), vo->renderer());
    vo->set_overlay_hook([this] { draw_overlay(); });
    vo->set_subtitle_hook([this](const VideoRect& r, int* max_y) { return subtitle_image(r, max_y); });
    SDL_StartTextInput();
    overlay->poke();
  } else if (!vo) {
    vo = VideoOut::create_null();
  }
  if (vo->is_window()) vo->set_title(title.empty() ? "Cine" : title);
  if (!opts.frame_hash_file.empty() && vdec) {
    if (!hash_file) hash_file = std::fopen(opts.frame_hash_file.c_str(), "w");
    if (!hash_file) {
      *error = "cannot write '" + opts.frame_hash_file + "'";
      return false;
    }
    vdec->set_hash_file(hash_file);
  }
  apply_volume();
  prerolling = opts.cache_initial > 0;
  hold_moved_at = now_seconds();
  if (ao && (paused || prerolling)) ao->set_paused(true);
  if (paused) vclock.set_paused(true);

  // Start position: seek before the threads start so the first packets already belong to it.
  start = spec.start_is_percent ? (duration > 0 ? duration * spec.start / 100.0 : 0) : spec.start;
  if (start > 0) {
    if (duration > 0) start = std::min(start, std::max(0.0, duration - 0.05));
    serial = serial.load() + 1;
    demuxer->request_seek(start, serial.load());
    seek_target = start;
    seeking = true;
  } else if (spec.start > 0) {
    src->start_position_reached();  // announced, but no duration to take a percentage of
  }

  demuxer->start(has_video ? vpq.get() : nullptr, has_audio ? apq.get() : nullptr, subs.empty() ? nullptr : spq.get());
  if (has_video) vdec->start(vpq.get(), &serial);
  if (has_audio) {
    adec->start(apq.get(), &serial);
    ao->start(afq.get(), &serial);
  }
  return true;
}

void Player::Impl::close_file(Player::Leave* leave) {
  const double pos = position();
  if (vpq) vpq->abort();
  if (apq) apq->abort();
  if (spq) spq->abort();
  if (vfq) vfq->abort();
  if (afq) afq->abort();
  if (demuxer) demuxer->stop();
  if (ao) ao->stop();
  if (leave) {
    leave->playlist_pos = playlist_pos;
    leave->position = pos;
    leave->duration = duration;
    // The reader has stopped: the container's index may be read from this thread now.
    int64_t kp = demuxer ? demuxer->keyframe_pos(pos) : -1;
    leave->byte_pos = kp >= 0 ? kp : last_key_pos;
  }
  vdec.reset();
  adec.reset();
  ao.reset();
  subs.clear();
  sub_engine.reset();
  {
    std::lock_guard<std::mutex> lk(demux_mu);
    demuxer.reset();
  }
  vpq.reset();
  apq.reset();
  spq.reset();
  vfq.reset();
  afq.reset();
  owned_src.reset();
}

void Player::Impl::teardown() {
  close_file(nullptr);
  overlay.reset();
  vo.reset();
  if (hash_file) {
    std::fclose(hash_file);
    hash_file = nullptr;
  }
}

LeaveReason Player::Impl::play_loop() {
  last_progress = now_seconds();
  while (!quit && switch_to < 0) {
    // Time to sleep after this turn: until the next frame is due (video_refresh lowers it), but
    // at most kPoll while something is polled for (a pre-roll or seek to finish, a stall,
    // audio-only playback, an animated overlay). Playing video with a frame queued waits for
    // nothing else: input wakes the window's wait and commands are served at the next frame.
    double remaining = kSteadySleep;
    handle_events();
    drain_inbox();
    if (quit || switch_to >= 0) break;
    drain_subtitles();
    check_preroll();
    check_triggers();
    if (quit || switch_to >= 0) break;
    if (has_video) {
      video_refresh(&remaining);
    } else if (!seeking || (has_audio && ao->started(serial.load()))) {
      if (seeking && has_audio && ao->started(serial.load())) {
        seeking = false;
        if (src && !prerolling) src->playback_ready();
        if (!first_frame_done) {
          first_output_done();
        } else if (user_seek_pending) {
          user_seek_pending = false;
          emit("seek_done", {{"pos", position()}});
        }
      } else if (!first_frame_done && has_audio && ao->started(serial.load())) {
        first_output_done();
      }
    }
    check_screenshots();
    const double now = now_seconds();
    check_stall(now);

    if (now - last_progress >= 1.0) {
      last_progress = now;
      nlohmann::json fields = {{"pos", position()}};
      if (vdec) fields["video_threads"] = vdec->threads();
      emit("progress", std::move(fields));
    }
    if (now - last_tick >= 0.25) {
      last_tick = now;
      if (owner->on_tick) owner->on_tick(position(), stalled || seeking);
    }
    publish_properties();
    if (opts.frames >= 0 && stats.frames_shown >= opts.frames) return LeaveReason::Limit;
    if (opts.length >= 0 && played >= opts.length) return LeaveReason::Limit;
    if (!has_video && opts.length >= 0 && first_frame_done && position() >= start + opts.length)
      return LeaveReason::Limit;
    if (at_end()) {
      std::string fatal = demuxer->fatal_error();
      if (!fatal.empty()) {
        emit("error", {{"message", fatal}});
        if (!opts.quiet) std::fprintf(stderr, "cine: %s\n", fatal.c_str());
      }
      eof_reached = true;
      publish_properties();
      emit("eof");
      return fatal.empty() ? LeaveReason::Eof : LeaveReason::Error;
    }
    const bool osd_live = !osd_message.empty() && now < osd_until + 0.1;
    const bool animated = (overlay && overlay->visible()) || osd_live || stalled || seeking || show_stats;
    if (vo->is_window() && (need_redraw || (animated && now - last_redraw > 1.0 / 30))) {
      need_redraw = false;
      vo->redraw();
      last_redraw = now;
    }
    const bool steady = has_video && !paused && !seeking && !prerolling && !stalled && !step_pending &&
                        !animated && vfq->count() > 0;
    if (!steady) remaining = std::min(remaining, kPoll);
    // Sleep until the next thing is due (or an input event arrives).
    if (remaining > 0) {
      if (vo->is_window()) {
        SDL_WaitEventTimeout(nullptr, std::max(1, static_cast<int>(remaining * 1000)));
      } else if (has_video && !paused && vfq->count() == 0) {
        // Waiting for the decoder: wake as soon as a frame arrives. (With frames queued, the
        // next one is simply not due yet: sleep below.)
        vfq->wait_nonempty(std::chrono::milliseconds(std::max(1, static_cast<int>(remaining * 1000))));
      } else {
        SDL_Delay(std::max(1, static_cast<int>(remaining * 1000)));
      }
    }
  }
  return switch_to >= 0 ? LeaveReason::Switch : leave_reason;
}

int Player::Impl::run(std::string* error) {
  for (auto& sa : opts.seek_at) seek_at.push_back({sa, false});
  for (auto& ka : opts.keys_at) keys_at.push_back({ka, false});
  for (auto& sh : opts.screenshots) shots.push_back({sh, false});
  playlist_pos = std::clamp(opts.playlist_pos, 0, std::max(0, int(opts.playlist.size()) - 1));
  title = opts.title;
  FileSpec spec;
  spec.start = opts.start;
  spec.start_is_percent = opts.start_is_percent;
  spec.prefetch_pos = opts.prefetch_pos;
  spec.prefetch_len = opts.prefetch_len;
  spec.subs = opts.subs;
  if (opts.speed != 1.0) speed = std::clamp(opts.speed, kMinSpeed, kMaxSpeed);
  bool first = true;
  int back_to = -1;      // entry to return to when opening another one failed
  double back_pos = 0;   // and where it was left
  for (;;) {
    std::string err;
    if (!open_file(spec, &err)) {
      if (first || err == "interrupted" || back_to < 0 || !owner->open_entry) {
        *error = err;
        teardown();
        return 1;
      }
      // A later file failed: report it and go back to the one the user left.
      emit("error", {{"message", err}});
      if (!opts.quiet) std::fprintf(stderr, "cine: %s\n", err.c_str());
      close_file(nullptr);
      NextFile nf;
      std::string err2;
      if (!owner->open_entry(back_to, &nf, &err2)) {
        *error = err2;
        teardown();
        return 1;
      }
      playlist_pos = back_to;
      back_to = -1;
      owned_src = std::move(nf.source);
      src = owned_src.get();
      title = nf.title;
      spec = FileSpec{};
      spec.start = back_pos;
      spec.prefetch_pos = nf.prefetch_pos;
      spec.prefetch_len = nf.prefetch_len;
      spec.subs = std::move(nf.subs);
      osd("Could not open that file");
      continue;
    }
    first = false;
    back_to = -1;
    const LeaveReason reason = play_loop();
    const int next = switch_to;
    Player::Leave leave;
    leave.reason = reason;
    close_file(&leave);
    if (owner->on_leave) owner->on_leave(leave);
    if (reason != LeaveReason::Switch || quit) break;
    NextFile nf;
    std::string oerr;
    if (!owner->open_entry(next, &nf, &oerr) || !nf.source) {
      emit("error", {{"message", oerr}});
      if (!opts.quiet) std::fprintf(stderr, "cine: %s\n", oerr.c_str());
      if (!owner->open_entry(leave.playlist_pos, &nf, &oerr) || !nf.source) {
        *error = oerr;
        teardown();
        return 1;
      }
      nf.start = leave.position;
    } else {
      back_to = leave.playlist_pos;
      back_pos = leave.position;
      playlist_pos = next;
    }
    owned_src = std::move(nf.source);
    src = owned_src.get();
    title = nf.title;
    spec = FileSpec{};
    spec.start = nf.start;
    spec.prefetch_pos = nf.prefetch_pos;
    spec.prefetch_len = nf.prefetch_len;
    spec.subs = std::move(nf.subs);
    int cur = playlist_pos + 1;
    osd("File " + std::to_string(cur) + "/" + std::to_string(opts.playlist.size()) + ": " + base_name(title));
  }
  teardown();
  return 0;
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

void Player::add_subtitle(int playlist_pos, ExternalSub sub) {
  std::lock_guard<std::mutex> lk(impl_->inbox_mu);
  impl_->sub_inbox.emplace_back(playlist_pos, std::move(sub));
}

Player::Stats Player::stats() const {
  std::lock_guard<std::mutex> lk(impl_->stats_mu);
  return impl_->stats;
}

Player::Properties Player::properties() const {
  std::lock_guard<std::mutex> lk(impl_->props_mu);
  return impl_->props;
}

}  // namespace player
