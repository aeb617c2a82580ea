// SiT's path and transport arithmetic, written in the reference's operation order so float32
// results agree to a few ulp (the parity fixture checks every function).
#include "mudit/diffusion/interpolant.h"

#include <ATen/ATen.h>

#include <cmath>

#include "mudit/core/error.h"

namespace mudit::diffusion {

PathType parse_path(const std::string& name) {
  if (name == "linear") return PathType::kLinear;
  if (name == "gvp") return PathType::kGVP;
  if (name == "vp") return PathType::kVP;
  MUDIT_THROW(ConfigError, "interpolant path '", name, "': expected linear, gvp or vp");
}

Prediction parse_prediction(const std::string& name) {
  if (name == "velocity") return Prediction::kVelocity;
  if (name == "score") return Prediction::kScore;
  if (name == "noise") return Prediction::kNoise;
  MUDIT_THROW(ConfigError, "interpolant prediction '", name,
              "': expected velocity, score or noise");
}

LossWeight parse_loss_weight(const std::string& name) {
  if (name == "none") return LossWeight::kNone;
  if (name == "velocity") return LossWeight::kVelocity;
  if (name == "likelihood") return LossWeight::kLikelihood;
  MUDIT_THROW(ConfigError, "interpolant loss_weight '", name,
              "': expected none, velocity or likelihood");
}

DiffusionForm parse_diffusion_form(const std::string& name) {
  if (name == "constant") return DiffusionForm::kConstant;
  if (name == "sbdm" || name == "SBDM") return DiffusionForm::kSBDM;
  if (name == "sigma") return DiffusionForm::kSigma;
  if (name == "linear") return DiffusionForm::kLinear;
  if (name == "decreasing") return DiffusionForm::kDecreasing;
  // SiT's dictionary spells it "inccreasing-decreasing"; both spellings are accepted.
  if (name == "increasing-decreasing" || name == "inccreasing-decreasing")
    return DiffusionForm::kIncreasingDecreasing;
  MUDIT_THROW(ConfigError, "diffusion form '", name,
              "': expected constant, sbdm, sigma, linear, decreasing or increasing-decreasing");
}

void InterpolantConfig::validate() const {
  parse_path(path);
  parse_prediction(prediction);
  parse_loss_weight(loss_weight);
  MUDIT_CHECK(train_eps < 0.5 && sample_eps < 0.5, ConfigError,
              "interpolant train_eps and sample_eps must be below 0.5");
  MUDIT_CHECK(vp_sigma_min > 0 && vp_sigma_max > vp_sigma_min, ConfigError,
              "interpolant needs 0 < vp_sigma_min < vp_sigma_max");
  MUDIT_CHECK(
      time_sampling == "uniform" || time_sampling == "logit_normal" || time_sampling == "shifted",
      ConfigError, "interpolant time_sampling '", time_sampling,
      "': expected uniform, logit_normal or shifted");
  MUDIT_CHECK(logit_std > 0 && time_shift > 0, ConfigError,
              "interpolant logit_std and time_shift must be positive");
}

Interpolant::Interpolant(InterpolantConfig config) : config_(std::move(config)) {
  config_.validate();
  path_ = parse_path(config_.path);
  prediction_ = parse_prediction(config_.prediction);
  weight_ = parse_loss_weight(config_.loss_weight);
  // SiT's create_transport defaults.
  double train = 0, sample = 0;
  if (path_ == PathType::kVP) {
    train = 1e-5;
    sample = 1e-3;
  } else if (prediction_ != Prediction::kVelocity) {
    train = 1e-3;
    sample = 1e-3;
  }
  train_eps_ = config_.train_eps >= 0 ? config_.train_eps : train;
  sample_eps_ = config_.sample_eps >= 0 ? config_.sample_eps : sample;
}

at::Tensor expand_like(const at::Tensor& t, const at::Tensor& x) {
  if (t.dim() == x.dim()) return t;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = t.numel();
  return t.reshape(shape);
}

namespace {

// VP's log-mean coefficient and its derivative.
at::Tensor vp_log_mean(const at::Tensor& t, double lo, double hi) {
  return -0.25 * (1 - t).pow(2) * (hi - lo) - 0.5 * (1 - t) * lo;
}
at::Tensor vp_d_log_mean(const at::Tensor& t, double lo, double hi) {
  return 0.5 * (1 - t) * (hi - lo) + 0.5 * lo;
}

}  // namespace

std::pair<at::Tensor, at::Tensor> Interpolant::alpha(const at::Tensor& t) const {
  switch (path_) {
    case PathType::kLinear:
      return {t, at::ones_like(t)};
    case PathType::kGVP:
      return {at::sin(t * M_PI / 2), M_PI / 2 * at::cos(t * M_PI / 2)};
    case PathType::kVP: {
      const at::Tensor a = at::exp(vp_log_mean(t, config_.vp_sigma_min, config_.vp_sigma_max));
      return {a, a * vp_d_log_mean(t, config_.vp_sigma_min, config_.vp_sigma_max)};
    }
  }
  MUDIT_THROW(Error, "unreachable path");
}

std::pair<at::Tensor, at::Tensor> Interpolant::sigma(const at::Tensor& t) const {
  switch (path_) {
    case PathType::kLinear:
      return {1 - t, at::full_like(t, -1)};
    case PathType::kGVP:
      return {at::cos(t * M_PI / 2), -M_PI / 2 * at::sin(t * M_PI / 2)};
    case PathType::kVP: {
      const double lo = config_.vp_sigma_min, hi = config_.vp_sigma_max;
      const at::Tensor p = 2 * vp_log_mean(t, lo, hi);
      const at::Tensor s = at::sqrt(1 - at::exp(p));
      return {s, at::exp(p) * (2 * vp_d_log_mean(t, lo, hi)) / (-2 * s)};
    }
  }
  MUDIT_THROW(Error, "unreachable path");
}

at::Tensor Interpolant::d_alpha_alpha_ratio(const at::Tensor& t) const {
  switch (path_) {
    case PathType::kLinear:
      return 1 / t;
    case PathType::kGVP:
      return M_PI / (2 * at::tan(t * M_PI / 2));
    case PathType::kVP:
      return vp_d_log_mean(t, config_.vp_sigma_min, config_.vp_sigma_max);
  }
  MUDIT_THROW(Error, "unreachable path");
}

std::pair<at::Tensor, at::Tensor> Interpolant::drift(const at::Tensor& x,
                                                     const at::Tensor& t) const {
  const at::Tensor te = expand_like(t, x);
  if (path_ == PathType::kVP) {
    const double lo = config_.vp_sigma_min, hi = config_.vp_sigma_max;
    const at::Tensor beta = lo + (1 - te) * (hi - lo);
    return {-0.5 * beta * x, beta / 2};
  }
  const at::Tensor ratio = d_alpha_alpha_ratio(te);
  const auto [s, ds] = sigma(te);
  return {-(ratio * x), ratio * s.pow(2) - s * ds};
}

at::Tensor Interpolant::diffusion(const at::Tensor& x, const at::Tensor& t, DiffusionForm form,
                                  double norm) const {
  const at::Tensor te = expand_like(t, x);
  switch (form) {
    case DiffusionForm::kConstant:
      return at::full_like(te, norm);
    case DiffusionForm::kSBDM:
      return norm * drift(x, te).second;
    case DiffusionForm::kSigma:
      return norm * sigma(te).first;
    case DiffusionForm::kLinear:
      return norm * (1 - te);
    case DiffusionForm::kDecreasing:
      return 0.25 * (norm * at::cos(M_PI * te) + 1).pow(2);
    case DiffusionForm::kIncreasingDecreasing:
      return norm * at::sin(M_PI * te).pow(2);
  }
  MUDIT_THROW(Error, "unreachable diffusion form");
}

std::pair<at::Tensor, at::Tensor> Interpolant::plan(const at::Tensor& t, const at::Tensor& x0,
                                                    const at::Tensor& x1) const {
  const at::Tensor te = expand_like(t, x1);
  const auto [a, da] = alpha(te);
  const auto [s, ds] = sigma(te);
  return {a * x1 + s * x0, da * x1 + ds * x0};
}

at::Tensor Interpolant::score_from_velocity(const at::Tensor& v, const at::Tensor& x,
                                            const at::Tensor& t) const {
  const at::Tensor te = expand_like(t, x);
  const auto [a, da] = alpha(te);
  const auto [s, ds] = sigma(te);
  const at::Tensor r = a / da;
  const at::Tensor var = s.pow(2) - r * ds * s;
  return (r * v - x) / var;
}

at::Tensor Interpolant::noise_from_velocity(const at::Tensor& v, const at::Tensor& x,
                                            const at::Tensor& t) const {
  const at::Tensor te = expand_like(t, x);
  const auto [a, da] = alpha(te);
  const auto [s, ds] = sigma(te);
  const at::Tensor r = a / da;
  const at::Tensor var = r * ds - s;
  return (r * v - x) / var;
}

at::Tensor Interpolant::velocity_from_score(const at::Tensor& score, const at::Tensor& x,
                                            const at::Tensor& t) const {
  const auto [mean, var] = drift(x, expand_like(t, x));
  return var * score - mean;
}

at::Tensor Interpolant::velocity(const at::Tensor& out, const at::Tensor& x,
                                 const at::Tensor& t) const {
  if (prediction_ == Prediction::kVelocity) return out;
  return velocity_from_score(score(out, x, t), x, t);
}

at::Tensor Interpolant::score(const at::Tensor& out, const at::Tensor& x,
                              const at::Tensor& t) const {
  switch (prediction_) {
    case Prediction::kVelocity:
      return score_from_velocity(out, x, t);
    case Prediction::kScore:
      return out;
    case Prediction::kNoise:
      return out / -sigma(expand_like(t, x)).first;
  }
  MUDIT_THROW(Error, "unreachable prediction");
}

std::pair<double, double> Interpolant::interval(bool eval, bool sde, DiffusionForm form,
                                                double last_step_size) const {
  double t0 = 0, t1 = 1;
  const double eps = eval ? sample_eps_ : train_eps_;
  const bool last = sde && last_step_size > 0;
  if (path_ == PathType::kVP) {
    t1 = last ? 1 - last_step_size : 1 - eps;
  } else if (prediction_ != Prediction::kVelocity || sde) {
    // SiT avoids the singular ends, starting with a semi-implicit step for SBDM.
    t0 = (form == DiffusionForm::kSBDM && sde) || prediction_ != Prediction::kVelocity ? eps : 0;
    t1 = last ? 1 - last_step_size : 1 - eps;
  }
  return {t0, t1};
}

at::Tensor Interpolant::sample_time(int64_t batch, const at::TensorOptions& options) const {
  const auto [t0, t1] = interval(/*eval=*/false);
  at::Tensor u;
  if (config_.time_sampling == "logit_normal") {
    u = at::sigmoid(at::randn({batch}, options) * config_.logit_std + config_.logit_mean);
  } else {
    u = at::rand({batch}, options);
    if (config_.time_sampling == "shifted")
      u = u / (u + config_.time_shift * (1 - u));  // more steps near the noise end (t = 0)
  }
  return u * (t1 - t0) + t0;
}

at::Tensor Interpolant::loss_terms(const at::Tensor& out, const at::Tensor& x0,
                                   const at::Tensor& x1, const at::Tensor& xt, const at::Tensor& ut,
                                   const at::Tensor& t) const {
  MUDIT_CHECK(out.sizes() == x1.sizes(), ShapeError, "interpolant loss: prediction ", out.sizes(),
              " does not match the data ", x1.sizes());
  if (prediction_ == Prediction::kVelocity) return (out - ut).pow(2);
  const at::Tensor var = drift(xt, t).second;
  const at::Tensor s = sigma(expand_like(t, xt)).first;
  at::Tensor w;
  switch (weight_) {
    case LossWeight::kNone:
      w = at::ones_like(s);
      break;
    case LossWeight::kVelocity:
      w = (var / s).pow(2);
      break;
    case LossWeight::kLikelihood:
      w = var / s.pow(2);
      break;
  }
  if (prediction_ == Prediction::kNoise) return w * (out - x0).pow(2);
  return w * (out * s + x0).pow(2);
}

at::Tensor masked_mean(const at::Tensor& terms, const at::Tensor& mask) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < terms.dim(); ++d) dims.push_back(d);
  if (!mask.defined()) return dims.empty() ? terms : terms.mean(dims);
  MUDIT_CHECK(mask.dim() == 2 && terms.dim() >= 2 && mask.size(0) == terms.size(0) &&
                  mask.size(1) == terms.size(1),
              ShapeError, "masked_mean: mask ", mask.sizes(), " does not match terms ",
              terms.sizes());
  at::Tensor m = mask.to(terms.scalar_type());
  while (m.dim() < terms.dim()) m = m.unsqueeze(-1);
  m = m.expand_as(terms);
  return (terms * m).sum(dims) / m.sum(dims).clamp_min(1);
}

}  // namespace mudit::diffusion
