#include "player/demuxer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "player/subtitles.h"

extern "C" {
#include <libavutil/error.h>
}

namespace player {

namespace {
bool is_font_attachment(const AVStream* st) {
  if (st->codecpar->codec_type != AVMEDIA_TYPE_ATTACHMENT || !st->codecpar->extradata) return false;
  if (st->codecpar->codec_id == AV_CODEC_ID_TTF || st->codecpar->codec_id == AV_CODEC_ID_OTF) return true;
  const AVDictionaryEntry* m = av_dict_get(st->metadata, "mimetype", nullptr, 0);
  return m && std::strstr(m->value, "font") != nullptr;
}

// Matroska/WebM and MP4/MOV: the header names the streams, and the container has an index of
// its own (Cues, moov) even before a packet was read.
bool is_matroska(const AVFormatContext* fmt) { return std::strstr(fmt->iformat->name, "matroska"); }

bool has_indexed_header(const AVFormatContext* fmt) {
  return is_matroska(fmt) || std::strstr(fmt->iformat->name, "mov");
}

// True when the container's header alone describes every stream well enough to decode it, so
// avformat_find_stream_info() can be skipped (as ffplay's -find_stream_info 0 does). That call
// reads and decodes packets until it has seen several frames of every stream: for a 1080p
// H.264 Matroska file that is half a megabyte past the first picture, which a torrent stream
// must download before anything shows. Matroska/WebM and MP4/MOV carry codec, picture size,
// sample rate and channels in their headers; other formats (MPEG-TS, AVI, raw streams) need
// the probe, and so does a header that leaves any of these out. So does audio with a codec
// delay (Opus pre-skip) in MP4: its first timestamp, hence the file's start time, is only known
// from the packets. Matroska gives the delay in its header (CodecDelay): its demuxer moves the
// track's timestamps back by exactly that (WebM/Opus starts at -7 ms), see
// start_time_from_header().
bool header_describes_streams(const AVFormatContext* fmt) {
  if (!has_indexed_header(fmt)) return false;
  if (fmt->duration == AV_NOPTS_VALUE || fmt->duration <= 0 || fmt->nb_streams == 0) return false;
  bool playable = false;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    const AVCodecParameters* par = st->codecpar;
    switch (par->codec_type) {
      case AVMEDIA_TYPE_VIDEO:
        if (st->disposition & AV_DISPOSITION_ATTACHED_PIC) break;
        if (par->codec_id == AV_CODEC_ID_NONE || par->width <= 0 || par->height <= 0) return false;
        playable = true;
        break;
      case AVMEDIA_TYPE_AUDIO:
        if (par->codec_id == AV_CODEC_ID_NONE || par->sample_rate <= 0 ||
            par->ch_layout.nb_channels <= 0 || (par->initial_padding > 0 && !is_matroska(fmt)))
          return false;
        playable = true;
        break;
      case AVMEDIA_TYPE_SUBTITLE:
        if (par->codec_id == AV_CODEC_ID_NONE) return false;
        break;
      default:
        break;
    }
  }
  return playable;
}

// Without the probe the file's start time is the earliest stream start the header gives (MP4
// gives each). Matroska gives none: its timestamps start at 0, less a track's codec delay,
// which its demuxer subtracts from every timestamp of that track (rounded to the track's time
// base, as here).
void start_time_from_header(AVFormatContext* fmt) {
  if (is_matroska(fmt)) {
    int64_t start = 0;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      const AVStream* st = fmt->streams[i];
      const AVCodecParameters* par = st->codecpar;
      if (par->codec_type != AVMEDIA_TYPE_AUDIO || par->initial_padding <= 0 || par->sample_rate <= 0)
        continue;
      int64_t const delay = av_rescale_q(par->initial_padding, AVRational{1, par->sample_rate}, st->time_base);
      start = std::min(start, -av_rescale_q(delay, st->time_base, AVRational{1, AV_TIME_BASE}));
    }
    if (start < 0) fmt->start_time = start;
    return;
  }
  int64_t start = AV_NOPTS_VALUE;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    if (st->start_time == AV_NOPTS_VALUE) return;
    int64_t const t = av_rescale_q(st->start_time, st->time_base, AVRational{1, AV_TIME_BASE});
    if (start == AV_NOPTS_VALUE || t < start) start = t;
  }
  fmt->start_time = start;
}

std::string av_err(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}
}  // namespace

Demuxer::Demuxer(streaming::ByteSource* src) : src_(src), avio_(src) {}

Demuxer::~Demuxer() {
  stop();
  if (fmt_) avformat_close_input(&fmt_);
}

bool Demuxer::open(std::string* error, int audio) {
  if (!avio_.context()) {
    *error = "out of memory";
    return false;
  }
  fmt_ = avformat_alloc_context();
  fmt_->pb = avio_.context();
  fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;
  fmt_->interrupt_callback = avio_.interrupt_callback();
  const std::string name = src_->describe();
  int ret = avformat_open_input(&fmt_, name.c_str(), nullptr, nullptr);
  if (ret < 0) {  // avformat_open_input frees fmt_ on failure
    fmt_ = nullptr;
    *error = avio_.interrupted() ? "interrupted"
                                 : "not a playable media file (" + av_err(ret) + ")";
    return false;
  }
  if (header_describes_streams(fmt_)) {
    start_time_from_header(fmt_);
    ret = 0;
  } else {
    ret = avformat_find_stream_info(fmt_, nullptr);
  }
  if (ret < 0) {
    *error = avio_.interrupted() ? "interrupted"
                                 : "cannot read the media's streams (" + av_err(ret) + ")";
    return false;
  }
  video_idx_ = -1;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    AVStream* st = fmt_->streams[i];
    if (st->disposition & AV_DISPOSITION_ATTACHED_PIC) st->discard = AVDISCARD_ALL;
  }
  int v = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (v >= 0 && !(fmt_->streams[v]->disposition & AV_DISPOSITION_ATTACHED_PIC)) video_idx_ = v;
  audio_streams_.clear();
  sub_streams_.clear();
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVCodecParameters* par = fmt_->streams[i]->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_AUDIO) audio_streams_.push_back(static_cast<int>(i));
    if (par->codec_type == AVMEDIA_TYPE_SUBTITLE && subtitle_codec_supported(par->codec_id))
      sub_streams_.push_back(static_cast<int>(i));
  }
  int a = -1;
  if (audio > 0 && audio <= static_cast<int>(audio_streams_.size())) {
    a = audio_streams_[size_t(audio - 1)];
  } else if (audio == 0) {
    a = av_find_best_stream(fmt_, AVMEDIA_TYPE_AUDIO, -1, video_idx_, nullptr, 0);
  }
  audio_idx_ = a >= 0 ? a : -1;
  if (video_idx_ < 0 && audio_idx_ < 0) {
    *error = audio < 0 && !audio_streams_.empty() ? "no video stream, and audio is off (--aid=no)"
                                                   : "no playable audio or video stream";
    return false;
  }
  apply_discard();
  // Tell the byte source how fast playback consumes bytes so it can space its prefetching.
  double rate = 0;
  if (fmt_->bit_rate > 0) rate = fmt_->bit_rate / 8.0;
  else if (duration() > 0 && src_->size() > 0) rate = src_->size() / duration();
  if (rate > 0) src_->set_byte_rate(rate);
  return true;
}

void Demuxer::apply_discard() {
  const int a = audio_idx_.load();
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const int idx = static_cast<int>(i);
    const bool subs = std::find(sub_streams_.begin(), sub_streams_.end(), idx) != sub_streams_.end();
    fmt_->streams[i]->discard = idx == video_idx_ || idx == a || subs ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
}

std::vector<std::pair<std::string, std::string>> Demuxer::attached_fonts() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!fmt_) return out;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* st = fmt_->streams[i];
    if (!is_font_attachment(st)) continue;
    const AVDictionaryEntry* name = av_dict_get(st->metadata, "filename", nullptr, 0);
    out.emplace_back(name ? name->value : "font",
                     std::string(reinterpret_cast<const char*>(st->codecpar->extradata),
                                 static_cast<size_t>(st->codecpar->extradata_size)));
  }
  return out;
}

double Demuxer::start_offset() const {
  return fmt_ && fmt_->start_time != AV_NOPTS_VALUE ? fmt_->start_time / double(AV_TIME_BASE) : 0.0;
}

double Demuxer::read_until(int serial) const {
  return read_serial_.load() == serial ? read_until_.load() : -1;
}

int64_t Demuxer::keyframe_pos(double t) const {
  if (!fmt_) return -1;
  const int idx = video_idx_ >= 0 ? video_idx_ : audio_idx_.load();
  if (idx < 0) return -1;
  AVStream* st = fmt_->streams[idx];
  const int64_t ts = av_rescale_q(static_cast<int64_t>((t + start_offset()) * AV_TIME_BASE),
                                  AVRational{1, AV_TIME_BASE}, st->time_base);
  const AVIndexEntry* e = avformat_index_get_entry_from_timestamp(st, ts, AVSEEK_FLAG_BACKWARD);
  return e ? e->pos : -1;
}

double Demuxer::duration() const {
  if (!fmt_ || fmt_->duration == AV_NOPTS_VALUE || fmt_->duration <= 0) return -1;
  return fmt_->duration / static_cast<double>(AV_TIME_BASE);
}

void Demuxer::start(PacketQueue* vq, PacketQueue* aq, PacketQueue* sq) {
  vq_ = vq;
  aq_ = aq;
  sq_ = sq;
  thread_ = std::thread([this] { run(); });
}

void Demuxer::request_seek(double target, int serial, int audio_stream) {
  std::lock_guard<std::mutex> lk(mu_);
  seek_pending_ = true;
  seek_target_ = target;
  seek_serial_ = serial;
  if (audio_stream >= -1) seek_audio_ = audio_stream;
  // Under the lock, so the read thread's clear_interrupt() (also under it) cannot swallow it.
  avio_.interrupt();
  cv_.notify_all();
  // Drop stale packets now; this also frees a read thread blocked on a full queue.
  if (vq_) vq_->flush();
  if (aq_) aq_->flush();
}

void Demuxer::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    avio_.interrupt();
    cv_.notify_all();
  }
  if (vq_) vq_->abort();
  if (aq_) aq_->abort();
  if (sq_) sq_->abort();
  if (thread_.joinable()) thread_.join();
}

void Demuxer::interrupt() {
  std::lock_guard<std::mutex> lk(mu_);
  avio_.interrupt();
  cv_.notify_all();
}

std::string Demuxer::fatal_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return fatal_;
}

void Demuxer::push_flush(int serial, double target) {
  for (PacketQueue* q : {vq_, aq_}) {
    if (!q) continue;
    PacketItem it;
    it.kind = PacketItem::Kind::Flush;
    it.serial = serial;
    it.seek_target = target;
    q->push(std::move(it), 0);
  }
}

// Exact seeking shows the first frame at or after the target. When that frame is itself a
// keyframe (the target lies less than a frame before it), reading from it gives the same
// picture as reading from the keyframe before the target, without decoding a whole GOP first.
// Only where the index holds presentation times (Matroska/WebM; MP4's holds decode times, which
// B-frames put before the pictures they show). Returns the keyframe's timestamp in the video
// stream's time base, or AV_NOPTS_VALUE.
int64_t Demuxer::next_keyframe_within_a_frame(int64_t ts) const {
  if (video_idx_ < 0 || !std::strstr(fmt_->iformat->name, "matroska")) return AV_NOPTS_VALUE;
  AVStream* st = fmt_->streams[video_idx_];
  const AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) return AV_NOPTS_VALUE;
  const int64_t sts = av_rescale_q(ts, AVRational{1, AV_TIME_BASE}, st->time_base);
  const AVIndexEntry* e = avformat_index_get_entry_from_timestamp(st, sts, 0);  // at or after
  if (!e || !(e->flags & AVINDEX_KEYFRAME) || e->timestamp <= sts) return AV_NOPTS_VALUE;
  const double gap = static_cast<double>(e->timestamp - sts) * av_q2d(st->time_base);
  return gap < 0.9 / av_q2d(rate) ? e->timestamp : AV_NOPTS_VALUE;
}

bool Demuxer::do_seek(double target, int serial) {
  serial_ = serial;
  eof_serial_ = -1;
  last_key_ = -1;
  read_until_ = -1;
  read_serial_ = serial;
  if (vq_) vq_->flush();
  if (aq_) aq_->flush();
  if (fmt_->pb) {
    fmt_->pb->eof_reached = 0;
    fmt_->pb->error = 0;
  }
  // Containers with an index (MP4, MKV, WebM) land on the keyframe at or before the target.
  // Without one (MPEG-TS) a timestamp search can land between keyframes, so aim earlier by
  // the longest keyframe interval seen so far and let exact seeking decode forward.
  double aim = target;
  // (A generic index built while reading, or the entries a timestamp search leaves behind,
  // also list frames that are not real keyframes.)
  // (Matroska reads its Cues, so its index may still be empty before the first seek.)
  const bool own_index = !(fmt_->iformat->flags & AVFMT_GENERIC_INDEX) &&
                         !fmt_->iformat->read_timestamp && video_idx_ >= 0 &&
                         (has_indexed_header(fmt_) ||
                          avformat_index_get_entries_count(fmt_->streams[video_idx_]) > 0);
  if (video_idx_ >= 0 && !own_index)
    aim = std::max(0.0, target - (max_gop_ > 0 ? max_gop_ + 0.5 : 5.0));
  int64_t ts = static_cast<int64_t>(std::llround(aim * AV_TIME_BASE));
  if (fmt_->start_time != AV_NOPTS_VALUE) ts += fmt_->start_time;
  int ret = avformat_seek_file(fmt_, -1, INT64_MIN, ts, ts, 0);
  const bool exact = exact_seeks_ || !own_index;
  // (Matroska reads its Cues at the first seek: look for the keyframe after that.)
  const int64_t key =
      ret >= 0 && own_index && exact ? next_keyframe_within_a_frame(ts) : AV_NOPTS_VALUE;
  if (key != AV_NOPTS_VALUE) avformat_seek_file(fmt_, video_idx_, INT64_MIN, key, key, 0);
  if (ret < 0 && !avio_.interrupted()) {
    // Some demuxers cannot find a keyframe at or before ts; accept the nearest one instead.
    ret = avformat_seek_file(fmt_, -1, INT64_MIN, ts, INT64_MAX, 0);
  }
  if (ret < 0 && avio_.interrupted()) return false;
  src_->prefetch(0, 0);  // a hint of where this seek would read is spent
  push_flush(serial, exact ? target : -1);
  return true;
}

void Demuxer::run() {
  PacketPtr pkt(av_packet_alloc());
  push_flush(serial_, -1);
  for (;;) {
    bool seek = false;
    double target = 0;
    int serial = 0;
    int switch_audio = -2;
    {
      std::unique_lock<std::mutex> lk(mu_);
      // Idle at the end of the input, or after an interrupt that brought no seek (quitting).
      while (!stop_ && !seek_pending_ && (eof_serial_.load() == serial_ || avio_.interrupted()))
        cv_.wait(lk);
      if (stop_) return;
      if (seek_pending_) {
        seek = true;
        seek_pending_ = false;
        target = seek_target_;
        serial = seek_serial_;
        switch_audio = seek_audio_;
        seek_audio_ = -2;
        avio_.clear_interrupt();
      }
    }
    if (switch_audio >= -1) {
      audio_idx_ = switch_audio;
      apply_discard();
    }
    if (seek) {
      // An interrupted seek is retried with the newest request on the next turn.
      do_seek(target, serial);
      continue;
    }

    int ret = av_read_frame(fmt_, pkt.get());
    if (ret < 0) {
      if (avio_.interrupted()) continue;  // a seek or stop is pending; the loop handles it
      if (ret != AVERROR_EOF && !avio_feof(fmt_->pb)) {
        std::lock_guard<std::mutex> lk(mu_);
        fatal_ = "reading the media failed (" + av_err(ret) + ")";
      }
      for (PacketQueue* q : {vq_, aq_}) {
        if (!q) continue;
        PacketItem it;
        it.kind = PacketItem::Kind::Eof;
        it.serial = serial_;
        q->push(std::move(it), 0);
      }
      eof_serial_ = serial_;
      continue;
    }
    if (pkt->stream_index == video_idx_ && (pkt->flags & AV_PKT_FLAG_KEY) &&
        pkt->pts != AV_NOPTS_VALUE) {
      double t = pkt->pts * av_q2d(fmt_->streams[video_idx_]->time_base);
      if (last_key_ >= 0 && t > last_key_ && t - last_key_ < 30) max_gop_ = std::max(max_gop_, t - last_key_);
      last_key_ = t;
    }
    PacketQueue* q = nullptr;
    const int audio_idx = audio_idx_.load();
    if (pkt->stream_index == video_idx_) q = vq_;
    else if (pkt->stream_index == audio_idx) q = aq_;
    else if (fmt_->streams[pkt->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE) q = sq_;
    if (q && q != sq_ && pkt->pts != AV_NOPTS_VALUE) {
      const double t = pkt->pts * av_q2d(fmt_->streams[pkt->stream_index]->time_base) - start_offset();
      if (read_serial_.load() != serial_) {
        read_serial_ = serial_;
        read_until_ = t;
      } else if (t > read_until_.load()) {
        read_until_ = t;
      }
    }
    if (!q) {
      av_packet_unref(pkt.get());
      continue;
    }
    PacketItem it;
    it.serial = serial_;
    size_t bytes = static_cast<size_t>(pkt->size) + sizeof(AVPacket);
    it.pkt.reset(av_packet_alloc());
    av_packet_move_ref(it.pkt.get(), pkt.get());
    q->push(std::move(it), bytes);
  }
}

}  // namespace player
