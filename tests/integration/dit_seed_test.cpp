// The seed-scale generator preset on a CPU: configs/generator/musit_seed.yaml builds with
// 430.5 M parameters (the closed form of dit_test.cpp plus 2.6 M of the musical plan's
// projections), one AdamW training step on a short batch with a plan changes the weights and
// gives a finite loss, and one guided sampling step (Euler, three branches) gives finite
// latents of the right shape.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "mudit/core/config.h"
#include "mudit/core/state_dict.h"
#include "mudit/diffusion/guidance.h"
#include "mudit/diffusion/samplers.h"
#include "mudit/models/generator.h"

namespace mudit {
namespace {

const std::string kConfigs = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/generator/";

TEST(DiTSeed, BuildsTrainsOneStepAndSamplesOneStep) {
  const ConfigNode tree = load_config_file(kConfigs + "musit_seed.yaml");
  GeneratorConfig cfg;
  cfg.dit = bind_config<DiTConfig>(tree, "model.dit");
  cfg.interpolant = bind_config<diffusion::InterpolantConfig>(tree, "model.interpolant");
  torch::manual_seed(0);
  const auto t0 = std::chrono::steady_clock::now();
  DiT m(cfg.dit);
  const int64_t n = count_parameters(*m);
  std::cout << "  seed preset: " << n << " parameters, built in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  const int64_t h = 1536, c = 512, p = 2 * 16 + 46;  // 16 plan slots: 78 features
  ASSERT_EQ(cfg.dit.plan_slots, 16);
  // The plan's projections: plan_embedder (p -> H) and plan_cond (p -> H -> H).
  const int64_t plan = (p * h + h) + (p * h + h) + (h * h + h);
  EXPECT_EQ(n, 8 * (22 * h * h + 21 * h) + (256 * h + h + h * h + h) + ((2 * c + 1) * h + h) +
                   (512 * h + h) + h + 140 * h + 1024 * h + h + (2 * h * h + 2 * h) + (h * c + c) +
                   plan);
  EXPECT_NEAR(n / 1e6, 430.5, 2);

  // One training step (velocity loss on a 32-frame batch of 2).
  const diffusion::Interpolant sit(cfg.interpolant);
  DiTInputs in;
  const at::Tensor x1 = torch::randn({2, 32, c}), x0 = torch::randn({2, 32, c});
  in.t = torch::rand({2});
  const auto [xt, ut] = sit.plan(in.t, x0, x1);
  in.x = xt;
  in.cond = torch::randn({2, 512});
  in.lyrics = torch::randint(1, 138, {2, 20});
  in.plan = torch::rand({2, 32, p});
  m->train();
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(1e-4));
  const at::Tensor before = m->named_parameters()["blocks.0.attn.qkv.weight"].detach().clone();
  const at::Tensor loss = (m->forward(in) - ut).pow(2).mean();
  loss.backward();
  opt.step();
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  EXPECT_FALSE(torch::equal(before, m->named_parameters()["blocks.0.attn.qkv.weight"]));

  // One guided sampling step.
  torch::NoGradGuard no_grad;
  m->eval();
  DiTInputs base;
  base.cond = in.cond.narrow(0, 0, 1);
  base.lyrics = in.lyrics.narrow(0, 0, 1);
  base.plan = in.plan.narrow(0, 0, 1);
  diffusion::GuidanceConfig g;
  g.description_scale = 3;
  g.lyric_scale = 2;
  int64_t rows = 0;
  const diffusion::Field f = diffusion::guided(
      branched(m, base), g, [](double t) { return 1 - t; }, &rows);
  const at::Tensor z = diffusion::ode_euler(f, torch::randn({1, 32, c}), {0.0, 1.0});
  EXPECT_EQ(z.sizes(), (c10::IntArrayRef{1, 32, c}));
  EXPECT_TRUE(torch::isfinite(z).all().item<bool>());
  EXPECT_EQ(rows, 3);  // full, lyrics-only, unconditional in one batch (plan with description)
}

}  // namespace
}  // namespace mudit
