#pragma once

// Sample-rate conversion with libsoxr.

#include <torch/types.h>

#include <string>

namespace mudit::audio {

/// Resampling settings. `quality` is one of libsoxr's recipes, from fastest to best:
/// "quick" (cubic interpolation), "low" (16-bit, 80% band), "medium" (16-bit, 95% band),
/// "high" (20-bit, 95% band; the default) and "very_high" (28-bit, 95% band).
struct ResampleConfig {
  std::string quality = "high";
  int threads = 1;  ///< libsoxr worker threads per call; 0 lets libsoxr choose

  template <class V>
  void visit(V& v) {
    v("quality", quality);
    v("threads", threads);
  }
  void validate() const;
};

/// Resamples samples [..., T] from `from_rate` to `to_rate` Hz; every leading index is a
/// channel. Returns float32 [..., round(T * to_rate / from_rate)] on the input's device (the
/// work is done on the CPU). Equal rates return the input unchanged. Throws ConfigError for
/// non-positive rates or a bad config.
torch::Tensor resample(const torch::Tensor& samples, int from_rate, int to_rate,
                       const ResampleConfig& config = {});

}  // namespace mudit::audio
