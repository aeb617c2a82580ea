// The musical plan's positive control: a toy corpus whose onsets follow a random-tempo,
// random-phase beat grid, and the same tiny MuSiT trained twice for a few hundred steps — with
// the plan (the grid through plan_tensor() and the DiT's plan projections) and without it. Asked
// for a given grid, the model with the plan puts its onsets on it; the one without cannot know
// the phase. This is the test that fails when the plan path breaks (layout, projections, zero
// init that never learns, a field dropped on the way).
//
// Toy latents, at the mel VAE's 5.86 frames/s, 48 frames, 24 channels: channels 0-15 hold each
// frame's beat activations in 16 sub-frame slots (what plan_tensor() renders, times 2), the
// other 8 a per-song constant "timbre". After ../shared/experiments/plan_toy.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "mudit/diffusion/interpolant.h"
#include "mudit/diffusion/samplers.h"
#include "mudit/eval/plan_scores.h"
#include "mudit/generation/plan.h"
#include "mudit/models/dit.h"

namespace mudit {
namespace {

using generation::MusicalPlan;
using generation::PlanLayout;

constexpr double kRate = 24000.0 / 256 / 16;
constexpr int64_t kFrames = 48, kSlots = 16, kTimbre = 8, kChannels = kSlots + kTimbre;

struct Toy {
  torch::Tensor latents;  // [N, T, C]
  torch::Tensor plans;    // [N, T, F]
  std::vector<std::vector<double>> beats;
};

Toy make_toy(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  Toy toy;
  std::vector<torch::Tensor> lat, plans;
  const double duration = kFrames / kRate;
  for (int64_t i = 0; i < n; ++i) {
    const double bpm =
        60.0 * std::pow(3.0, torch::rand({1}).item<double>());  // 60-180, log-uniform
    MusicalPlan p;
    p.duration = duration;
    generation::set_beat_grid(p, bpm, 4, torch::rand({1}).item<double>() * 60.0 / bpm);
    const torch::Tensor plan = generation::plan_tensor(p, kFrames, kRate, PlanLayout{kSlots});
    const torch::Tensor slots = plan.narrow(1, 0, kSlots);  // [T, 16] in [0, 1]
    const torch::Tensor timbre = torch::randn({1, kTimbre}).expand({kFrames, kTimbre});
    lat.push_back(torch::cat({2 * slots - 1, timbre}, 1));
    plans.push_back(plan);
    toy.beats.push_back(p.beats);
  }
  toy.latents = torch::stack(lat);
  toy.plans = torch::stack(plans);
  return toy;
}

// Beat times of generated latents [T, C]: slot peaks over 0.5 (latents back to [0, 1]).
std::vector<double> onsets(const torch::Tensor& z) {
  const torch::Tensor a = ((z.narrow(1, 0, kSlots) + 1) / 2).reshape({-1}).to(torch::kDouble);
  std::vector<double> out;
  const int64_t n = a.size(0);
  for (int64_t k = 0; k < n; ++k) {
    const double c = a[k].item<double>();
    const double l = k > 0 ? a[k - 1].item<double>() : 0.0;
    const double r = k + 1 < n ? a[k + 1].item<double>() : 0.0;
    if (c > 0.5 && c >= l && c > r) out.push_back((k + 0.5) / (kSlots * kRate));
  }
  return out;
}

// Trains the tiny MuSiT (with or without the plan) and returns the mean beat F of songs
// generated for the held-out grids.
double train_and_score(bool with_plan, const Toy& train, const Toy& test, int64_t steps) {
  DiTConfig c = DiTConfig::tiny();
  c.latent_dim = kChannels;
  c.hidden_size = 96;
  c.num_heads = 4;
  c.depth = 2;
  c.cond_dim = 8;
  c.lyrics = false;
  c.in_context = false;
  c.max_frames = kFrames;
  c.plan_slots = with_plan ? kSlots : 0;
  torch::manual_seed(1);
  DiT dit(c);
  diffusion::Interpolant interp(diffusion::InterpolantConfig{});
  torch::optim::AdamW opt(dit->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0));
  const int64_t n = train.latents.size(0), batch = 32;
  torch::manual_seed(2);
  float first = 0, last = 0;
  for (int64_t step = 0; step < steps; ++step) {
    const torch::Tensor idx = torch::randint(n, {batch}, torch::kLong);
    const torch::Tensor x1 = train.latents.index_select(0, idx);
    const torch::Tensor noise = torch::randn_like(x1);
    const torch::Tensor t = interp.sample_time(batch, torch::TensorOptions().dtype(torch::kFloat));
    const auto [xt, ut] = interp.plan(t, noise, x1);
    DiTInputs in;
    in.x = xt;
    in.t = t;
    if (with_plan) {
      in.plan = train.plans.index_select(0, idx);
      in.plan_keep = torch::rand({batch}).ge(0.1);
    }
    const torch::Tensor loss = interp.loss_terms(dit->forward(in), noise, x1, xt, ut, t).mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step < 20) first += loss.item<float>() / 20;
    if (step >= steps - 20) last += loss.item<float>() / 20;
  }
  EXPECT_LT(last, 0.7 * first) << "the loss did not fall (with_plan " << with_plan << ")";
  dit->eval();
  torch::NoGradGuard no_grad;
  const int64_t m = test.latents.size(0);
  DiTInputs base;
  if (with_plan) base.plan = test.plans;
  const diffusion::Field field = [&](const torch::Tensor& x, const torch::Tensor& t) {
    DiTInputs in = base;
    in.x = x;
    in.t = t.expand({m});
    return dit->forward(in);
  };
  diffusion::OdeOptions o;
  o.method = "euler";
  o.steps = 30;
  torch::manual_seed(3);
  const torch::Tensor z =
      diffusion::sample_ode(interp, field, torch::randn({m, kFrames, kChannels}), o);
  double f = 0;
  for (int64_t i = 0; i < m; ++i)
    f += eval::beat_f_measure(test.beats[static_cast<size_t>(i)], onsets(z[i]));
  return f / static_cast<double>(m);
}

TEST(PlanControl, ATinyModelFollowsTheBeatGridItIsGiven) {
  const Toy train = make_toy(512, 10), test = make_toy(48, 11);
  // The scorer itself on the true latents: the ceiling is 1.
  double ceiling = 0;
  for (int64_t i = 0; i < test.latents.size(0); ++i)
    ceiling += eval::beat_f_measure(test.beats[static_cast<size_t>(i)], onsets(test.latents[i]));
  ceiling /= static_cast<double>(test.latents.size(0));
  EXPECT_GT(ceiling, 0.99);
  const auto t0 = std::chrono::steady_clock::now();
  const double with_plan = train_and_score(true, train, test, 300);
  const auto t1 = std::chrono::steady_clock::now();
  const double without = train_and_score(false, train, test, 300);
  const auto t2 = std::chrono::steady_clock::now();
  std::cout << "  beat F at 70 ms over " << test.latents.size(0)
            << " held-out grids: with the plan " << with_plan << " ("
            << std::chrono::duration<double>(t1 - t0).count() << " s), without " << without << " ("
            << std::chrono::duration<double>(t2 - t1).count() << " s); true latents " << ceiling
            << "\n";
  EXPECT_GT(with_plan, 0.8);
  EXPECT_GT(with_plan, without + 0.3);
}

}  // namespace
}  // namespace mudit
