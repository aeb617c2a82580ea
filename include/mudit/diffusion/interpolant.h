#pragma once

// Stochastic interpolants (Ma et al. 2024, "SiT"), MuSiT's objective: x_t = alpha_t x1 + sigma_t x0
// between Gaussian noise x0 (t = 0) and data x1 (t = 1) — SiT's convention, the reverse of the
// "t = 1 is noise" one. Paths Linear, GVP and VP; the network predicts the velocity, the score or
// the noise, and the conversions between them, the drift of the probability-flow ODE and the
// diffusion coefficients of the sampling SDEs follow the reference code term for term (parity:
// tests/parity/sit_transport_parity_test.cpp). Samplers are in diffusion/samplers.h.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>

namespace mudit::diffusion {

enum class PathType { kLinear, kGVP, kVP };
enum class Prediction { kVelocity, kScore, kNoise };
enum class LossWeight { kNone, kVelocity, kLikelihood };
/// SDE diffusion coefficient forms (SiT's compute_diffusion).
enum class DiffusionForm { kConstant, kSBDM, kSigma, kLinear, kDecreasing, kIncreasingDecreasing };

PathType parse_path(const std::string& name);           // "linear" | "gvp" | "vp"
Prediction parse_prediction(const std::string& name);   // "velocity" | "score" | "noise"
LossWeight parse_loss_weight(const std::string& name);  // "none" | "velocity" | "likelihood"
/// "constant" | "sbdm" | "sigma" | "linear" | "decreasing" | "increasing-decreasing"
DiffusionForm parse_diffusion_form(const std::string& name);

struct InterpolantConfig {
  std::string path = "linear";
  std::string prediction = "velocity";
  std::string loss_weight = "none";  ///< noise / score prediction only
  /// Ends of the time interval kept away from the singular ends of the path; < 0: SiT's
  /// defaults (VP: 1e-5 / 1e-3; Linear and GVP: 1e-3 / 1e-3 unless velocity, then 0 / 0).
  double train_eps = -1;
  double sample_eps = -1;
  double vp_sigma_min = 0.1;
  double vp_sigma_max = 20.0;
  /// Training times: "uniform" on [t0, t1] (SiT), "logit_normal" (sigmoid of N(mean, std)),
  /// or "shifted" (uniform, then the noise side stretched by `time_shift`, as SD3 does for
  /// long sequences: t -> t / (t + shift (1 - t))).
  std::string time_sampling = "uniform";
  double logit_mean = 0.0;
  double logit_std = 1.0;
  double time_shift = 1.0;

  template <class V>
  void visit(V& v) {
    v("path", path);
    v("prediction", prediction);
    v("loss_weight", loss_weight);
    v("train_eps", train_eps);
    v("sample_eps", sample_eps);
    v("vp_sigma_min", vp_sigma_min);
    v("vp_sigma_max", vp_sigma_max);
    v("time_sampling", time_sampling);
    v("logit_mean", logit_mean);
    v("logit_std", logit_std);
    v("time_shift", time_shift);
  }
  void validate() const;
};

/// A path and a parameterisation. Time tensors `t` are [B] (or anything broadcastable once
/// expanded to x's rank: [B] becomes [B, 1, ...]); x tensors [B, ...].
class Interpolant {
 public:
  explicit Interpolant(InterpolantConfig config);

  const InterpolantConfig& config() const { return config_; }
  PathType path() const { return path_; }
  Prediction prediction() const { return prediction_; }

  /// (alpha_t, d alpha_t / dt) and (sigma_t, d sigma_t / dt), shaped like t.
  std::pair<at::Tensor, at::Tensor> alpha(const at::Tensor& t) const;
  std::pair<at::Tensor, at::Tensor> sigma(const at::Tensor& t) const;
  /// (d alpha_t / dt) / alpha_t.
  at::Tensor d_alpha_alpha_ratio(const at::Tensor& t) const;
  /// SiT's compute_drift: (drift_mean, drift_var) with the probability-flow velocity
  /// v = drift_var * score - drift_mean; t is expanded like x.
  std::pair<at::Tensor, at::Tensor> drift(const at::Tensor& x, const at::Tensor& t) const;
  /// The SDE diffusion coefficient D(t) of `form` scaled by `norm`, expanded like x.
  at::Tensor diffusion(const at::Tensor& x, const at::Tensor& t, DiffusionForm form,
                       double norm = 1.0) const;

  /// x_t = alpha_t x1 + sigma_t x0 and the velocity target u_t = d_alpha_t x1 + d_sigma_t x0.
  std::pair<at::Tensor, at::Tensor> plan(const at::Tensor& t, const at::Tensor& x0,
                                         const at::Tensor& x1) const;

  at::Tensor score_from_velocity(const at::Tensor& v, const at::Tensor& x,
                                 const at::Tensor& t) const;
  at::Tensor noise_from_velocity(const at::Tensor& v, const at::Tensor& x,
                                 const at::Tensor& t) const;
  at::Tensor velocity_from_score(const at::Tensor& score, const at::Tensor& x,
                                 const at::Tensor& t) const;
  /// The network output, whatever it predicts, read as a velocity / a score.
  at::Tensor velocity(const at::Tensor& model_out, const at::Tensor& x, const at::Tensor& t) const;
  at::Tensor score(const at::Tensor& model_out, const at::Tensor& x, const at::Tensor& t) const;

  /// The interval [t0, t1] of training (eval = false) or sampling (SiT's check_interval): for
  /// SDE sampling with a last step of `last_step_size` > 0 the end is 1 - last_step_size.
  std::pair<double, double> interval(bool eval, bool sde = false,
                                     DiffusionForm form = DiffusionForm::kSBDM,
                                     double last_step_size = 0.0) const;
  /// Training times [B] on the training interval, by config().time_sampling.
  at::Tensor sample_time(int64_t batch, const at::TensorOptions& options) const;

  /// Element-wise squared error of `model_out` for its target, weighted as config().loss_weight
  /// says (SiT's training_losses before the mean): [B, ...] like x1.
  at::Tensor loss_terms(const at::Tensor& model_out, const at::Tensor& x0, const at::Tensor& x1,
                        const at::Tensor& xt, const at::Tensor& ut, const at::Tensor& t) const;

 private:
  InterpolantConfig config_;
  PathType path_;
  Prediction prediction_;
  LossWeight weight_;
  double train_eps_, sample_eps_;
};

/// `t` [B] reshaped to broadcast against x: [B, 1, ..., 1].
at::Tensor expand_like(const at::Tensor& t, const at::Tensor& x);

/// Mean over everything but the batch of `terms` [B, T, ...], counting only the positions where
/// `mask` [B, T] is true (padding in neither numerator nor denominator); an undefined mask
/// means all. Returns [B].
at::Tensor masked_mean(const at::Tensor& terms, const at::Tensor& mask);

}  // namespace mudit::diffusion
