#pragma once

// DDPM (Ho et al. 2020), MuDiT's objective: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps over
// T discrete steps (t = 0 is nearly clean, t = T - 1 is nearly noise), betas linear or cosine
// (Nichol & Dhariwal 2021), the network predicting eps, v (Salimans & Ho 2022) or x0, an
// optional min-SNR-gamma loss weight (Hang et al. 2023), and the DDIM sampler (Song et al.
// 2021) on leading or trailing timestep spacing; eta = 1 on the full grid is DDPM's ancestral
// sampler with the posterior variance beta-tilde.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mudit/diffusion/samplers.h"

namespace mudit::diffusion {

struct DdpmConfig {
  int64_t timesteps = 1000;
  std::string schedule = "linear";  ///< "linear" (beta_start..beta_end) | "cosine"
  double beta_start = 1e-4;
  double beta_end = 0.02;
  double cosine_s = 0.008;
  std::string prediction = "eps";  ///< "eps" | "v" | "x0"
  double min_snr_gamma = 0;        ///< 0: off; else the loss weight min(SNR, gamma) / ...

  template <class V>
  void visit(V& v) {
    v("timesteps", timesteps);
    v("schedule", schedule);
    v("beta_start", beta_start);
    v("beta_end", beta_end);
    v("cosine_s", cosine_s);
    v("prediction", prediction);
    v("min_snr_gamma", min_snr_gamma);
  }
  void validate() const;
};

class Ddpm {
 public:
  explicit Ddpm(DdpmConfig config);
  const DdpmConfig& config() const { return config_; }
  int64_t timesteps() const { return config_.timesteps; }
  /// beta_t and abar_t = prod (1 - beta), [T] float64.
  const at::Tensor& betas() const { return betas_; }
  const at::Tensor& alphas_cumprod() const { return abar_; }

  /// abar at integer steps `t` [B] (int64 or floating values that are whole), shaped to
  /// broadcast against `like` ([B, 1, ...]) in its dtype.
  at::Tensor abar(const at::Tensor& t, const at::Tensor& like) const;
  at::Tensor q_sample(const at::Tensor& x0, const at::Tensor& eps, const at::Tensor& t) const;
  /// The regression target of config().prediction.
  at::Tensor target(const at::Tensor& x0, const at::Tensor& eps, const at::Tensor& t) const;
  /// (eps, x0) implied by the network output at x_t.
  std::pair<at::Tensor, at::Tensor> eps_x0(const at::Tensor& out, const at::Tensor& xt,
                                           const at::Tensor& t) const;
  /// Per-sample loss weight [B]: 1, or min-SNR-gamma (eps: min(SNR, g) / SNR; v:
  /// min(SNR, g) / (SNR + 1); x0: min(SNR, g)).
  at::Tensor loss_weight(const at::Tensor& t) const;
  /// Training steps [B], uniform over 0..T-1 (int64).
  at::Tensor sample_time(int64_t batch, const at::TensorOptions& options) const;

 private:
  DdpmConfig config_;
  at::Tensor betas_, abar_;
};

/// The DDIM timesteps, descending: "leading" (0, T/S, 2T/S, ...; Song et al.), "trailing"
/// (T-1, T-1-T/S, ...; Lin et al. 2024, reaches the last step) or "linspace".
std::vector<int64_t> ddim_timesteps(int64_t timesteps, int64_t steps, const std::string& spacing);

struct DdimOptions {
  int64_t steps = 50;                ///< 0: every one of the T steps
  double eta = 0.0;                  ///< 0: deterministic; 1: DDPM's posterior variance
  std::string spacing = "trailing";  ///< see ddim_timesteps
  /// Imagen's dynamic thresholding of the predicted x0: per sample, s = the `threshold`
  /// quantile of |x0|, clamped below at `threshold_floor`; x0 -> clamp(x0, -s, s) / s *
  /// threshold_floor. 0: off.
  double threshold = 0.0;
  double threshold_floor = 1.0;
  /// Start at this step instead of T - 1 (audio-to-audio: x is then the reference noised to
  /// it); the grid's steps above it are skipped. -1: the whole grid.
  int64_t start_step = -1;
};

/// DDIM from x_T (noise) to x_0. `model(x, t)` gets the integer step as floating values [B].
at::Tensor sample_ddim(const Ddpm& ddpm, const Field& model, at::Tensor x,
                       const DdimOptions& options, const NoiseSource& noise);
/// DDPM's ancestral sampler: DDIM with eta 1 on every step (or `steps` respaced ones).
at::Tensor sample_ddpm(const Ddpm& ddpm, const Field& model, at::Tensor x, const NoiseSource& noise,
                       int64_t steps = 0);

/// Dynamic thresholding of x0 [B, ...] (see DdimOptions).
at::Tensor dynamic_threshold(const at::Tensor& x0, double quantile, double floor = 1.0);

}  // namespace mudit::diffusion
