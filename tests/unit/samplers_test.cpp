// Samplers on analytic cases with known answers. With Gaussian data N(m, s^2) the exact
// velocity (interpolants) and the exact noise prediction (DDPM) are closed-form, and their
// probability-flow maps are affine: noise z goes to m + s z. So ODE samplers must land each
// particle on m + s z with an error that falls at the method's order, stochastic samplers must
// reproduce the target's mean and std, and DDIM with eta 0 must converge. Plus DDPM schedules,
// parameterisations and min-SNR weights with known values, and guidance arithmetic.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cmath>
#include <iostream>

#include "mudit/core/error.h"
#include "mudit/diffusion/ddpm.h"
#include "mudit/diffusion/guidance.h"
#include "mudit/diffusion/interpolant.h"
#include "mudit/diffusion/samplers.h"

namespace mudit {
namespace {

using namespace mudit::diffusion;

constexpr double kM = 2.0, kS = 0.5;

// Exact velocity of the Linear path towards N(m, s^2), in float64.
torch::Tensor linear_velocity(const torch::Tensor& x, const torch::Tensor& t) {
  const torch::Tensor te = t.reshape({-1, 1});
  const torch::Tensor v = te.pow(2) * kS * kS + (1 - te).pow(2);
  return kM + (te * kS * kS - (1 - te)) / v * (x - te * kM);
}

InterpolantConfig linear_velocity_config() {
  return InterpolantConfig{};
}

double max_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(OdeSolvers, ConvergeAtTheirOrderOnTheGaussianFlow) {
  const torch::Tensor z = torch::randn({512, 1}, torch::kDouble);
  const torch::Tensor want = kM + kS * z;  // the exact flow map of N(0, 1) to N(m, s^2)
  double euler_prev = 0, heun_prev = 0;
  for (int64_t n : {10, 20, 40, 80}) {
    const auto grid = time_grid(0, 1, n + 1);
    const double e = max_error(ode_euler(linear_velocity, z, grid), want);
    const double h = max_error(ode_heun(linear_velocity, z, grid), want);
    std::cout << "  " << n << " steps: Euler " << e << ", Heun " << h << "\n";
    if (euler_prev > 0) {
      EXPECT_NEAR(euler_prev / e, 2.0, 0.35) << n;  // first order
      EXPECT_NEAR(heun_prev / h, 4.0, 0.8) << n;    // second order
    }
    euler_prev = e;
    heun_prev = h;
  }
  Dopri5Stats stats;
  Dopri5Options o;
  o.atol = 1e-9;
  o.rtol = 1e-9;
  const double d = max_error(ode_dopri5(linear_velocity, z, 0, 1, o, &stats), want);
  std::cout << "  dopri5: error " << d << " in " << stats.accepted << " steps (" << stats.rejected
            << " rejected, " << stats.evaluations << " evaluations)\n";
  EXPECT_LT(d, 1e-7);
  EXPECT_GT(stats.accepted, 3);
  // Looser tolerances take fewer steps, and the error grows with them. The step control bounds
  // the RMS of the local error over the batch, so the RMS of the global error is compared.
  Dopri5Stats loose;
  o.atol = o.rtol = 1e-4;
  const torch::Tensor rough = ode_dopri5(linear_velocity, z, 0, 1, o, &loose);
  const double rms = (rough - want).pow(2).mean().sqrt().item<double>();
  std::cout << "  dopri5 at tolerance 1e-4: RMS error " << rms << " in " << loose.evaluations
            << " evaluations\n";
  EXPECT_LT(rms, 1e-3);
  EXPECT_GT(rms, d);
  EXPECT_LT(loose.evaluations, stats.evaluations);
  // Backwards: data to noise.
  EXPECT_LT(max_error(ode_dopri5(linear_velocity, want, 1, 0, Dopri5Options{1e-9, 1e-9}), z), 1e-6);
}

TEST(InterpolantSamplers, OdeSampleMapsNoiseOntoTheTarget) {
  const Interpolant in(linear_velocity_config());
  // A fixed grid of noise values, not draws: the error of these solvers is affine in z on this
  // flow, so its maximum sits at the ends, and random draws moved it from run to run.
  const torch::Tensor z = torch::linspace(-4, 4, 257, torch::kDouble).reshape({-1, 1});
  for (const std::string m : {"euler", "heun", "dopri5"}) {
    OdeOptions o;
    o.method = m;
    o.steps = 101;
    o.atol = o.rtol = 1e-8;
    const double err = max_error(sample_ode(in, linear_velocity, z, o), kM + kS * z);
    std::cout << "  " << m << ": max error " << err << " over z in [-4, 4]\n";
    // Euler is first order, about 2.5 / steps on this flow at |z| near 3 (OdeSolvers above), and
    // its error grows with |z|: 0.029 at the grid's ends. Heun's is second order: 9e-5 there.
    EXPECT_LT(err, m == "euler" ? 3.5e-2 : 1.2e-4) << m;
  }
}

TEST(InterpolantSamplers, SdeSamplesHaveTheTargetStatistics) {
  // A score-predicting "network" (the exact score of the Gaussian marginals) on the GVP path:
  // the SDE samplers convert it to velocity and drift themselves.
  InterpolantConfig c;
  c.path = "gvp";
  c.prediction = "score";
  const Interpolant in(c);
  const auto exact_score = [&](const torch::Tensor& x, const torch::Tensor& t) {
    const torch::Tensor te = t.reshape({-1, 1});
    const torch::Tensor a = in.alpha(te).first, s = in.sigma(te).first;
    return -(x - a * kM) / (a.pow(2) * kS * kS + s.pow(2));
  };
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({20000, 1}, torch::kDouble);
  for (const std::string method : {"euler", "heun"}) {
    SdeOptions o;
    o.method = method;
    o.form = DiffusionForm::kSigma;
    o.steps = 200;
    o.last_step = "mean";
    o.last_step_size = 0.01;
    const torch::Tensor y = sample_sde(in, exact_score, x, o, seeded_noise(7)).back();
    const double mean = y.mean().item<double>(), std = y.std().item<double>();
    std::cout << "  " << method << ": mean " << mean << ", std " << std << "\n";
    EXPECT_NEAR(mean, kM, 0.02) << method;
    EXPECT_NEAR(std, kS, 0.02) << method;
  }
}

TEST(SeededNoise, SameSeedSameDraws) {
  const torch::Tensor like = torch::zeros({3, 4});
  auto a = seeded_noise(5), b = seeded_noise(5), c = seeded_noise(6);
  const torch::Tensor a0 = a(0, like), a1 = a(1, like);
  EXPECT_TRUE(torch::equal(a0, b(0, like)));
  EXPECT_TRUE(torch::equal(a1, b(1, like)));
  EXPECT_FALSE(torch::equal(a0, a1));
  EXPECT_FALSE(torch::equal(a0, c(0, like)));
}

// --- DDPM -------------------------------------------------------------------------------------

TEST(Ddpm, SchedulesAndParameterisations) {
  const Ddpm lin(DdpmConfig{});
  EXPECT_NEAR(lin.betas()[0].item<double>(), 1e-4, 1e-15);
  EXPECT_NEAR(lin.betas()[999].item<double>(), 0.02, 1e-15);
  EXPECT_NEAR(lin.alphas_cumprod()[0].item<double>(), 1 - 1e-4, 1e-15);
  // The well-known abar_T of the linear schedule: about 4.04e-5.
  EXPECT_NEAR(lin.alphas_cumprod()[999].item<double>(), 4.036e-5, 2e-8);
  DdpmConfig cc;
  cc.schedule = "cosine";
  const Ddpm cos(cc);
  const double s = 0.008, t = 500.0 / 1000;
  const double f0 = std::pow(std::cos(s / (1 + s) * M_PI / 2), 2);
  const double f = std::pow(std::cos((t + s) / (1 + s) * M_PI / 2), 2);
  EXPECT_NEAR(cos.alphas_cumprod()[499].item<double>(), f / f0, 1e-12);
  EXPECT_LE(cos.betas().max().item<double>(), 0.999);

  const torch::Tensor x0 = torch::randn({4, 3, 2}), eps = torch::randn({4, 3, 2});
  const torch::Tensor tt = torch::tensor({0, 10, 500, 999});
  for (const std::string p : {"eps", "v", "x0"}) {
    DdpmConfig c;
    c.prediction = p;
    const Ddpm d(c);
    const torch::Tensor xt = d.q_sample(x0, eps, tt);
    const auto [e, x] = d.eps_x0(d.target(x0, eps, tt), xt, tt);  // a perfect network
    EXPECT_LT(max_error(e, eps), p == "eps" ? 1e-6 : 2e-3) << p;
    EXPECT_LT(max_error(x, x0), p == "x0" ? 1e-6 : 2e-3) << p;
  }
  EXPECT_THROW(lin.abar(torch::tensor({1000}), x0), ShapeError);
  DdpmConfig bad;
  bad.prediction = "noise";
  EXPECT_THROW(Ddpm{bad}, ConfigError);
}

TEST(Ddpm, MinSnrWeights) {
  DdpmConfig c;
  c.min_snr_gamma = 5;
  const torch::Tensor tt = torch::tensor({0, 300, 999});
  const torch::Tensor ab = Ddpm(c).alphas_cumprod().index_select(0, tt);
  const torch::Tensor snr = ab / (1 - ab);
  for (const std::string p : {"eps", "v", "x0"}) {
    c.prediction = p;
    const torch::Tensor w = Ddpm(c).loss_weight(tt).to(torch::kDouble);
    for (int i = 0; i < 3; ++i) {
      const double r = snr[i].item<double>(), m = std::min(r, 5.0);
      const double want = p == "eps" ? m / r : p == "v" ? m / (r + 1) : m;
      EXPECT_NEAR(w[i].item<double>(), want, 1e-6 * std::max(1.0, want)) << p << " " << i;
    }
  }
  EXPECT_TRUE(torch::all(Ddpm(DdpmConfig{}).loss_weight(tt) == 1).item<bool>());
}

TEST(Ddpm, TimestepSpacings) {
  EXPECT_EQ(ddim_timesteps(1000, 4, "leading"), (std::vector<int64_t>{750, 500, 250, 0}));
  EXPECT_EQ(ddim_timesteps(1000, 4, "trailing"), (std::vector<int64_t>{999, 749, 499, 249}));
  EXPECT_EQ(ddim_timesteps(1000, 4, "linspace"), (std::vector<int64_t>{999, 666, 333, 0}));
  EXPECT_EQ(ddim_timesteps(10, 10, "trailing").front(), 9);
  EXPECT_THROW(ddim_timesteps(10, 11, "leading"), ConfigError);
  EXPECT_THROW(ddim_timesteps(10, 5, "middle"), ConfigError);
}

// The exact eps-prediction for Gaussian data N(m, s^2) under the schedule.
Field exact_eps(const Ddpm& d) {
  return [&d](const torch::Tensor& x, const torch::Tensor& t) {
    const torch::Tensor a = d.abar(t, x);
    return (1 - a).sqrt() * (x - a.sqrt() * kM) / (a * kS * kS + 1 - a);
  };
}

TEST(Ddpm, DdimConvergesToTheFlowMap) {
  const Ddpm d(DdpmConfig{});
  const double ab = d.alphas_cumprod()[999].item<double>();
  const torch::Tensor xT = torch::randn({512, 1}, torch::kDouble);
  // The probability-flow map sends x_T to m + s z with z its standardised value.
  const torch::Tensor z = (xT - std::sqrt(ab) * kM) / std::sqrt(ab * kS * kS + 1 - ab);
  const torch::Tensor want = kM + kS * z;
  double prev = 0;
  for (int64_t n : {25, 50, 100, 200}) {
    DdimOptions o;
    o.steps = n;
    o.spacing = "trailing";
    const double err = max_error(sample_ddim(d, exact_eps(d), xT, o, seeded_noise(0)), want);
    std::cout << "  DDIM " << n << " steps: max error " << err << "\n";
    if (prev > 0) EXPECT_LT(err, 0.75 * prev) << n;
    prev = err;
  }
  EXPECT_LT(prev, 0.03);  // first order: about 5 / steps
}

TEST(Ddpm, AncestralAndStochasticDdimMatchTheTarget) {
  const Ddpm d(DdpmConfig{});
  torch::manual_seed(2);
  const torch::Tensor xT = torch::randn({20000, 1}, torch::kDouble);
  const torch::Tensor full = sample_ddpm(d, exact_eps(d), xT, seeded_noise(3));
  DdimOptions o;
  o.steps = 100;
  o.eta = 0.5;
  const torch::Tensor half = sample_ddim(d, exact_eps(d), xT, o, seeded_noise(4));
  for (const auto& [name, y] : {std::pair{"ancestral", full}, std::pair{"ddim eta 0.5", half}}) {
    const double mean = y.mean().item<double>(), std = y.std().item<double>();
    std::cout << "  " << name << ": mean " << mean << ", std " << std << "\n";
    EXPECT_NEAR(mean, kM, 0.02) << name;
    EXPECT_NEAR(std, kS, 0.02) << name;
  }
}

TEST(Ddpm, DynamicThresholding) {
  // Per sample: s = the 0.5 quantile of |x0| floored at 1; values clamped to +-s, divided by s.
  const torch::Tensor x0 = torch::tensor({{0.5, -4.0, 3.0, 2.0}, {0.1, 0.2, -0.3, 0.4}});
  const torch::Tensor y = dynamic_threshold(x0, 0.5, 1.0);
  // Row 0: |x| = .5 4 3 2 -> median 2.5; row 1: median .25 -> floored to 1 (unchanged).
  EXPECT_LT(max_error(y[0], torch::tensor({0.2, -1.0, 1.0, 0.8}, torch::kDouble)), 1e-6);
  EXPECT_LT(max_error(y[1], x0[1]), 1e-12);
}

// --- Guidance ---------------------------------------------------------------------------------

TEST(Guidance, ScalesBranchesRescaleAndInterval) {
  // A "network" whose output is 1 for the full branch, 0.75 lyrics and plan, 0.5 lyrics-only,
  // 0 unconditional.
  std::vector<std::vector<Branch>> calls;
  const BranchedModel net = [&](const torch::Tensor& x, const torch::Tensor& t,
                                const std::vector<Branch>& branches) {
    calls.push_back(branches);
    std::vector<torch::Tensor> parts;
    const int64_t b = x.size(0) / static_cast<int64_t>(branches.size());
    for (Branch br : branches) {
      const double v = br == Branch::kFull         ? 1.0
                       : br == Branch::kLyricsPlan ? 0.75
                       : br == Branch::kLyricsOnly ? 0.5
                                                   : 0.0;
      parts.push_back(torch::full({b, 2}, v, x.options()) + x.narrow(0, 0, b) * 0);
    }
    return torch::cat(parts);
  };
  const auto level = [](double t) { return 1 - t; };  // interpolant time
  const torch::Tensor x = torch::zeros({3, 2}), t = torch::full({3}, 0.5);
  GuidanceConfig g;
  g.description_scale = 3;
  g.lyric_scale = 2;
  int64_t rows = 0;
  // u + 2 (l - u) + 3 (c - l) = 0 + 1 + 1.5.
  EXPECT_TRUE(torch::allclose(guided(net, g, level, &rows)(x, t), torch::full({3, 2}, 2.5)));
  EXPECT_EQ(calls.back().size(), 3u);
  EXPECT_EQ(rows, 3);
  g.lyric_scale = 3;  // equal scales: u + 3 (c - u), two branches
  EXPECT_TRUE(torch::allclose(guided(net, g, level)(x, t), torch::full({3, 2}, 3.0)));
  EXPECT_EQ(calls.back(), (std::vector<Branch>{Branch::kFull, Branch::kUnconditional}));
  g.interval_low = 0.6;  // noise level 0.5 is outside [0.6, 1]: conditional only
  EXPECT_TRUE(torch::allclose(guided(net, g, level)(x, t), torch::ones({3, 2})));
  EXPECT_EQ(calls.back().size(), 1u);
  g.description_scale = g.lyric_scale = 1;
  g.interval_low = 0;
  guided(net, g, level)(x, t);
  EXPECT_EQ(calls.back().size(), 1u);  // scale 1: no guidance, one evaluation

  // The plan's own scale: l + 2 (p - l) + 3 (c - p) = 0.5 + 0.5 + 0.75 (lyric scale 1: no u).
  g.lyric_scale = 1;
  g.plan_scale = 2;
  g.description_scale = 3;
  rows = 0;
  EXPECT_TRUE(torch::allclose(guided(net, g, level, &rows)(x, t), torch::full({3, 2}, 1.75)));
  EXPECT_EQ(calls.back(),
            (std::vector<Branch>{Branch::kFull, Branch::kLyricsPlan, Branch::kLyricsOnly}));
  EXPECT_EQ(rows, 3);
  // All four: u + 2 (l - u) + 4 (p - l) + 3 (c - p) = 1 + 1 + 0.75.
  g.lyric_scale = 2;
  g.plan_scale = 4;
  EXPECT_TRUE(torch::allclose(guided(net, g, level)(x, t), torch::full({3, 2}, 2.75)));
  EXPECT_EQ(calls.back().size(), 4u);
  // Plan and description equal: the plan is guided with the description, three branches.
  g.plan_scale = 3;
  EXPECT_TRUE(torch::allclose(guided(net, g, level)(x, t), torch::full({3, 2}, 2.5)));
  EXPECT_EQ(calls.back(),
            (std::vector<Branch>{Branch::kFull, Branch::kLyricsOnly, Branch::kUnconditional}));

  // CFG-rescale: phi = 1 gives the guided output with the conditional's std.
  const torch::Tensor c = torch::tensor({{1.0, 3.0}, {0.0, 2.0}});
  const torch::Tensor gd = torch::tensor({{0.0, 8.0}, {1.0, 1.5}});
  const torch::Tensor r = cfg_rescale(gd, c, 1.0);
  EXPECT_TRUE(torch::allclose(r.std(1), c.std(1)));
  EXPECT_TRUE(torch::allclose(cfg_rescale(gd, c, 0.5), 0.5 * r + 0.5 * gd));
  EXPECT_TRUE(torch::equal(cfg_rescale(gd, c, 0.0), gd));
  GuidanceConfig bad;
  bad.rescale = 2;
  EXPECT_THROW(guided(net, bad, level), ConfigError);
}

TEST(Interpolant, TimeSamplingAndMaskedMean) {
  InterpolantConfig c;
  c.time_sampling = "shifted";
  c.time_shift = 3;
  torch::manual_seed(0);
  const torch::Tensor shifted = Interpolant(c).sample_time(20000, torch::kDouble);
  // u / (u + 3 (1 - u)) has mean (3 ln 3 - 3 + 1) / 4 ... below 1/2: more time near the noise.
  EXPECT_LT(shifted.mean().item<double>(), 0.4);
  EXPECT_GE(shifted.min().item<double>(), 0.0);
  EXPECT_LE(shifted.max().item<double>(), 1.0);
  c.time_sampling = "logit_normal";
  const torch::Tensor ln = Interpolant(c).sample_time(20000, torch::kDouble);
  EXPECT_NEAR(ln.mean().item<double>(), 0.5, 0.01);
  EXPECT_LT(ln.std().item<double>(), torch::rand({20000}, torch::kDouble).std().item<double>());

  // Padding is in neither numerator nor denominator.
  const torch::Tensor terms = torch::tensor({{{1.0, 3.0}, {5.0, 7.0}, {100.0, 100.0}}});  // [1,3,2]
  const torch::Tensor mask = torch::tensor({{true, true, false}});
  EXPECT_DOUBLE_EQ(masked_mean(terms, mask).item<double>(), 4.0);
  EXPECT_DOUBLE_EQ(masked_mean(terms, torch::Tensor()).item<double>(), 216.0 / 6);
  EXPECT_THROW(masked_mean(terms, torch::ones({1, 2}, torch::kBool)), ShapeError);
  InterpolantConfig bad;
  bad.path = "cosine";
  EXPECT_THROW(Interpolant{bad}, ConfigError);
}

}  // namespace
}  // namespace mudit
