#include "mudit/train/losses.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "mudit/core/error.h"

namespace mudit::train {
namespace {

// [B, C, T], [B, T] or [T] -> float32 [N, T].
at::Tensor as_rows(const at::Tensor& x) {
  MUDIT_CHECK(x.dim() >= 1 && x.dim() <= 3, ShapeError,
              "audio loss expects [B, C, T], [B, T] or [T], got ", x.sizes());
  return x.to(at::kFloat).reshape({-1, x.size(-1)});
}

void check_pair(const at::Tensor& pred, const at::Tensor& target, const char* what) {
  MUDIT_CHECK(pred.sizes() == target.sizes(), ShapeError, what, ": prediction ", pred.sizes(),
              " and target ", target.sizes(), " differ in shape");
}

}  // namespace

at::Tensor l1_loss(const at::Tensor& pred, const at::Tensor& target) {
  check_pair(pred, target, "l1 loss");
  return (pred.to(at::kFloat) - target.to(at::kFloat)).abs().mean();
}

at::Tensor l2_loss(const at::Tensor& pred, const at::Tensor& target) {
  check_pair(pred, target, "l2 loss");
  return (pred.to(at::kFloat) - target.to(at::kFloat)).pow(2).mean();
}

// --- multi-scale mel ------------------------------------------------------------------------

void MultiScaleMelLossConfig::validate() const {
  MUDIT_CHECK(sample_rate > 0, ConfigError, "mel loss sample_rate must be positive");
  MUDIT_CHECK(!n_ffts.empty() && n_ffts.size() == n_mels.size(), ConfigError, "mel loss n_ffts (",
              n_ffts.size(), ") and n_mels (", n_mels.size(),
              ") must be non-empty and of equal length");
  MUDIT_CHECK(hop_fraction > 0 && hop_fraction <= 1, ConfigError,
              "mel loss hop_fraction must be in (0, 1]");
  MUDIT_CHECK(log_clamp > 0, ConfigError, "mel loss log_clamp must be positive");
}

MultiScaleMelLoss::MultiScaleMelLoss(MultiScaleMelLossConfig config) {
  config.validate();
  for (size_t i = 0; i < config.n_ffts.size(); ++i) {
    MelConfig m;
    m.sample_rate = config.sample_rate;
    m.n_fft = config.n_ffts[i];
    m.win_length = config.n_ffts[i];
    m.hop_length = std::max<int64_t>(1, std::llround(config.n_ffts[i] * config.hop_fraction));
    m.n_mels = config.n_mels[i];
    m.f_min = config.f_min;
    m.f_max = config.f_max;
    m.mel_scale = "htk";
    m.norm = "none";
    m.power = 1.0;
    m.padding = "center";
    m.pad_mode = "reflect";
    m.log = "ln";
    m.log_clamp = config.log_clamp;
    mels_.emplace_back(m);
  }
}

at::Tensor MultiScaleMelLoss::operator()(const at::Tensor& pred, const at::Tensor& target) const {
  check_pair(pred, target, "multi-scale mel loss");
  const at::Tensor p = as_rows(pred);    // [N, T]
  const at::Tensor t = as_rows(target);  // [N, T]
  at::Tensor total;
  for (const auto& mel : mels_) {
    const at::Tensor l = (mel(p) - mel(t)).abs().mean();  // log-mel L1
    total = total.defined() ? total + l : l;
  }
  return total / static_cast<double>(mels_.size());
}

// --- multi-resolution STFT ------------------------------------------------------------------

void MultiResolutionStftConfig::validate() const {
  MUDIT_CHECK(
      !n_ffts.empty() && n_ffts.size() == hops.size() && n_ffts.size() == win_lengths.size(),
      ConfigError, "STFT loss n_ffts, hops and win_lengths must be non-empty and of ",
      "equal length");
  for (size_t i = 0; i < n_ffts.size(); ++i) {
    MUDIT_CHECK(hops[i] > 0 && win_lengths[i] >= 0 && win_lengths[i] <= n_ffts[i], ConfigError,
                "STFT loss resolution ", i, ": hop must be positive and win_length <= n_fft");
  }
}

MultiResolutionStftLoss::MultiResolutionStftLoss(MultiResolutionStftConfig config) {
  config.validate();
  for (size_t i = 0; i < config.n_ffts.size(); ++i) {
    StftOptions o;
    o.n_fft = config.n_ffts[i];
    o.hop_length = config.hops[i];
    o.win_length = config.win_lengths[i];
    o.padding = "center";
    o.pad_mode = "reflect";
    o.validate();
    resolutions_.push_back(o);
  }
}

StftLoss MultiResolutionStftLoss::operator()(const at::Tensor& pred,
                                             const at::Tensor& target) const {
  check_pair(pred, target, "multi-resolution STFT loss");
  const at::Tensor p = as_rows(pred);
  const at::Tensor t = as_rows(target);
  StftLoss loss;
  for (const auto& o : resolutions_) {
    // sqrt(re^2 + im^2 + 1e-12) keeps the gradient finite at silent bins.
    const at::Tensor mp = spectrum_power(stft(p, o), 1.0, 1e-12);  // [N, F, frames]
    const at::Tensor mt = spectrum_power(stft(t, o), 1.0, 1e-12);
    const at::Tensor sc = (mt - mp).norm() / mt.norm().clamp_min(1e-7);  // Frobenius norms
    const at::Tensor mag = (at::log(mt.clamp_min(1e-7)) - at::log(mp.clamp_min(1e-7))).abs().mean();
    loss.spectral_convergence =
        loss.spectral_convergence.defined() ? loss.spectral_convergence + sc : sc;
    loss.log_magnitude = loss.log_magnitude.defined() ? loss.log_magnitude + mag : mag;
  }
  const double n = static_cast<double>(resolutions_.size());
  loss.spectral_convergence = loss.spectral_convergence / n;
  loss.log_magnitude = loss.log_magnitude / n;
  return loss;
}

// --- SI-SNR ---------------------------------------------------------------------------------

at::Tensor si_snr(const at::Tensor& pred, const at::Tensor& target, double eps) {
  check_pair(pred, target, "SI-SNR");
  at::Tensor p = as_rows(pred);  // [N, T]
  at::Tensor t = as_rows(target);
  p = p - p.mean(-1, true);
  t = t - t.mean(-1, true);
  const at::Tensor scale = (p * t).sum(-1, true) / (t.pow(2).sum(-1, true) + eps);  // [N, 1]
  const at::Tensor s = scale * t;                                                   // [N, T]
  const at::Tensor e = p - s;
  return 10.0 * at::log10((s.pow(2).sum(-1) + eps) / (e.pow(2).sum(-1) + eps));  // [N]
}

// --- KL annealing ---------------------------------------------------------------------------

void KlAnnealConfig::validate() const {
  MUDIT_CHECK(weight >= 0 && start_step >= 0 && warmup_steps >= 0, ConfigError,
              "kl weight, start_step and warmup_steps must be >= 0");
}

double kl_weight(const KlAnnealConfig& config, int64_t step) {
  if (step < config.start_step) return 0.0;
  if (config.warmup_steps == 0) return config.weight;
  const double ramp =
      static_cast<double>(step - config.start_step + 1) / static_cast<double>(config.warmup_steps);
  return config.weight * std::min(1.0, ramp);
}

}  // namespace mudit::train
