#include "player/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <thread>

extern "C" {
#include <libavutil/adler32.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace player {

Decoder::~Decoder() {
  stop();
  avcodec_free_context(&ctx_);
  av_frame_free(&frame_);
}

bool Decoder::open(AVFormatContext* fmt, int index, std::string* error) {
  stream_ = fmt->streams[index];
  const AVCodec* codec = avcodec_find_decoder(stream_->codecpar->codec_id);
  if (!codec) {
    *error = std::string("no decoder for codec '") + avcodec_get_name(stream_->codecpar->codec_id) +
             "'";
    return false;
  }
  if (!open_context(wanted_threads())) {
    *error = std::string("cannot open the ") + codec->name + " decoder";
    return false;
  }
  frame_ = av_frame_alloc();
  if (fmt->start_time != AV_NOPTS_VALUE) start_offset_ = fmt->start_time / double(AV_TIME_BASE);
  return true;
}

namespace {
// One thread per core, at most 16; 0 (libavcodec's own pick) when the count is unknown.
int threads_for_cores(unsigned cores) { return cores > 0 ? int(std::min(cores, 16u)) : 0; }
// hardware_concurrency() reads /sys each time; the decoders ask at every seek and keyframe.
unsigned cpu_cores() {
  static const unsigned cores = std::thread::hardware_concurrency();
  return cores;
}
}  // namespace

int Decoder::all_cores_threads() { return threads_for_cores(cpu_cores()); }

int video_decode_threads(int width, int height, double fps, unsigned cores) {
  const int all = threads_for_cores(cores);
  if (width <= 0 || height <= 0) return all;
  if (!(fps > 0 && fps < 1000)) fps = 25;
  return double(width) * height * fps <= 1920.0 * 1088 * 30 ? 1 : all;
}

namespace {
// What the frame queue counts for a picture of this size: 8-bit 4:2:0, 1.5 bytes a pixel.
int64_t picture_bytes(int width, int height) {
  return int64_t(std::max(width, 0)) * std::max(height, 0) * 3 / 2;
}
}  // namespace

FrameQueueShape video_frame_queue_shape(int width, int height) {
  FrameQueueShape q;
  const int64_t picture = picture_bytes(width, height);
  if (picture <= 0) return q;
  const int64_t fit = (int64_t(48) << 20) / picture;
  q.frames = int(std::clamp<int64_t>(fit, 6, 14));
  q.refill_at = q.frames > 6 ? 4 : q.frames - 1;
  return q;
}

// (Re)creates the codec context from the stream parameters with `threads` threads. Used at
// open, at a seek, and at a keyframe after the old context was drained.
bool Decoder::open_context(int threads) {
  AVCodecContext* ctx = new_context(threads);
  if (!ctx) return false;
  avcodec_free_context(&ctx_);
  ctx_ = ctx;
  threads_ = threads;
  return true;
}

AVCodecContext* Decoder::new_context(int threads) const {
  const AVCodec* codec = avcodec_find_decoder(stream_->codecpar->codec_id);
  AVCodecContext* ctx = codec ? avcodec_alloc_context3(codec) : nullptr;
  if (!ctx || avcodec_parameters_to_context(ctx, stream_->codecpar) < 0) {
    avcodec_free_context(&ctx);
    return nullptr;
  }
  ctx->pkt_timebase = stream_->time_base;
  // Not libavcodec's own pick (cores + 1): that decodes no faster where a player needs only
  // real time, spends more CPU on handing frames between threads (1080p H.264 on 2 cores:
  // 5.0 s instead of 4.0 s of CPU for 20 s of video), and every frame thread holds the first
  // picture after a seek back by one more packet.
  ctx->thread_count = threads;
  if (avcodec_open2(ctx, codec, nullptr) < 0) avcodec_free_context(&ctx);
  return ctx;
}

double Decoder::packet_time(const AVPacket* p) const {
  if (p->pts == AV_NOPTS_VALUE) return NAN;
  return p->pts * av_q2d(stream_->time_base) - start_offset_;
}

void Decoder::start(PacketQueue* in, const std::atomic<int>* wanted_serial) {
  in_ = in;
  wanted_serial_ = wanted_serial;
  thread_ = std::thread([this] { run(); });
}

void Decoder::stop() {
  if (thread_.joinable()) thread_.join();
}

void Decoder::request_stop() {
  stop_requested_ = true;
  if (in_) in_->wake();
}

double Decoder::frame_time(const AVFrame* f) const {
  int64_t ts = f->best_effort_timestamp;
  if (ts == AV_NOPTS_VALUE) ts = f->pts;
  if (ts == AV_NOPTS_VALUE) return NAN;
  return ts * av_q2d(stream_->time_base) - start_offset_;
}

bool Decoder::drain_frames(int serial, double target) {
  for (;;) {
    int ret = avcodec_receive_frame(ctx_, frame_);
    if (ret < 0) return true;  // EAGAIN, EOF or a decode error: nothing more for now
    bool ok = true;
    if (wanted_serial_->load() == serial) ok = on_frame(frame_, serial, target);
    av_frame_unref(frame_);
    if (!ok) return false;
  }
}

void Decoder::run() {
  int serial = -1;
  double target = -1;
  for (;;) {
    if (stop_requested_) return;
    std::optional<PacketItem> item = in_->pop();
    if (!item) {
      if (in_->aborted()) return;
      continue;
    }
    switch (item->kind) {
      case PacketItem::Kind::Flush:
        // A seek restarts decoding at a keyframe: the moment to change the thread count.
        if (const int want = wanted_threads(); want == threads_.load() || !open_context(want)) {
          avcodec_flush_buffers(ctx_);
        }
        serial = item->serial;
        target = item->seek_target;
        first_of_serial_ = true;
        on_flush();
        break;
      case PacketItem::Kind::Eof:
        if (item->serial != serial) break;
        avcodec_send_packet(ctx_, nullptr);
        if (!drain_frames(serial, target)) return;
        if (auto* vd = dynamic_cast<VideoDecoder*>(this)) {
          if (!vd->flush_last_dropped(serial)) return;
        }
        avcodec_flush_buffers(ctx_);
        finished_serial_ = serial;
        break;
      case PacketItem::Kind::Data: {
        if (item->serial != serial || wanted_serial_->load() != serial) break;
        if (first_of_serial_) {
          first_of_serial_ = false;
          if (!on_first_packet(item->pkt.get(), serial, target)) return;
        }
        // A keyframe is where the thread count can change: let the old context give up the
        // frames it holds, then decode on from here with the new one. (In an open GOP the few
        // frames after the keyframe that refer back past it are lost: a one-time glitch, where
        // a decoder too slow for real time would stutter for good.)
        if (item->pkt->flags & AV_PKT_FLAG_KEY) {
          if (const int want = wanted_threads(); want != threads_.load()) {
            avcodec_send_packet(ctx_, nullptr);
            if (!drain_frames(serial, target)) return;
            if (!open_context(want)) avcodec_flush_buffers(ctx_);
          }
        }
        before_packet(item->pkt.get(), target);
        int ret = avcodec_send_packet(ctx_, item->pkt.get());
        while (ret == AVERROR(EAGAIN)) {
          if (!drain_frames(serial, target)) return;
          ret = avcodec_send_packet(ctx_, item->pkt.get());
        }
        // Other errors are damaged packets: skip them and keep going, as players do.
        if (!drain_frames(serial, target)) return;
        after_packet();
        break;
      }
    }
  }
}

uint32_t frame_checksum(const AVFrame* f) {
  unsigned long sum = 1;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
  if (!d) return 0;
  int planes = av_pix_fmt_count_planes(static_cast<AVPixelFormat>(f->format));
  for (int p = 0; p < planes; ++p) {
    int w = av_image_get_linesize(static_cast<AVPixelFormat>(f->format), f->width, p);
    int h = f->height;
    if (p > 0 && p < 3 && !(d->flags & AV_PIX_FMT_FLAG_RGB)) h = AV_CEIL_RSHIFT(f->height, d->log2_chroma_h);
    for (int y = 0; y < h; ++y) sum = av_adler32_update(sum, f->data[p] + y * f->linesize[p], w);
  }
  return static_cast<uint32_t>(sum);
}

// ---------------------------------------------------------------------------------------------

VideoDecoder::~VideoDecoder() { stop(); }

double VideoDecoder::frame_rate() const {
  AVRational r = stream_->avg_frame_rate.num ? stream_->avg_frame_rate : stream_->r_frame_rate;
  double fps = r.num && r.den ? av_q2d(r) : 0;
  return fps > 0 && fps < 1000 ? fps : 25.0;
}

int VideoDecoder::wanted_threads() const {
  if (too_slow_) return all_cores_threads();
  return video_decode_threads(stream_->codecpar->width, stream_->codecpar->height, frame_rate(),
                              cpu_cores());
}

void VideoDecoder::on_flush() {
  output_any_ = false;
  last_dropped_.reset();
  preview_pts_ = NAN;
}

// Whether this stream's pictures come out of the decoder later than their packets go in
// (B-frames: H.264, HEVC, MPEG-2/4, VC-1). Until the codec contexts have given out enough frames
// to know, a codec that can reorder is taken to.
bool VideoDecoder::reorders() const {
  switch (stream_->codecpar->codec_id) {
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_HEVC:
    case AV_CODEC_ID_MPEG2VIDEO:
    case AV_CODEC_ID_MPEG4:
    case AV_CODEC_ID_VC1:
      return frames_seen_ < 60 || max_b_frames_ > 0;
    default:
      return false;
  }
}

// A decoder that reorders gives the keyframe out only once the packets after it have arrived
// and been decoded (has_b_frames of them): 1080p H.264 here, 42 ms for the keyframe and 45 ms
// more for the two packets behind it, and after a seek into the swarm, the wait for their bytes
// besides. When the keyframe is what will be shown first, a throwaway single-threaded context
// decodes it alone and drains at once, and the picture goes out; the codec context then decodes
// it again as the reference for what follows, and its own output up to that picture is dropped.
bool VideoDecoder::on_first_packet(const AVPacket* pkt, int serial, double seek_target) {
  if (!(pkt->flags & AV_PKT_FLAG_KEY) || !reorders()) return true;
  const double t = packet_time(pkt);
  if (seek_target >= 0 && !(t + 0.001 >= seek_target)) return true;  // exact seek past it (or no pts)
  AVCodecContext* ctx = new_context(1);
  AVFrame* f = av_frame_alloc();
  bool ok = true;
  if (ctx && f && avcodec_send_packet(ctx, pkt) >= 0 && avcodec_send_packet(ctx, nullptr) >= 0 &&
      avcodec_receive_frame(ctx, f) >= 0 && f->key_frame && !f->decode_error_flags) {
    const double pts = frame_time(f);
    if (!std::isnan(pts)) {
      ok = present(f, serial, seek_target);
      preview_pts_ = pts;
    }
  }
  av_frame_free(&f);
  avcodec_free_context(&ctx);
  return ok;
}

// Exact seek: the frames before the target are decoded only to reach it, so frames nothing
// refers to are skipped there (mpv's hr-seek-framedrop); the pictures shown are the same.
void VideoDecoder::before_packet(const AVPacket* pkt, double seek_target) {
  const double t = packet_time(pkt);
  const bool before_target = seek_target >= 0 && !output_any_ && !std::isnan(t) &&
                             t + 0.001 < seek_target;
  ctx_->skip_frame = before_target ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
  measuring_ = threads() == 1 && !too_slow_;
  if (measuring_) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cost_from_);
}

// Single-threaded, all the decoding runs on this thread: its CPU time for the packet is the cost.
void VideoDecoder::after_packet() {
  if (!measuring_) return;
  timespec to{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &to);
  const double cpu_seconds =
      double(to.tv_sec - cost_from_.tv_sec) + (to.tv_nsec - cost_from_.tv_nsec) / 1e9;
  cost_avg_ = cost_samples_ == 0 ? cpu_seconds : cost_avg_ + (cpu_seconds - cost_avg_) / 16;
  if (++cost_samples_ >= 30 && cost_avg_ > slow_fraction_ / frame_rate()) too_slow_ = true;
}

bool VideoDecoder::on_frame(AVFrame* frame, int serial, double seek_target) {
  ++frames_seen_;
  max_b_frames_ = std::max(max_b_frames_, ctx_->has_b_frames);
  if (!std::isnan(preview_pts_)) {
    const double pts = frame_time(frame);
    if (std::isnan(pts) || pts < preview_pts_ + 0.5 / frame_rate()) return true;  // shown already
    preview_pts_ = NAN;
  }
  return present(frame, serial, seek_target);
}

bool VideoDecoder::present(AVFrame* frame, int serial, double seek_target) {
  last_serial_ = serial;  // (on_flush reset the rest when this serial's Flush came)
  double pts = frame_time(frame);
  double dur = 1.0 / frame_rate();
  if (seek_target >= 0 && !output_any_ && !std::isnan(pts) && pts + 0.001 < seek_target) {
    last_dropped_.reset(av_frame_clone(frame));  // exact seek: decode forward, show nothing yet
    return true;
  }
  if (hash_file_) {
    std::fprintf(hash_file_, "%lld %08x\n", std::llround(pts * 1000), frame_checksum(frame));
  }
  output_any_ = true;
  last_dropped_.reset();
  VideoFrame vf;
  vf.frame.reset(av_frame_clone(frame));
  vf.pts = pts;
  vf.duration = dur;
  vf.serial = serial;
  vf.pos = frame->pkt_pos;
  vf.key = frame->key_frame != 0;
  return out_->push(std::move(vf), size_t(picture_bytes(frame->width, frame->height)));
}

bool VideoDecoder::flush_last_dropped(int serial) {
  if (output_any_ || !last_dropped_ || serial != last_serial_) return true;
  FramePtr f = std::move(last_dropped_);
  return present(f.get(), serial, -1);
}

// ---------------------------------------------------------------------------------------------

AudioDecoder::~AudioDecoder() {
  stop();
  swr_free(&swr_);
  av_channel_layout_uninit(&swr_in_layout_);
}

void AudioDecoder::on_flush() {
  next_pts_ = NAN;
  tempo_active_ = false;
}

bool AudioDecoder::on_frame(AVFrame* frame, int serial, double seek_target) {
  if (!swr_ || frame->sample_rate != swr_in_rate_ || frame->format != swr_in_fmt_ ||
      av_channel_layout_compare(&frame->ch_layout, &swr_in_layout_) != 0) {
    swr_free(&swr_);
    AVChannelLayout out_layout{};
    av_channel_layout_default(&out_layout, fmt_.channels);
    AVChannelLayout in_layout{};  // zeroed: av_channel_layout_copy frees what dst holds
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame->ch_layout.nb_channels == 0)
      av_channel_layout_default(&in_layout, frame->ch_layout.nb_channels ? frame->ch_layout.nb_channels : 2);
    else
      av_channel_layout_copy(&in_layout, &frame->ch_layout);
    int ret = swr_alloc_set_opts2(&swr_, &out_layout, fmt_.sample_fmt, fmt_.sample_rate,
                                  &in_layout, static_cast<AVSampleFormat>(frame->format),
                                  frame->sample_rate, 0, nullptr);
    if (ret < 0 || swr_init(swr_) < 0) {
      swr_free(&swr_);
      av_channel_layout_uninit(&in_layout);
      return true;  // unsupported layout: skip audio rather than stop playback
    }
    swr_in_rate_ = frame->sample_rate;
    swr_in_fmt_ = frame->format;
    av_channel_layout_uninit(&swr_in_layout_);
    av_channel_layout_copy(&swr_in_layout_, &frame->ch_layout);
    av_channel_layout_uninit(&in_layout);
  }
  double pts = frame_time(frame);
  if (std::isnan(pts)) pts = next_pts_;
  if (std::isnan(pts)) pts = 0;
  next_pts_ = pts + static_cast<double>(frame->nb_samples) / frame->sample_rate;

  int max_out = swr_get_out_samples(swr_, frame->nb_samples);
  if (max_out <= 0) return true;
  AudioChunk chunk;
  chunk.serial = serial;
  chunk.data.resize(static_cast<size_t>(max_out) * fmt_.bytes_per_frame());
  uint8_t* out = chunk.data.data();
  int n = swr_convert(swr_, &out, max_out, const_cast<const uint8_t**>(frame->extended_data),
                      frame->nb_samples);
  if (n <= 0) return true;
  chunk.data.resize(static_cast<size_t>(n) * fmt_.bytes_per_frame());
  // Samples still inside the resampler belong before these ones.
  chunk.pts = pts - static_cast<double>(swr_get_delay(swr_, fmt_.sample_rate)) / fmt_.sample_rate;
  if (seek_target >= 0) {
    double end = chunk.pts + static_cast<double>(n) / fmt_.sample_rate;
    if (end <= seek_target) return true;
    if (chunk.pts < seek_target) {
      size_t skip = static_cast<size_t>((seek_target - chunk.pts) * fmt_.sample_rate);
      skip = std::min(skip, static_cast<size_t>(n)) * fmt_.bytes_per_frame();
      chunk.data.erase(chunk.data.begin(), chunk.data.begin() + skip);
      chunk.pts = seek_target;
    }
  }
  if (chunk.data.empty()) return true;
  const double speed = speed_.load();
  if ((speed != 1.0 || tempo_active_) && fmt_.sample_fmt == AV_SAMPLE_FMT_FLT) {
    if (speed == 1.0) {
      tempo_active_ = false;  // back to normal: what the stretcher still holds is dropped
    } else {
      if (!tempo_) tempo_ = std::make_unique<Tempo>(fmt_.sample_rate, fmt_.channels);
      if (!tempo_active_) tempo_->reset();
      tempo_active_ = true;
      tempo_->push(reinterpret_cast<const float*>(chunk.data.data()),
                   chunk.data.size() / fmt_.bytes_per_frame(), chunk.pts);
      std::vector<float> out;
      const double p = tempo_->pull(speed, &out);
      if (out.empty()) return true;
      chunk.data.assign(reinterpret_cast<const uint8_t*>(out.data()),
                        reinterpret_cast<const uint8_t*>(out.data() + out.size()));
      chunk.pts = p;
      chunk.speed = speed;
    }
  }
  if (tap_) tap_(chunk);
  size_t bytes = chunk.data.size();
  return out_->push(std::move(chunk), bytes);
}

}  // namespace player
