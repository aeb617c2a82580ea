#pragma once

// Griffin-Lim phase reconstruction: a magnitude spectrogram (or a log-mel of a MelConfig
// recipe) back to a waveform, with no trained weights. The fast variant of Perraudin, Balazs and
// Søndergaard (2013): each iteration projects onto consistent spectrograms (istft, then stft),
// keeps the phase and extrapolates it by `momentum` (0: the original Griffin and Lim, 1984).
// A mel is first brought back to linear frequency by the filterbank's pseudo-inverse, clipped at
// zero. It keeps pitch and onsets where a briefly trained neural vocoder loses them, at the cost
// of a phasey timbre; the codecs use it as a training-free vocoder ("griffin_lim").
//
//   const at::Tensor wav = griffin_lim_from_log_mel(log_mel, MelConfig::mudit_24k(), {});

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

#include "mudit/audio/features.h"

namespace mudit {

struct GriffinLimConfig {
  int64_t iterations = 32;
  double momentum = 0.99;  ///< 0 <= momentum < 2; 0.99 as the fast variant suggests
  uint64_t seed = 0;       ///< the starting phases (uniform); the same seed, the same audio

  template <class V>
  void visit(V& v) {
    v("iterations", iterations);
    v("momentum", momentum);
    v("seed", seed);
  }
  /// Throws ConfigError naming the field.
  void validate() const;
};

/// Magnitude [B, F, N] or [F, N] (F = n_fft/2 + 1) -> waveform [B, length] or [length].
/// `length` defaults to what istft() gives for N frames.
at::Tensor griffin_lim(const at::Tensor& magnitude, const StftOptions& options,
                       const GriffinLimConfig& config,
                       std::optional<int64_t> length = std::nullopt);

/// A spectrogram of `cfg` ([B, n_mels, N] or [n_mels, N], after cfg.log) -> the linear
/// magnitude [B, n_fft/2 + 1, N] it most plausibly came from: the log undone, the pseudo-inverse
/// of the filterbank, clipped at zero, the power undone. Computed in float64 for a float64 mel,
/// else in float32.
at::Tensor mel_to_magnitude(const at::Tensor& mel, const MelConfig& cfg);

/// A spectrogram of `cfg` -> waveform [B, N * hop] (or [N * hop]), the length a vocoder gives
/// for N frames.
at::Tensor griffin_lim_from_log_mel(const at::Tensor& mel, const MelConfig& cfg,
                                    const GriffinLimConfig& config);

}  // namespace mudit
