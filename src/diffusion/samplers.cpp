#include "mudit/diffusion/samplers.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

#include "mudit/core/error.h"

namespace mudit::diffusion {

NoiseSource seeded_noise(uint64_t seed) {
  auto gen = std::make_shared<at::Generator>(at::make_generator<at::CPUGeneratorImpl>(seed));
  return [gen](int64_t, const at::Tensor& like) {
    const at::Tensor z = at::randn(like.sizes(), *gen, at::TensorOptions().dtype(at::kFloat));
    return z.to(like.options());
  };
}

std::vector<double> time_grid(double t0, double t1, int64_t n) {
  MUDIT_CHECK(n >= 2, ConfigError, "a time grid needs at least 2 points, got ", n);
  std::vector<double> ts(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    ts[static_cast<size_t>(i)] =
        i == n - 1 ? t1 : t0 + (t1 - t0) * static_cast<double>(i) / static_cast<double>(n - 1);
  }
  return ts;
}

namespace {

at::Tensor times(const at::Tensor& x, double t) {
  return at::full({x.size(0)}, t, x.options());
}

}  // namespace

at::Tensor ode_euler(const Field& f, at::Tensor x, const std::vector<double>& ts) {
  for (size_t i = 0; i + 1 < ts.size(); ++i) x = x + (ts[i + 1] - ts[i]) * f(x, times(x, ts[i]));
  return x;
}

at::Tensor ode_heun(const Field& f, at::Tensor x, const std::vector<double>& ts) {
  for (size_t i = 0; i + 1 < ts.size(); ++i) {
    const double h = ts[i + 1] - ts[i];
    const at::Tensor k1 = f(x, times(x, ts[i]));
    const at::Tensor k2 = f(x + h * k1, times(x, ts[i + 1]));
    x = x + 0.5 * h * (k1 + k2);
  }
  return x;
}

namespace {

// Dormand–Prince 5(4) tableau.
constexpr std::array<double, 7> kC = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
const std::array<std::vector<double>, 7> kA = {{
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
}};
// Fifth-order weights (the last row of kA) minus the embedded fourth-order ones.
constexpr std::array<double, 7> kErr = {35.0 / 384 - 5179.0 / 57600,
                                        0,
                                        500.0 / 1113 - 7571.0 / 16695,
                                        125.0 / 192 - 393.0 / 640,
                                        -2187.0 / 6784 + 92097.0 / 339200,
                                        11.0 / 84 - 187.0 / 2100,
                                        -1.0 / 40};

double rms(const at::Tensor& x) {
  return x.to(at::kDouble).pow(2).mean().sqrt().item<double>();
}

}  // namespace

at::Tensor ode_dopri5(const Field& f, at::Tensor x, double t0, double t1, const Dopri5Options& o,
                      Dopri5Stats* stats) {
  MUDIT_CHECK(o.atol > 0 && o.rtol >= 0, ConfigError, "dopri5 needs atol > 0 and rtol >= 0");
  Dopri5Stats s;
  if (t1 == t0) return x;
  const double dir = t1 > t0 ? 1.0 : -1.0;
  auto eval = [&](const at::Tensor& y, double t) {
    ++s.evaluations;
    return f(y, times(y, t));
  };
  at::Tensor k1 = eval(x, t0);
  double h = o.first_step;
  if (h <= 0) {  // Hairer, Nørsett & Wanner, II.4
    const at::Tensor scale = o.atol + o.rtol * x.abs();
    const double d0 = rms(x / scale), d1 = rms(k1 / scale);
    const double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    const at::Tensor k = eval(x + dir * h0 * k1, t0 + dir * h0);
    const double d2 = rms((k - k1) / scale) / h0;
    const double h1 = std::max(d1, d2) <= 1e-15 ? std::max(1e-6, h0 * 1e-3)
                                                : std::pow(0.01 / std::max(d1, d2), 1.0 / 5);
    h = std::min(100 * h0, h1);
  }
  double t = t0;
  while (dir * (t1 - t) > 0) {
    MUDIT_CHECK(s.accepted + s.rejected < o.max_steps, Error, "dopri5: no convergence in ",
                o.max_steps, " steps (t = ", t, " of ", t1, ")");
    h = std::min(h, std::abs(t1 - t));
    const double hs = dir * h;
    std::array<at::Tensor, 7> k;
    k[0] = k1;
    at::Tensor next;  // the fifth-order solution: the last stage's input (FSAL)
    for (size_t i = 1; i < 7; ++i) {
      at::Tensor y = x;
      for (size_t j = 0; j < kA[i].size(); ++j) {
        if (kA[i][j] != 0) y = y + hs * kA[i][j] * k[j];
      }
      k[i] = eval(y, t + hs * kC[i]);
      if (i == 6) next = y;
    }
    at::Tensor err = at::zeros_like(x);
    for (size_t j = 0; j < 7; ++j) {
      if (kErr[j] != 0) err = err + hs * kErr[j] * k[j];
    }
    const at::Tensor tol = o.atol + o.rtol * at::maximum(x.abs(), next.abs());
    const double ratio = rms(err / tol);
    MUDIT_CHECK(std::isfinite(ratio), Error, "dopri5: the field is not finite at t = ", t);
    if (ratio <= 1) {
      ++s.accepted;
      t = std::abs(t1 - t) <= h ? t1 : t + hs;
      x = next;
      k1 = k[6];
    } else {
      ++s.rejected;
    }
    const double factor = ratio == 0 ? 10 : std::clamp(0.9 * std::pow(ratio, -0.2), 0.2, 10.0);
    h *= factor;
  }
  if (stats) *stats = s;
  return x;
}

std::vector<at::Tensor> sample_sde(const Interpolant& interp, const Field& model, at::Tensor x,
                                   const SdeOptions& o, const NoiseSource& noise, bool trajectory) {
  MUDIT_CHECK(o.steps >= 2, ConfigError, "sde sampling needs steps >= 2, got ", o.steps);
  MUDIT_CHECK(o.method == "euler" || o.method == "heun", ConfigError, "sde method '", o.method,
              "': expected euler or heun");
  MUDIT_CHECK(o.last_step == "none" || o.last_step == "mean" || o.last_step == "tweedie" ||
                  o.last_step == "euler",
              ConfigError, "sde last_step '", o.last_step,
              "': expected none, mean, tweedie or euler");
  const double last_size = o.last_step == "none" ? 0.0 : o.last_step_size;
  const auto [t0, t1] = interp.interval(/*eval=*/true, /*sde=*/true, o.form, last_size);
  // Drift of the SDE: the probability-flow velocity plus D(t) times the score.
  auto drift = [&](const at::Tensor& y, const at::Tensor& t) {
    const at::Tensor out = model(y, t);
    return interp.velocity(out, y, t) +
           interp.diffusion(y, t, o.form, o.norm) * interp.score(out, y, t);
  };
  // The grid in the state's dtype, as the reference's torch.linspace.
  const at::Tensor grid = at::linspace(t0, t1, o.steps, x.options());
  const at::Tensor dt = grid[1] - grid[0];
  const at::Tensor ones = at::ones({x.size(0)}, x.options());
  std::vector<at::Tensor> out;
  for (int64_t k = 0; k + 1 < o.steps; ++k) {
    const at::Tensor t = ones * grid[k];
    const at::Tensor dw = noise(k, x) * at::sqrt(dt);
    const at::Tensor d = interp.diffusion(x, t, o.form, o.norm);
    if (o.method == "euler") {
      x = (x + drift(x, t) * dt) + at::sqrt(2 * d) * dw;
    } else {
      const at::Tensor xh = x + at::sqrt(2 * d) * dw;
      const at::Tensor k1 = drift(xh, t);
      const at::Tensor k2 = drift(xh + dt * k1, t + dt);
      x = xh + 0.5 * dt * (k1 + k2);
    }
    if (trajectory) out.push_back(x);
  }
  const at::Tensor tl = ones * t1;
  if (o.last_step == "mean") {
    x = x + drift(x, tl) * last_size;
  } else if (o.last_step == "euler") {
    x = x + interp.velocity(model(x, tl), x, tl) * last_size;
  } else if (o.last_step == "tweedie") {
    const at::Tensor te = expand_like(tl, x);
    const at::Tensor a = interp.alpha(te).first, s = interp.sigma(te).first;
    x = x / a + s.pow(2) / a * interp.score(model(x, tl), x, tl);
  }
  out.push_back(x);
  return out;
}

at::Tensor sample_ode(const Interpolant& interp, const Field& model, at::Tensor x,
                      const OdeOptions& o, Dopri5Stats* stats) {
  const auto [t0, t1] = interp.interval(/*eval=*/true, /*sde=*/false);
  const Field v = [&](const at::Tensor& y, const at::Tensor& t) {
    return interp.velocity(model(y, t), y, t);
  };
  if (o.method == "euler") return ode_euler(v, x, time_grid(t0, t1, o.steps));
  if (o.method == "heun") return ode_heun(v, x, time_grid(t0, t1, o.steps));
  MUDIT_CHECK(o.method == "dopri5", ConfigError, "ode method '", o.method,
              "': expected euler, heun or dopri5");
  Dopri5Options d;
  d.atol = o.atol;
  d.rtol = o.rtol;
  return ode_dopri5(v, x, t0, t1, d, stats);
}

}  // namespace mudit::diffusion
