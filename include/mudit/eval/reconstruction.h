#pragma once

// How close a reconstruction is to the original: the codec's validation metrics and the
// `reconstruction` group of `mudit eval`. Audio is [C, T] or [B, C, T]; channels and batch are
// folded together and the metric averaged over them.

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "mudit/audio/features.h"

namespace mudit::eval {

/// Mean |log-mel(pred) - log-mel(target)| under `mel` (ln units, as training losses report it).
double mel_l1(const at::Tensor& pred, const at::Tensor& target, const MelConfig& mel);
/// The multi-resolution STFT loss (spectral convergence + log magnitude, resolutions 512, 1024,
/// 2048 with hop n_fft / 4), as a distance: 0 for identical audio.
double mrstft_distance(const at::Tensor& pred, const at::Tensor& target);
/// Scale-invariant SDR in dB, the mean over signals (higher is better; identical audio gives
/// about 80 dB, the limit of the 1e-8 guard).
double si_sdr(const at::Tensor& pred, const at::Tensor& target);
/// Log-spectral distance in dB: per frame sqrt(mean over bins of (10 log10(P / P^))^2) with
/// P = |STFT|^2 + 1e-10 (n_fft 2048, hop 512), the mean over frames.
double log_spectral_distance(const at::Tensor& pred, const at::Tensor& target);

struct ReconstructionMetrics {
  double mel_l1 = 0;
  double mrstft = 0;
  double si_sdr = 0;
  double lsd = 0;
  /// {"mel_l1": ..., "mrstft": ..., "si_sdr": ..., "lsd": ...}
  std::map<std::string, double> to_map() const;
};

/// Every metric above; `pred` is cut or zero-padded to the target's length first.
ReconstructionMetrics reconstruction_metrics(const at::Tensor& pred, const at::Tensor& target,
                                             const MelConfig& mel);

}  // namespace mudit::eval
