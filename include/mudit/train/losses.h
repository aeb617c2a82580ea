#pragma once

// Reconstruction and regularisation losses of the audio codecs, pure torch (CPU and CUDA,
// differentiable, computed in float32 whatever the input dtype). Waveforms are [B, C, T], [B, T]
// or [T]; channels are folded into the batch. The adversarial losses (LSGAN discriminator and
// generator terms, feature matching) are the HiFi-GAN ones in mudit/models/hifigan.h.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "mudit/audio/features.h"

namespace mudit::train {

/// mean |pred - target| and mean (pred - target)^2.
at::Tensor l1_loss(const at::Tensor& pred, const at::Tensor& target);
at::Tensor l2_loss(const at::Tensor& pred, const at::Tensor& target);

/// L1 between log-mel spectrograms at several STFT sizes, averaged over the scales. Scale i
/// uses n_fft = n_ffts[i], a Hann window of n_fft, hop n_fft * hop_fraction, n_mels[i] HTK
/// bands (no filterbank norm), magnitude (power 1), ln(clamp(mel, log_clamp)).
struct MultiScaleMelLossConfig {
  int64_t sample_rate = 24000;
  std::vector<int64_t> n_ffts{512, 1024, 2048, 4096, 8192};
  std::vector<int64_t> n_mels{32, 64, 128, 256, 512};
  double hop_fraction = 0.25;
  double f_min = 0.0;
  std::optional<double> f_max;  ///< null: sample_rate / 2
  double log_clamp = 1e-5;

  template <class V>
  void visit(V& v) {
    v("sample_rate", sample_rate);
    v("n_ffts", n_ffts);
    v("n_mels", n_mels);
    v("hop_fraction", hop_fraction);
    v("f_min", f_min);
    v("f_max", f_max);
    v("log_clamp", log_clamp);
  }
  void validate() const;
};

class MultiScaleMelLoss {
 public:
  explicit MultiScaleMelLoss(MultiScaleMelLossConfig config = {});
  at::Tensor operator()(const at::Tensor& pred, const at::Tensor& target) const;

 private:
  std::vector<MelSpectrogram> mels_;
};

/// Multi-resolution STFT loss (Yamamoto et al. 2020): per resolution, spectral convergence
/// || |Y| - |Y^| ||_F / || |Y| ||_F (over the whole batch) and mean |log |Y| - log |Y^||
/// (magnitudes clamped at 1e-7), each averaged over the resolutions. Resolution i: n_fft
/// n_ffts[i], hop hops[i], Hann window win_lengths[i] (0: n_fft).
struct MultiResolutionStftConfig {
  std::vector<int64_t> n_ffts{512, 1024, 2048};
  std::vector<int64_t> hops{128, 256, 512};
  std::vector<int64_t> win_lengths{0, 0, 0};

  template <class V>
  void visit(V& v) {
    v("n_ffts", n_ffts);
    v("hops", hops);
    v("win_lengths", win_lengths);
  }
  void validate() const;
};

struct StftLoss {
  at::Tensor spectral_convergence;  ///< []
  at::Tensor log_magnitude;         ///< []
  at::Tensor total() const { return spectral_convergence + log_magnitude; }
};

class MultiResolutionStftLoss {
 public:
  explicit MultiResolutionStftLoss(MultiResolutionStftConfig config = {});
  StftLoss operator()(const at::Tensor& pred, const at::Tensor& target) const;

 private:
  std::vector<StftOptions> resolutions_;
};

/// Scale-invariant signal-to-noise ratio in dB per signal (both made zero-mean; the target
/// scaled onto the prediction's projection): [B * C] for [B, C, T]. The loss is -si_snr().mean().
at::Tensor si_snr(const at::Tensor& pred, const at::Tensor& target, double eps = 1e-8);

/// KL weight with annealing: 0 before start_step, then rising linearly to `weight` over
/// warmup_steps (at once when warmup_steps is 0).
struct KlAnnealConfig {
  double weight = 1e-4;
  int64_t start_step = 0;
  int64_t warmup_steps = 0;

  template <class V>
  void visit(V& v) {
    v("weight", weight);
    v("start_step", start_step);
    v("warmup_steps", warmup_steps);
  }
  void validate() const;
};
double kl_weight(const KlAnnealConfig& config, int64_t step);

}  // namespace mudit::train
