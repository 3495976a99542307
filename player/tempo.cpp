#include "player/tempo.h"

#include <algorithm>
#include <cmath>

namespace player {

Tempo::Tempo(int sample_rate, int channels)
    : rate_(sample_rate),
      channels_(channels),
      stride_(static_cast<size_t>(sample_rate * 0.060)),   // 60 ms windows
      overlap_(static_cast<size_t>(sample_rate * 0.012)),  // cross-faded over 12 ms
      search_(static_cast<size_t>(sample_rate * 0.014)) {  // aligned within +-14 ms
  reset();
}

void Tempo::reset() {
  in_.clear();
  have_pts_ = false;
  nominal_ = 0;
  tail_.assign(overlap_ * channels_, 0.f);
  have_tail_ = false;
}

void Tempo::push(const float* samples, size_t frames, double pts) {
  if (!have_pts_) {
    in_pts_ = pts;
    have_pts_ = true;
  }
  in_.insert(in_.end(), samples, samples + frames * channels_);
}

size_t Tempo::best_offset(size_t nominal) const {
  const size_t lo = nominal > search_ ? nominal - search_ : 0;
  const size_t hi = nominal + search_;
  const size_t ch = static_cast<size_t>(channels_);
  double best = -1e300;
  size_t best_at = nominal;
  // Mono sums keep the search cheap; every other frame is close enough at these rates.
  for (size_t o = lo; o <= hi; ++o) {
    double corr = 0, energy = 1e-9;
    for (size_t k = 0; k < overlap_; k += 2) {
      double a = 0, b = 0;
      for (size_t c = 0; c < ch; ++c) {
        a += tail_[k * ch + c];
        b += in_[(o + k) * ch + c];
      }
      corr += a * b;
      energy += b * b;
    }
    double score = corr / std::sqrt(energy);
    if (score > best) {
      best = score;
      best_at = o;
    }
  }
  return best_at;
}

double Tempo::pull(double speed, std::vector<float>* out) {
  speed = std::clamp(speed, 0.25, 4.0);
  const size_t ch = static_cast<size_t>(channels_);
  double first_pts = NAN;
  for (;;) {
    const size_t frames = in_.size() / ch;
    const size_t nominal = static_cast<size_t>(std::max(0.0, nominal_));
    if (nominal + search_ + stride_ + overlap_ > frames) break;
    const size_t at = have_tail_ ? best_offset(nominal) : nominal;
    if (std::isnan(first_pts)) first_pts = in_pts_ + double(at) / rate_;
    const size_t base = out->size();
    out->resize(base + stride_ * ch);
    float* o = out->data() + base;
    for (size_t k = 0; k < overlap_; ++k) {
      const float w = have_tail_ ? float(k) / float(overlap_) : 1.f;
      for (size_t c = 0; c < ch; ++c)
        o[k * ch + c] = tail_[k * ch + c] * (1.f - w) + in_[(at + k) * ch + c] * w;
    }
    std::copy(in_.begin() + (at + overlap_) * ch, in_.begin() + (at + stride_) * ch, o + overlap_ * ch);
    std::copy(in_.begin() + (at + stride_) * ch, in_.begin() + (at + stride_ + overlap_) * ch, tail_.begin());
    have_tail_ = true;
    nominal_ += double(stride_) * speed;
    // Drop input no later window can reach.
    const double keep_from = nominal_ - double(search_);
    if (keep_from >= 1) {
      const size_t drop = std::min(static_cast<size_t>(keep_from), in_.size() / ch);
      in_.erase(in_.begin(), in_.begin() + drop * ch);
      in_pts_ += double(drop) / rate_;
      nominal_ -= double(drop);
    }
  }
  return first_pts;
}

}  // namespace player
