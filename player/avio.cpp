#include "player/avio.h"

#include <cstdio>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace player {

namespace {
constexpr int kBufferSize = 64 * 1024;
}

AvioSource::AvioSource(streaming::ByteSource* src) : src_(src) {
  auto* buf = static_cast<unsigned char*>(av_malloc(kBufferSize));
  ctx_ = avio_alloc_context(buf, kBufferSize, 0, this, &AvioSource::read_cb, nullptr,
                            &AvioSource::seek_cb);
  if (ctx_) ctx_->seekable = src_->size() >= 0 ? AVIO_SEEKABLE_NORMAL : 0;
}

AvioSource::~AvioSource() {
  if (ctx_) {
    av_freep(&ctx_->buffer);
    avio_context_free(&ctx_);
  }
}

AVIOInterruptCB AvioSource::interrupt_callback() {
  AVIOInterruptCB cb;
  cb.callback = &AvioSource::interrupt_cb;
  cb.opaque = this;
  return cb;
}

void AvioSource::interrupt() {
  interrupted_ = true;
  src_->cancel();
}

void AvioSource::clear_interrupt() {
  interrupted_ = false;
  src_->resume();
}

int AvioSource::read_cb(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<AvioSource*>(opaque);
  if (self->interrupted_) return AVERROR_EXIT;
  self->read_pos_ = self->src_->position();
  int64_t n = self->src_->read(buf, static_cast<size_t>(size));
  if (n > 0) {
    self->read_pos_ = self->src_->position();
    return static_cast<int>(n);
  }
  if (n == 0) return AVERROR_EOF;
  if (n == -ECANCELED) return AVERROR_EXIT;
  return AVERROR(static_cast<int>(-n));
}

int64_t AvioSource::seek_cb(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<AvioSource*>(opaque);
  streaming::ByteSource* s = self->src_;
  const int64_t size = s->size();
  if (whence & AVSEEK_SIZE) return size >= 0 ? size : AVERROR(ENOSYS);
  whence &= ~AVSEEK_FORCE;
  int64_t target;
  switch (whence) {
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = s->position() + offset; break;
    case SEEK_END:
      if (size < 0) return AVERROR(ENOSYS);
      target = size + offset;
      break;
    default: return AVERROR(EINVAL);
  }
  // On failure the position stays where it was, so FFmpeg's view remains consistent.
  if (!s->seek(target)) return AVERROR(EINVAL);
  return target;
}

int AvioSource::interrupt_cb(void* opaque) {
  return static_cast<AvioSource*>(opaque)->interrupted_.load() ? 1 : 0;
}

}  // namespace player
