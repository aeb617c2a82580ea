#include "mudit/diffusion/ddpm.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "mudit/core/error.h"
#include "mudit/diffusion/interpolant.h"

namespace mudit::diffusion {

void DdpmConfig::validate() const {
  MUDIT_CHECK(timesteps >= 2, ConfigError, "ddpm timesteps must be >= 2, got ", timesteps);
  MUDIT_CHECK(schedule == "linear" || schedule == "cosine", ConfigError, "ddpm schedule '",
              schedule, "': expected linear or cosine");
  MUDIT_CHECK(beta_start > 0 && beta_end >= beta_start && beta_end < 1, ConfigError,
              "ddpm needs 0 < beta_start <= beta_end < 1");
  MUDIT_CHECK(prediction == "eps" || prediction == "v" || prediction == "x0", ConfigError,
              "ddpm prediction '", prediction, "': expected eps, v or x0");
  MUDIT_CHECK(min_snr_gamma >= 0 && cosine_s >= 0, ConfigError,
              "ddpm min_snr_gamma and cosine_s must be >= 0");
}

Ddpm::Ddpm(DdpmConfig config) : config_(std::move(config)) {
  config_.validate();
  const int64_t n = config_.timesteps;
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  if (config_.schedule == "linear") {
    betas_ = at::linspace(config_.beta_start, config_.beta_end, n, f64);
  } else {
    // abar(t) = f(t) / f(0), f(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2); betas clipped.
    const double s = config_.cosine_s;
    const at::Tensor steps = at::arange(n + 1, f64) / static_cast<double>(n);
    const at::Tensor f = at::cos((steps + s) / (1 + s) * M_PI / 2).pow(2);
    const at::Tensor ab = f / f[0];
    betas_ = (1 - ab.slice(0, 1) / ab.slice(0, 0, n)).clamp(0, 0.999);
  }
  abar_ = at::cumprod(1 - betas_, 0);
}

namespace {

// abar at the integer steps `t` (whole floating values or int64), [B] float64 on the CPU.
at::Tensor gather_steps(const at::Tensor& abar, const at::Tensor& t) {
  at::Tensor idx = t.to(at::kCPU).flatten();
  if (at::isFloatingType(idx.scalar_type())) idx = idx.round();
  idx = idx.to(at::kLong);
  MUDIT_CHECK(idx.numel() == 0 ||
                  (idx.min().item<int64_t>() >= 0 && idx.max().item<int64_t>() < abar.size(0)),
              ShapeError, "ddpm step outside 0..", abar.size(0) - 1);
  return abar.index_select(0, idx);
}

}  // namespace

at::Tensor Ddpm::abar(const at::Tensor& t, const at::Tensor& like) const {
  return expand_like(gather_steps(abar_, t), like).to(like.options());
}

at::Tensor Ddpm::q_sample(const at::Tensor& x0, const at::Tensor& eps, const at::Tensor& t) const {
  const at::Tensor a = abar(t, x0);
  return a.sqrt() * x0 + (1 - a).sqrt() * eps;
}

at::Tensor Ddpm::target(const at::Tensor& x0, const at::Tensor& eps, const at::Tensor& t) const {
  if (config_.prediction == "eps") return eps;
  if (config_.prediction == "x0") return x0;
  const at::Tensor a = abar(t, x0);
  return a.sqrt() * eps - (1 - a).sqrt() * x0;  // v
}

std::pair<at::Tensor, at::Tensor> Ddpm::eps_x0(const at::Tensor& out, const at::Tensor& xt,
                                               const at::Tensor& t) const {
  const at::Tensor a = abar(t, xt);
  const at::Tensor sa = a.sqrt(), s1 = (1 - a).sqrt();
  if (config_.prediction == "eps") return {out, (xt - s1 * out) / sa};
  if (config_.prediction == "x0") return {(xt - sa * out) / s1, out};
  // v = sa eps - s1 x0, with xt = sa x0 + s1 eps: x0 = sa xt - s1 v, eps = s1 xt + sa v.
  return {s1 * xt + sa * out, sa * xt - s1 * out};
}

at::Tensor Ddpm::loss_weight(const at::Tensor& t) const {
  const at::Tensor ad = gather_steps(abar_, t);  // [B] float64
  if (config_.min_snr_gamma <= 0) return at::ones_like(ad).to(t.device(), at::kFloat);
  const at::Tensor snr = ad / (1 - ad);
  const at::Tensor clipped = at::clamp_max(snr, config_.min_snr_gamma);
  at::Tensor w;
  if (config_.prediction == "eps") {
    w = clipped / snr;
  } else if (config_.prediction == "v") {
    w = clipped / (snr + 1);
  } else {
    w = clipped;
  }
  return w.to(t.device(), at::kFloat);
}

at::Tensor Ddpm::sample_time(int64_t batch, const at::TensorOptions& options) const {
  return at::randint(0, config_.timesteps, {batch}, options.dtype(at::kLong));
}

std::vector<int64_t> ddim_timesteps(int64_t timesteps, int64_t steps, const std::string& spacing) {
  MUDIT_CHECK(steps >= 1 && steps <= timesteps, ConfigError, "ddim steps must be in [1, ",
              timesteps, "], got ", steps);
  std::vector<int64_t> ts;
  if (spacing == "leading") {
    const int64_t ratio = timesteps / steps;
    for (int64_t i = steps - 1; i >= 0; --i) ts.push_back(i * ratio);
  } else if (spacing == "trailing") {
    const double ratio = static_cast<double>(timesteps) / static_cast<double>(steps);
    for (int64_t i = 0; i < steps; ++i)
      ts.push_back(static_cast<int64_t>(std::llround(timesteps - i * ratio)) - 1);
  } else if (spacing == "linspace") {
    for (int64_t i = steps - 1; i >= 0; --i) {
      ts.push_back(steps == 1 ? timesteps - 1
                              : static_cast<int64_t>(std::llround(static_cast<double>(i) *
                                                                  (timesteps - 1) / (steps - 1))));
    }
  } else {
    MUDIT_THROW(ConfigError, "ddim spacing '", spacing,
                "': expected leading, trailing or linspace");
  }
  return ts;
}

at::Tensor dynamic_threshold(const at::Tensor& x0, double quantile, double floor) {
  MUDIT_CHECK(quantile > 0 && quantile <= 1 && floor > 0, ConfigError,
              "dynamic thresholding needs a quantile in (0, 1] and a positive floor");
  const at::Tensor flat = x0.abs().reshape({x0.size(0), -1}).to(at::kFloat);
  at::Tensor s = at::quantile(flat, quantile, /*dim=*/1).clamp_min(floor);  // [B]
  s = expand_like(s, x0).to(x0.options());
  return at::maximum(at::minimum(x0, s), -s) / s * floor;
}

at::Tensor sample_ddim(const Ddpm& ddpm, const Field& model, at::Tensor x, const DdimOptions& o,
                       const NoiseSource& noise) {
  MUDIT_CHECK(o.eta >= 0, ConfigError, "ddim eta must be >= 0, got ", o.eta);
  const int64_t n = o.steps == 0 ? ddpm.timesteps() : o.steps;
  std::vector<int64_t> ts = o.steps == 0 ? ddim_timesteps(n, n, "leading")
                                         : ddim_timesteps(ddpm.timesteps(), n, o.spacing);
  if (o.start_step >= 0) {
    MUDIT_CHECK(o.start_step < ddpm.timesteps(), ConfigError, "ddim start_step must be below ",
                ddpm.timesteps());
    ts.erase(std::remove_if(ts.begin(), ts.end(), [&](int64_t t) { return t > o.start_step; }),
             ts.end());
    if (ts.empty() || ts.front() != o.start_step) ts.insert(ts.begin(), o.start_step);
  }
  const at::Tensor& abar = ddpm.alphas_cumprod();
  for (size_t i = 0; i < ts.size(); ++i) {
    const int64_t t = ts[i];
    const at::Tensor tt = at::full({x.size(0)}, static_cast<double>(t), x.options());
    auto [eps, x0] = ddpm.eps_x0(model(x, tt), x, tt);
    if (o.threshold > 0) {
      x0 = dynamic_threshold(x0, o.threshold, o.threshold_floor);
      const double a = abar[t].item<double>();
      eps = (x - std::sqrt(a) * x0) / std::sqrt(1 - a);
    }
    const double a = abar[t].item<double>();
    const double a_prev = i + 1 < ts.size() ? abar[ts[i + 1]].item<double>() : 1.0;
    const double sigma =
        o.eta * std::sqrt((1 - a_prev) / (1 - a)) * std::sqrt(std::max(0.0, 1 - a / a_prev));
    x = std::sqrt(a_prev) * x0 + std::sqrt(std::max(0.0, 1 - a_prev - sigma * sigma)) * eps;
    if (sigma > 0) x = x + sigma * noise(static_cast<int64_t>(i), x);
  }
  return x;
}

at::Tensor sample_ddpm(const Ddpm& ddpm, const Field& model, at::Tensor x, const NoiseSource& noise,
                       int64_t steps) {
  DdimOptions o;
  o.steps = steps;
  o.eta = 1.0;
  o.spacing = "trailing";
  return sample_ddim(ddpm, model, x, o, noise);
}

}  // namespace mudit::diffusion
