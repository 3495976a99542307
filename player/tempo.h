// Tempo: changes the playback speed of interleaved float audio without changing its pitch
// (WSOLA: overlapping windows re-spaced in time, each aligned to the best-matching offset).
// It does not resample and knows nothing of clocks beyond the media time it is told.
#pragma once

#include <cstddef>
#include <vector>

namespace player {

// Single-threaded: used by the audio decoder thread only.
class Tempo {
 public:
  Tempo(int sample_rate, int channels);

  // Forgets buffered audio (after a seek).
  void reset();
  // New input; `pts` is the media time of its first sample (used after reset only).
  void push(const float* samples, size_t frames, double pts);
  // Produces as much output as the buffered input allows at `speed` (0.25..4). Appends the
  // samples to *out and returns the media time of the first appended sample (NAN if none).
  double pull(double speed, std::vector<float>* out);

 private:
  size_t best_offset(size_t nominal) const;

  const int rate_, channels_;
  const size_t stride_, overlap_, search_;
  std::vector<float> in_;        // buffered input, interleaved
  double in_pts_ = 0;            // media time of in_[0]
  bool have_pts_ = false;
  double nominal_ = 0;           // frames into in_ where the next window should start
  std::vector<float> tail_;      // what followed the last window in the input (overlap frames)
  bool have_tail_ = false;
};

}  // namespace player
