#pragma once

// Samplers as free functions over callbacks: the network (with guidance folded in, see
// guidance.h) is only a function of (x, t), so MuDiT's DDPM and MuSiT's interpolants share the
// solvers. ODE solvers integrate dx/dt = f(x, t) on a time grid (or adaptively); the SDE samplers
// are SiT's Euler–Maruyama and Heun with its diffusion forms and last steps; the DDPM samplers
// (ancestral, DDIM) are in ddpm.h. Noise comes from a NoiseSource so a run is reproducible from
// its seed, and a test can feed stored draws.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mudit/diffusion/interpolant.h"

namespace mudit::diffusion {

/// A function of the state x [B, ...] and the times t [B] (a velocity field, a network).
using Field = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& t)>;

/// Standard normal draws shaped like `like`, for step `step` of a sampler.
using NoiseSource = std::function<at::Tensor(int64_t step, const at::Tensor& like)>;
/// Draws from a generator seeded with `seed` (CPU Philox-free mt19937 of LibTorch, moved to
/// the state's device): the same seed gives the same noise on every run.
NoiseSource seeded_noise(uint64_t seed);

/// A grid of n points from t0 to t1 (float64 values, as linspace).
std::vector<double> time_grid(double t0, double t1, int64_t n);

/// Fixed-step solvers on the grid `ts` (first to last). Euler: one evaluation per step; Heun
/// (explicit trapezoid, torchdiffeq's "heun2"): two.
at::Tensor ode_euler(const Field& f, at::Tensor x, const std::vector<double>& ts);
at::Tensor ode_heun(const Field& f, at::Tensor x, const std::vector<double>& ts);

struct Dopri5Options {
  double atol = 1e-6;
  double rtol = 1e-3;
  double first_step = 0;  ///< 0: chosen from the field (Hairer's initial step heuristic)
  int64_t max_steps = 100000;
};
struct Dopri5Stats {
  int64_t accepted = 0, rejected = 0, evaluations = 0;
};
/// Adaptive Dormand–Prince 5(4) from t0 to t1 (either direction) with a mixed error norm
/// (RMS of err / (atol + rtol · max(|x|, |x_new|))), as torchdiffeq's dopri5.
at::Tensor ode_dopri5(const Field& f, at::Tensor x, double t0, double t1,
                      const Dopri5Options& options = {}, Dopri5Stats* stats = nullptr);

struct SdeOptions {
  std::string method = "euler";  ///< "euler" (Euler–Maruyama) | "heun"
  DiffusionForm form = DiffusionForm::kSBDM;
  double norm = 1.0;
  std::string last_step = "mean";  ///< "none" | "mean" | "tweedie" | "euler"
  double last_step_size = 0.04;
  int64_t steps = 250;  ///< grid points; steps - 1 SDE steps, then the last step
};

/// SiT's SDE sampling from noise `x` (t = 0) towards data: the drift is the probability-flow
/// velocity plus D(t) · score, the noise sqrt(2 D(t) dt) · N(0, 1). `model` gives the network's
/// output for `interp`'s prediction. Returns the states after every step, the last step's
/// result last (steps entries), or only that one when `trajectory` is false.
std::vector<at::Tensor> sample_sde(const Interpolant& interp, const Field& model, at::Tensor x,
                                   const SdeOptions& options, const NoiseSource& noise,
                                   bool trajectory = false);

struct OdeOptions {
  std::string method = "dopri5";  ///< "euler" | "heun" | "dopri5"
  int64_t steps = 50;             ///< grid points for euler / heun
  double atol = 1e-6;
  double rtol = 1e-3;
};
/// SiT's probability-flow ODE sampling from noise (t0) to data (t1) on the sampling interval.
at::Tensor sample_ode(const Interpolant& interp, const Field& model, at::Tensor x,
                      const OdeOptions& options, Dopri5Stats* stats = nullptr);

}  // namespace mudit::diffusion
