// Subtitles: subtitle tracks — embedded text (SRT, ASS/SSA, WebVTT, mov_text) and bitmap (PGS,
// DVD) streams, or external files — decoded with FFmpeg, kept as libass tracks, and rendered at a
// given time into an RGBA image. It draws nothing on screen: the video output blits the image.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

struct ass_library;
struct ass_renderer;
struct ass_track;

namespace player {

// Straight-alpha RGBA pixels (byte order R, G, B, A) placed at (x, y) inside the video's
// rectangle and drawn scaled to dst_w x dst_h. `generation` changes whenever the picture does.
struct RgbaImage {
  int x = 0, y = 0, w = 0, h = 0;
  int dst_w = 0, dst_h = 0;
  std::vector<uint8_t> pixels;
  uint64_t generation = 0;
  bool empty() const { return w <= 0 || h <= 0; }
};

// One track's events. Main thread only (or any single thread).
class SubtitleTrack {
 public:
  ~SubtitleTrack();
  SubtitleTrack(const SubtitleTrack&) = delete;
  SubtitleTrack& operator=(const SubtitleTrack&) = delete;

  // A dialogue line as FFmpeg's decoders emit it ("ReadOrder,Layer,Style,Name,MarginL,MarginR,
  // MarginV,Effect,Text"), shown from start_ms for duration_ms. Lines read twice (after a seek
  // back) are kept once.
  void add_dialogue(int64_t start_ms, int64_t duration_ms, const std::string& line);
  // A bitmap subtitle: RGBA pixels at (x, y) of a canvas_w x canvas_h picture.
  void add_bitmap(int64_t start_ms, int64_t end_ms, int x, int y, int w, int h, int canvas_w,
                  int canvas_h, std::vector<uint8_t> rgba);

  // Plain text of the lines shown at `seconds` (override tags removed), for tests and properties.
  std::vector<std::string> text_at(double seconds) const;
  size_t event_count() const;
  bool is_bitmap() const { return !bitmaps_.empty(); }

 private:
  friend class SubtitleEngine;
  explicit SubtitleTrack(ass_track* t) : track_(t) {}
  struct Bitmap {
    int64_t start_ms, end_ms;
    int x, y, w, h, canvas_w, canvas_h;
    std::vector<uint8_t> rgba;
  };
  ass_track* track_;
  std::set<std::pair<int64_t, std::string>> seen_;
  std::vector<Bitmap> bitmaps_;
  int64_t bitmap_key_ = -1;  // start of the bitmap event last rendered
};

// Owns libass (library + renderer). Font discovery (fontconfig) runs on a thread of its own at
// construction; render() returns no picture until it is done. Main thread only otherwise.
class SubtitleEngine {
 public:
  // fonts: (name, data) of fonts attached to the media (MKV attachments).
  explicit SubtitleEngine(std::vector<std::pair<std::string, std::string>> fonts = {});
  ~SubtitleEngine();
  SubtitleEngine(const SubtitleEngine&) = delete;
  SubtitleEngine& operator=(const SubtitleEngine&) = delete;

  // A new track using an ASS script header (styles); FFmpeg's decoders make one for every format.
  std::unique_ptr<SubtitleTrack> new_track(const std::string& header);
  // Reads a whole subtitle file (any format FFmpeg reads) into a new track. `data` non-empty:
  // the file's bytes (name is then only for messages and format probing). Text that is not
  // UTF-8 is read as Windows-1252.
  std::unique_ptr<SubtitleTrack> load(const std::string& name, const std::string& data,
                                      std::string* error);

  // Waits for font discovery (tests; render() does not wait).
  void wait_ready();
  // The picture of `track` at time t, for a video shown in a frame_w x frame_h rectangle whose
  // pixels are video_w x video_h.
  const RgbaImage& render(SubtitleTrack* track, double t, int frame_w, int frame_h, int video_w,
                          int video_h);

 private:
  ass_library* lib_ = nullptr;
  ass_renderer* renderer_ = nullptr;
  std::thread init_;
  std::atomic<bool> ready_{false};
  RgbaImage image_;
  SubtitleTrack* last_track_ = nullptr;
  int frame_w_ = 0, frame_h_ = 0, video_w_ = 0, video_h_ = 0;
};

// Decodes the packets of one embedded subtitle stream into dialogue lines or bitmaps.
class SubtitleDecoder {
 public:
  ~SubtitleDecoder();
  // charenc: the text's character set when it is not UTF-8 ("" = UTF-8).
  bool open(const AVStream* st, std::string* error, const std::string& charenc = "");
  // ASS header (styles) to create the stream's track with.
  std::string header() const;
  // time_offset: seconds subtracted from packet times (the container's start time).
  void decode(const AVPacket* pkt, double time_offset, SubtitleTrack* track);

 private:
  AVCodecContext* ctx_ = nullptr;
  AVRational time_base_{1, 1000};
};

// True for codecs this module can show.
bool subtitle_codec_supported(AVCodecID id);

}  // namespace player
