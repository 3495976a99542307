#include "player_fixture.h"

#include <cstdio>
#include <fstream>

extern "C" {
#include <libavformat/avformat.h>
}

namespace cine_test {

std::vector<std::string> reference_hashes(const std::string& path) {
  std::vector<std::string> out;
  AVFormatContext* fmt = nullptr;
  REQUIRE(avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) == 0);
  REQUIRE(avformat_find_stream_info(fmt, nullptr) >= 0);
  int vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  REQUIRE(vi >= 0);
  AVStream* st = fmt->streams[vi];
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(ctx, st->codecpar);
  ctx->pkt_timebase = st->time_base;
  REQUIRE(avcodec_open2(ctx, codec, nullptr) == 0);
  double start = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time / double(AV_TIME_BASE) : 0;
  AVPacket* pkt = av_packet_alloc();
  AVFrame* f = av_frame_alloc();
  auto drain = [&] {
    while (avcodec_receive_frame(ctx, f) == 0) {
      int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
      double pts = ts * av_q2d(st->time_base) - start;
      char line[64];
      std::snprintf(line, sizeof line, "%lld %08x", std::llround(pts * 1000),
                    player::frame_checksum(f));
      out.push_back(line);
      av_frame_unref(f);
    }
  };
  while (av_read_frame(fmt, pkt) >= 0) {
    if (pkt->stream_index == vi) {
      avcodec_send_packet(ctx, pkt);
      drain();
    }
    av_packet_unref(pkt);
  }
  avcodec_send_packet(ctx, nullptr);
  drain();
  av_frame_free(&f);
  av_packet_free(&pkt);
  avcodec_free_context(&ctx);
  avformat_close_input(&fmt);
  return out;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace cine_test
