#include "player/subtitles.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

extern "C" {
#include <ass/ass.h>
#include <libavutil/avstring.h>
}

namespace player {

namespace {

const char* const kDefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// A script header for tracks whose decoder gives none (libass needs a style to draw with).
const char* const kFallbackHeader =
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n"
    "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n";

void quiet_messages(int, const char*, va_list, void*) {}

// The part of a decoder's dialogue line after the ReadOrder field: the same line read twice
// (a seek back re-reads it) differs only there.
std::string without_read_order(const std::string& line) {
  size_t comma = line.find(',');
  return comma == std::string::npos ? line : line.substr(comma + 1);
}

// Override tags off, line breaks as newlines.
std::string plain_text(const char* text) {
  std::string out;
  int depth = 0;
  for (const char* p = text; p && *p; ++p) {
    if (*p == '{') {
      ++depth;
    } else if (*p == '}') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      if (*p == '\\' && (p[1] == 'N' || p[1] == 'n')) {
        out += '\n';
        ++p;
      } else if (*p == '\\' && p[1] == 'h') {
        out += ' ';
        ++p;
      } else {
        out += *p;
      }
    }
  }
  return out;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;  // continuation bytes
    if (c < 0x80) n = 0;
    else if ((c >> 5) == 6) n = 1;
    else if ((c >> 4) == 14) n = 2;
    else if ((c >> 3) == 30) n = 3;
    else return false;
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n + 1;
  }
  return true;
}

bool read_file(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out->size() < (64u << 20)) out->append(buf, n);
  std::fclose(f);
  return true;
}

struct MemoryInput {
  const std::string* data;
  size_t pos = 0;
  static int read(void* opaque, uint8_t* buf, int size) {
    auto* m = static_cast<MemoryInput*>(opaque);
    size_t n = std::min(static_cast<size_t>(size), m->data->size() - m->pos);
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buf, m->data->data() + m->pos, n);
    m->pos += n;
    return static_cast<int>(n);
  }
  static int64_t seek(void* opaque, int64_t off, int whence) {
    auto* m = static_cast<MemoryInput*>(opaque);
    const int64_t size = static_cast<int64_t>(m->data->size());
    if (whence & AVSEEK_SIZE) return size;
    int64_t base = (whence & 3) == SEEK_CUR ? static_cast<int64_t>(m->pos) : (whence & 3) == SEEK_END ? size : 0;
    int64_t to = base + off;
    if (to < 0 || to > size) return AVERROR(EINVAL);
    m->pos = static_cast<size_t>(to);
    return to;
  }
};

}  // namespace

bool subtitle_codec_supported(AVCodecID id) {
  const AVCodecDescriptor* d = avcodec_descriptor_get(id);
  if (!d || d->type != AVMEDIA_TYPE_SUBTITLE) return false;
  if (!avcodec_find_decoder(id)) return false;
  return (d->props & (AV_CODEC_PROP_TEXT_SUB | AV_CODEC_PROP_BITMAP_SUB)) != 0;
}

// ---- SubtitleTrack ---------------------------------------------------------------------------

SubtitleTrack::~SubtitleTrack() {
  if (track_) ass_free_track(track_);
}

void SubtitleTrack::add_dialogue(int64_t start_ms, int64_t duration_ms, const std::string& line) {
  if (!track_ || line.empty()) return;
  if (!seen_.insert({start_ms, without_read_order(line)}).second) return;
  std::vector<char> buf(line.begin(), line.end());
  ass_process_chunk(track_, buf.data(), static_cast<int>(buf.size()), start_ms, std::max<int64_t>(1, duration_ms));
}

void SubtitleTrack::add_bitmap(int64_t start_ms, int64_t end_ms, int x, int y, int w, int h,
                               int canvas_w, int canvas_h, std::vector<uint8_t> rgba) {
  for (Bitmap& b : bitmaps_) {
    if (b.start_ms == start_ms && b.x == x && b.y == y) return;  // read again after a seek back
    // An event without an end ends where the next one starts.
    if (b.end_ms == INT64_MAX && b.start_ms < start_ms) b.end_ms = start_ms;
  }
  if (w <= 0 || h <= 0) return;  // a "clear screen" event: it only ends the previous one
  // Pictures are large: keep those nearest to where reading goes on (re-read after a seek).
  constexpr size_t kMaxBitmaps = 128;
  while (bitmaps_.size() >= kMaxBitmaps) {
    auto far = std::max_element(bitmaps_.begin(), bitmaps_.end(), [&](const Bitmap& a, const Bitmap& b) {
      return std::llabs(a.start_ms - start_ms) < std::llabs(b.start_ms - start_ms);
    });
    bitmaps_.erase(far);
  }
  bitmaps_.push_back({start_ms, end_ms, x, y, w, h, canvas_w, canvas_h, std::move(rgba)});
  std::sort(bitmaps_.begin(), bitmaps_.end(),
            [](const Bitmap& a, const Bitmap& b) { return a.start_ms < b.start_ms; });
}

std::vector<std::string> SubtitleTrack::text_at(double seconds) const {
  std::vector<std::string> out;
  const long long ms = std::llround(seconds * 1000);
  if (track_) {
    for (int i = 0; i < track_->n_events; ++i) {
      const ASS_Event& e = track_->events[i];
      if (e.Start <= ms && ms < e.Start + e.Duration) out.push_back(plain_text(e.Text));
    }
  }
  for (const Bitmap& b : bitmaps_)
    if (b.start_ms <= ms && ms < b.end_ms) out.push_back("[image]");
  return out;
}

size_t SubtitleTrack::event_count() const {
  return (track_ ? static_cast<size_t>(track_->n_events) : 0) + bitmaps_.size();
}

// ---- SubtitleEngine --------------------------------------------------------------------------

SubtitleEngine::SubtitleEngine(std::vector<std::pair<std::string, std::string>> fonts) {
  lib_ = ass_library_init();
  if (!lib_) return;
  ass_set_message_cb(lib_, quiet_messages, nullptr);
  for (auto& [name, data] : fonts) {
    std::vector<char> copy(data.begin(), data.end());
    std::vector<char> n(name.begin(), name.end());
    n.push_back('\0');
    ass_add_font(lib_, n.data(), copy.data(), static_cast<int>(copy.size()));
  }
  renderer_ = ass_renderer_init(lib_);
  if (!renderer_) return;
  // Fontconfig may need a while to scan fonts the first time: not on the main thread.
  init_ = std::thread([this] {
    FILE* f = std::fopen(kDefaultFont, "rb");
    const char* def = f ? kDefaultFont : nullptr;
    if (f) std::fclose(f);
    ass_set_fonts(renderer_, def, "sans-serif", ASS_FONTPROVIDER_AUTODETECT, nullptr, 1);
    ready_ = true;
  });
}

SubtitleEngine::~SubtitleEngine() {
  if (init_.joinable()) init_.join();
  if (renderer_) ass_renderer_done(renderer_);
  if (lib_) ass_library_done(lib_);
}

void SubtitleEngine::wait_ready() {
  if (init_.joinable()) init_.join();
}

std::unique_ptr<SubtitleTrack> SubtitleEngine::new_track(const std::string& header) {
  if (!lib_) return nullptr;
  ass_track* t = ass_new_track(lib_);
  if (!t) return nullptr;
  std::string h = header.empty() ? std::string(kFallbackHeader) : header;
  std::vector<char> buf(h.begin(), h.end());
  ass_process_codec_private(t, buf.data(), static_cast<int>(buf.size()));
  ass_set_check_readorder(t, 0);  // duplicates are filtered in add_dialogue()
  return std::unique_ptr<SubtitleTrack>(new SubtitleTrack(t));
}

std::unique_ptr<SubtitleTrack> SubtitleEngine::load(const std::string& name, const std::string& given,
                                                    std::string* error) {
  std::string from_disk;
  if (given.empty() && !read_file(name, &from_disk)) {
    *error = "cannot read subtitles from '" + name + "'";
    return nullptr;
  }
  const std::string& data = given.empty() ? from_disk : given;
  if (data.empty()) {
    *error = "no subtitles in '" + name + "'";
    return nullptr;
  }
  const std::string charenc = valid_utf8(data) ? "" : "CP1252";
  AVFormatContext* fmt = avformat_alloc_context();
  MemoryInput mem{&data};
  auto* iobuf = static_cast<uint8_t*>(av_malloc(16384));
  AVIOContext* io = avio_alloc_context(iobuf, 16384, 0, &mem, &MemoryInput::read, nullptr, &MemoryInput::seek);
  fmt->pb = io;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  auto cleanup = [&] {
    avformat_close_input(&fmt);
    if (io) {
      av_freep(&io->buffer);
      avio_context_free(&io);
    }
  };
  if (avformat_open_input(&fmt, name.c_str(), nullptr, nullptr) < 0) {
    fmt = nullptr;
    cleanup();
    *error = "cannot read subtitles from '" + name + "'";
    return nullptr;
  }
  avformat_find_stream_info(fmt, nullptr);
  int idx = -1;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE) {
      idx = static_cast<int>(i);
      break;
    }
  }
  SubtitleDecoder dec;
  if (idx < 0 || !dec.open(fmt->streams[idx], error, charenc)) {
    if (idx < 0) *error = "no subtitles in '" + name + "'";
    cleanup();
    return nullptr;
  }
  std::unique_ptr<SubtitleTrack> track = new_track(dec.header());
  AVPacket* pkt = av_packet_alloc();
  while (track && av_read_frame(fmt, pkt) >= 0) {
    if (pkt->stream_index == idx) dec.decode(pkt, 0, track.get());
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  cleanup();
  if (!track) *error = "cannot set up libass";
  return track;
}

const RgbaImage& SubtitleEngine::render(SubtitleTrack* track, double t, int fw, int fh, int vw, int vh) {
  auto clear = [&]() -> const RgbaImage& {
    if (!image_.empty()) {
      image_.w = image_.h = 0;
      image_.pixels.clear();
      ++image_.generation;
    }
    last_track_ = track;
    return image_;
  };
  if (!track || fw <= 0 || fh <= 0) return clear();
  const bool resized = fw != frame_w_ || fh != frame_h_ || vw != video_w_ || vh != video_h_;
  const long long ms = std::llround(t * 1000);

  if (track->is_bitmap()) {
    const SubtitleTrack::Bitmap* shown = nullptr;
    for (const auto& b : track->bitmaps_)
      if (b.start_ms <= ms && ms < b.end_ms) shown = &b;
    if (!shown) {
      track->bitmap_key_ = -1;
      return clear();
    }
    if (!resized && track == last_track_ && track->bitmap_key_ == shown->start_ms && !image_.empty())
      return image_;
    const double cw = shown->canvas_w > 0 ? shown->canvas_w : std::max(vw, 1);
    const double ch = shown->canvas_h > 0 ? shown->canvas_h : std::max(vh, 1);
    image_.x = static_cast<int>(shown->x * fw / cw);
    image_.y = static_cast<int>(shown->y * fh / ch);
    image_.w = shown->w;
    image_.h = shown->h;
    image_.dst_w = std::max(1, static_cast<int>(shown->w * fw / cw));
    image_.dst_h = std::max(1, static_cast<int>(shown->h * fh / ch));
    image_.pixels = shown->rgba;
    ++image_.generation;
    track->bitmap_key_ = shown->start_ms;
    last_track_ = track;
    frame_w_ = fw;
    frame_h_ = fh;
    video_w_ = vw;
    video_h_ = vh;
    return image_;
  }

  if (!ready_ || !renderer_) return clear();
  if (resized) {
    // Remembered only once libass has it (it may not be ready on the first calls).
    ass_set_frame_size(renderer_, fw, fh);
    ass_set_storage_size(renderer_, std::max(vw, 1), std::max(vh, 1));
    frame_w_ = fw;
    frame_h_ = fh;
    video_w_ = vw;
    video_h_ = vh;
  }
  int change = 0;
  ASS_Image* img = ass_render_frame(renderer_, track->track_, ms, &change);
  if (track != last_track_ || resized) change = 2;
  last_track_ = track;
  if (change == 0) return image_;
  if (!img) return clear();
  int x0 = INT_MAX, y0 = INT_MAX, x1 = INT_MIN, y1 = INT_MIN;
  for (ASS_Image* i = img; i; i = i->next) {
    if (i->w <= 0 || i->h <= 0) continue;
    x0 = std::min(x0, i->dst_x);
    y0 = std::min(y0, i->dst_y);
    x1 = std::max(x1, i->dst_x + i->w);
    y1 = std::max(y1, i->dst_y + i->h);
  }
  if (x0 >= x1 || y0 >= y1) return clear();
  image_.x = x0;
  image_.y = y0;
  image_.w = image_.dst_w = x1 - x0;
  image_.h = image_.dst_h = y1 - y0;
  image_.pixels.assign(static_cast<size_t>(image_.w) * image_.h * 4, 0);
  for (ASS_Image* i = img; i; i = i->next) {
    const uint32_t c = i->color;
    const int r = c >> 24, g = (c >> 16) & 255, b = (c >> 8) & 255, a = 255 - (c & 255);
    for (int y = 0; y < i->h; ++y) {
      const uint8_t* src = i->bitmap + y * i->stride;
      uint8_t* dst = image_.pixels.data() + ((i->dst_y - y0 + y) * image_.w + (i->dst_x - x0)) * 4;
      for (int x = 0; x < i->w; ++x, dst += 4) {
        const int sa = src[x] * a / 255;
        if (sa == 0) continue;
        const int da = dst[3];
        const int oa = sa + da * (255 - sa) / 255;
        dst[0] = static_cast<uint8_t>((r * sa + dst[0] * da * (255 - sa) / 255) / oa);
        dst[1] = static_cast<uint8_t>((g * sa + dst[1] * da * (255 - sa) / 255) / oa);
        dst[2] = static_cast<uint8_t>((b * sa + dst[2] * da * (255 - sa) / 255) / oa);
        dst[3] = static_cast<uint8_t>(oa);
      }
    }
  }
  ++image_.generation;
  return image_;
}

// ---- SubtitleDecoder -------------------------------------------------------------------------

SubtitleDecoder::~SubtitleDecoder() { avcodec_free_context(&ctx_); }

bool SubtitleDecoder::open(const AVStream* st, std::string* error, const std::string& charenc) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec || !subtitle_codec_supported(st->codecpar->codec_id)) {
    *error = std::string("unsupported subtitle codec '") + avcodec_get_name(st->codecpar->codec_id) + "'";
    return false;
  }
  ctx_ = avcodec_alloc_context3(codec);
  if (!ctx_ || avcodec_parameters_to_context(ctx_, st->codecpar) < 0) {
    *error = "cannot set up the subtitle decoder";
    return false;
  }
  ctx_->pkt_timebase = st->time_base;
  time_base_ = st->time_base;
  if (!charenc.empty()) ctx_->sub_charenc = av_strdup(charenc.c_str());  // FFmpeg converts to UTF-8
  if (avcodec_open2(ctx_, codec, nullptr) < 0) {
    *error = std::string("cannot open the ") + codec->name + " decoder";
    return false;
  }
  return true;
}

std::string SubtitleDecoder::header() const {
  if (!ctx_ || !ctx_->subtitle_header || ctx_->subtitle_header_size <= 0) return {};
  return std::string(reinterpret_cast<const char*>(ctx_->subtitle_header),
                     static_cast<size_t>(ctx_->subtitle_header_size));
}

void SubtitleDecoder::decode(const AVPacket* pkt, double time_offset, SubtitleTrack* track) {
  if (!ctx_ || !track) return;
  AVSubtitle sub;
  int got = 0;
  AVPacket* p = const_cast<AVPacket*>(pkt);
  if (avcodec_decode_subtitle2(ctx_, &sub, &got, p) < 0 || !got) return;
  double start = NAN;
  if (sub.pts != AV_NOPTS_VALUE) start = sub.pts / double(AV_TIME_BASE);
  else if (pkt->pts != AV_NOPTS_VALUE) start = pkt->pts * av_q2d(time_base_);
  if (std::isnan(start)) {
    avsubtitle_free(&sub);
    return;
  }
  const int64_t start_ms = std::llround((start - time_offset) * 1000) + sub.start_display_time;
  int64_t dur_ms = -1;
  if (sub.end_display_time > sub.start_display_time && sub.end_display_time != UINT32_MAX)
    dur_ms = int64_t(sub.end_display_time) - sub.start_display_time;
  else if (pkt->duration > 0)
    dur_ms = std::llround(pkt->duration * av_q2d(time_base_) * 1000);
  const bool bitmap = ctx_->codec_descriptor && (ctx_->codec_descriptor->props & AV_CODEC_PROP_BITMAP_SUB);
  if (bitmap) {
    // An event without rectangles clears the screen (ends the previous picture).
    if (sub.num_rects == 0) track->add_bitmap(start_ms, start_ms, 0, 0, 0, 0, 0, 0, {});
    for (unsigned i = 0; i < sub.num_rects; ++i) {
      const AVSubtitleRect* r = sub.rects[i];
      if (r->type != SUBTITLE_BITMAP || r->w <= 0 || r->h <= 0 || !r->data[0] || !r->data[1]) continue;
      std::vector<uint8_t> rgba(static_cast<size_t>(r->w) * r->h * 4);
      const uint32_t* pal = reinterpret_cast<const uint32_t*>(r->data[1]);
      for (int y = 0; y < r->h; ++y) {
        for (int x = 0; x < r->w; ++x) {
          const uint8_t idx = r->data[0][y * r->linesize[0] + x];
          const uint32_t c = idx < r->nb_colors ? pal[idx] : 0;
          uint8_t* d = &rgba[(static_cast<size_t>(y) * r->w + x) * 4];
          d[0] = (c >> 16) & 255;
          d[1] = (c >> 8) & 255;
          d[2] = c & 255;
          d[3] = c >> 24;
        }
      }
      const int64_t end = dur_ms > 0 ? start_ms + dur_ms : INT64_MAX;
      track->add_bitmap(start_ms, end, r->x, r->y, r->w, r->h, ctx_->width, ctx_->height, std::move(rgba));
    }
  } else {
    for (unsigned i = 0; i < sub.num_rects; ++i) {
      const AVSubtitleRect* r = sub.rects[i];
      if (r->type == SUBTITLE_ASS && r->ass) track->add_dialogue(start_ms, dur_ms > 0 ? dur_ms : 5000, r->ass);
    }
  }
  avsubtitle_free(&sub);
}

}  // namespace player
