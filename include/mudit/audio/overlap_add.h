#pragma once

// Processing a long signal in windows that overlap, blended back with linear cross-fades: what
// keeps chunked encode, decode and vocoding in memory bounded by the window, not the song.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace mudit {

/// How a long input is cut: windows of `window` units whose neighbours share `overlap` units.
struct OverlapAddPlan {
  int64_t units = 0;    ///< input length (samples, frames, ...)
  int64_t window = 0;   ///< units per window (>= 1)
  int64_t overlap = 0;  ///< units shared by neighbouring windows (0 <= overlap < window)
  /// Output columns per input unit (1 when input and output run at one rate; the hop when
  /// frames become samples).
  int64_t out_per_unit = 1;
  /// Throws ConfigError for sizes that do not fit.
  void validate() const;
  /// Number of windows.
  int64_t count() const;
};

/// Runs `fn(start, length)` on windows [start, start + length) of the input (window k starts at
/// k * (window - overlap); the last ends at `units`). Each call returns [C, length *
/// out_per_unit] (any device and float dtype). Outputs are summed into a float32 CPU tensor
/// [C, units * out_per_unit] with weights that ramp linearly across each overlap (the two
/// ramps sum to 1; the first window has no rising ramp, the last no falling one). A single
/// window returns its output unchanged. `progress(done, count)` is called after each window.
at::Tensor overlap_add(const OverlapAddPlan& plan,
                       const std::function<at::Tensor(int64_t start, int64_t length)>& fn,
                       const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mudit
