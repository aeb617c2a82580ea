#pragma once

// Loudness measurement and normalisation after ITU-R BS.1770-4 / EBU R128 (libebur128).

#include <torch/types.h>

namespace mudit::audio {

/// Loudness normalisation settings.
struct LoudnessConfig {
  /// Integrated loudness to reach, in LUFS (-14 is what streaming services play at; EBU R128
  /// broadcast uses -23).
  double target_lufs = -14.0;
  /// The highest peak the normalised audio may reach, in dBFS. When reaching the target would
  /// push a peak above it, the gain is lowered so the peak sits at the ceiling: the result is
  /// quieter than the target but never clips.
  double peak_ceiling_db = -1.0;
  /// Measure peaks as true peaks (4x oversampled, catching inter-sample peaks that a DAC or a
  /// lossy encoder would clip) instead of sample peaks.
  bool true_peak = true;

  template <class V>
  void visit(V& v) {
    v("target_lufs", target_lufs);
    v("peak_ceiling_db", peak_ceiling_db);
    v("true_peak", true_peak);
  }
  void validate() const;
};

/// Loudness and peak of a signal.
struct LoudnessStats {
  /// Integrated (gated) loudness in LUFS; -infinity for silence or audio shorter than one
  /// 400 ms gating block.
  double integrated_lufs = 0;
  /// The largest absolute sample value (linear, 1.0 = full scale).
  double sample_peak = 0;
  /// The largest true peak (linear); equals sample_peak when not measured.
  double true_peak = 0;
};

/// Measures samples [C, T] at `sample_rate`. Channels are weighted as BS.1770 defines for the
/// usual layouts (L, R, C, LFE ignored, Ls, Rs); a mono signal counts as one channel, so a
/// full-scale 997 Hz sine measures -3.01 LUFS in mono and 0.0 LUFS on both stereo channels.
LoudnessStats measure_loudness(const torch::Tensor& samples, int sample_rate,
                               bool true_peak = false);

/// What normalize_loudness() did.
struct NormalizeResult {
  torch::Tensor samples;      ///< [C, T] float32
  double gain_db = 0;         ///< gain applied
  double input_lufs = 0;      ///< loudness before
  double output_lufs = 0;     ///< loudness after (input_lufs + gain_db)
  bool peak_limited = false;  ///< the peak ceiling lowered the gain below the target's
};

/// Scales samples [C, T] to config.target_lufs, lowering the gain where needed so the peak
/// stays at or below config.peak_ceiling_db. Silence (loudness -infinity) is returned unchanged
/// with a gain of 0 dB.
NormalizeResult normalize_loudness(const torch::Tensor& samples, int sample_rate,
                                   const LoudnessConfig& config = {});

}  // namespace mudit::audio
