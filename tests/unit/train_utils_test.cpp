#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <cmath>
#include <limits>

#include "mudit/core/error.h"
#include "mudit/core/safetensors.h"
#include "mudit/train/amp.h"
#include "mudit/train/ema.h"
#include "mudit/train/grad.h"
#include "mudit/train/optim.h"
#include "mudit/train/schedule.h"
#include "unit/test_util.h"

namespace mudit::train {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test::error_of;

// A tiny model with every kind of parameter the optimizer split cares about.
struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    embed = register_module("tok_embed", torch::nn::Embedding(10, 4));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    proj = register_module("proj", torch::nn::Linear(4, 3));
    register_buffer("steps", torch::zeros({1}, torch::kLong));
  }
  torch::nn::Embedding embed{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(Tiny);

std::vector<std::pair<std::string, at::Tensor>> named(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

// ---- optimizer ----

TEST(Optim, SplitsBiasNormAndEmbeddingIntoNoDecay) {
  Tiny model;
  const ParamSplit split = split_parameters(named(*model), OptimConfig{});
  EXPECT_THAT(split.decay, ElementsAre("proj.weight"));
  EXPECT_THAT(split.no_decay,
              ElementsAre("tok_embed.weight", "norm.weight", "norm.bias", "proj.bias"));
}

TEST(Optim, SkipsFrozenAndTiedParameters) {
  Tiny model;
  model->proj->bias.set_requires_grad(false);
  auto params = named(*model);
  params.emplace_back("tied.weight", model->proj->weight);  // the same tensor again
  const ParamSplit split = split_parameters(params, OptimConfig{});
  EXPECT_THAT(split.decay, ElementsAre("proj.weight"));
  EXPECT_THAT(split.no_decay, ElementsAre("tok_embed.weight", "norm.weight", "norm.bias"));

  for (auto& [name, p] : params) p.set_requires_grad(false);
  EXPECT_THAT(error_of([&] { make_optimizer(params, OptimConfig{}); }),
              HasSubstr("no parameter requires grad"));
}

// One AdamW step on zero gradients: Adam's update is 0/(0+eps) = 0, so only the decoupled decay
// acts: decay params shrink by lr*wd, no-decay params stay exactly as they were.
TEST(Optim, WeightDecayOnlyOnTheDecayGroup) {
  torch::manual_seed(0);
  Tiny model;
  OptimConfig cfg;
  cfg.lr = 0.1;
  cfg.weight_decay = 0.5;
  auto opt = make_optimizer(named(*model), cfg);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  EXPECT_EQ(opt->param_groups()[0].params().size(), 1u);  // decay first
  EXPECT_EQ(opt->param_groups()[1].params().size(), 4u);

  std::map<std::string, at::Tensor> before;
  for (const auto& [name, p] : named(*model)) {
    before[name] = p.detach().clone();
    p.mutable_grad() = torch::zeros_like(p);
  }
  opt->step();
  for (const auto& [name, p] : named(*model)) {
    if (name == "proj.weight") {
      EXPECT_TRUE(torch::allclose(p, before[name] * (1 - 0.1 * 0.5), 1e-6, 1e-7)) << name;
    } else {
      EXPECT_TRUE(torch::equal(p, before[name])) << name;
    }
  }
}

TEST(Optim, AdamGroupsAndLearningRate) {
  Tiny model;
  OptimConfig cfg;
  cfg.name = "adam";
  cfg.betas = {0.8, 0.95};
  cfg.eps = 1e-6;
  auto opt = make_optimizer(named(*model), cfg);
  ASSERT_NE(dynamic_cast<torch::optim::Adam*>(opt.get()), nullptr);
  const auto& o0 = static_cast<const torch::optim::AdamOptions&>(opt->param_groups()[0].options());
  const auto& o1 = static_cast<const torch::optim::AdamOptions&>(opt->param_groups()[1].options());
  EXPECT_EQ(o0.weight_decay(), 0.01);
  EXPECT_EQ(o1.weight_decay(), 0.0);
  EXPECT_EQ(std::get<1>(o0.betas()), 0.95);
  EXPECT_EQ(o0.eps(), 1e-6);

  set_learning_rate(*opt, 3e-3);
  for (const auto& g : opt->param_groups()) EXPECT_EQ(g.options().get_lr(), 3e-3);

  auto adamw = make_optimizer(named(*model), OptimConfig{});
  ASSERT_NE(dynamic_cast<torch::optim::AdamW*>(adamw.get()), nullptr);
  set_learning_rate(*adamw, 2e-5);
  for (const auto& g : adamw->param_groups()) EXPECT_EQ(g.options().get_lr(), 2e-5);
}

TEST(Optim, ValidateNamesTheChoices) {
  OptimConfig cfg;
  cfg.name = "sgd";
  EXPECT_THAT(error_of([&] { cfg.validate(); }), HasSubstr("not one of: adamw, adam"));
  cfg = OptimConfig{};
  cfg.betas = {0.9};
  EXPECT_THAT(error_of([&] { cfg.validate(); }), HasSubstr("betas must be two values"));
}

// ---- schedules ----

TEST(Schedule, CosineKnownValues) {
  ScheduleConfig cfg;
  cfg.kind = "cosine";
  cfg.warmup_steps = 10;
  cfg.total_steps = 110;
  cfg.warmup_start = 0.1;
  EXPECT_DOUBLE_EQ(lr_factor(cfg, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_factor(cfg, 5), 0.55);
  EXPECT_DOUBLE_EQ(lr_factor(cfg, 10), 1.0);
  EXPECT_NEAR(lr_factor(cfg, 60), 0.5, 1e-12);
  EXPECT_NEAR(lr_factor(cfg, 35), 0.5 * (1 + std::cos(M_PI / 4)), 1e-12);
  EXPECT_NEAR(lr_factor(cfg, 110), 0.0, 1e-12);
  EXPECT_NEAR(lr_factor(cfg, 500), 0.0, 1e-12);

  cfg.min_ratio = 0.2;
  EXPECT_NEAR(lr_factor(cfg, 60), 0.2 + 0.8 * 0.5, 1e-12);
  EXPECT_NEAR(lr_factor(cfg, 110), 0.2, 1e-12);
  EXPECT_NEAR(lr_factor(cfg, 1000), 0.2, 1e-12);
}

TEST(Schedule, LinearConstantAndWarmupDecay) {
  ScheduleConfig lin;
  lin.kind = "linear";
  lin.warmup_steps = 4;
  lin.total_steps = 104;
  lin.min_ratio = 0.1;
  EXPECT_DOUBLE_EQ(lr_factor(lin, 0), 0.0);
  EXPECT_DOUBLE_EQ(lr_factor(lin, 2), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(lin, 4), 1.0);
  EXPECT_NEAR(lr_factor(lin, 54), 1.0 - 0.9 * 0.5, 1e-12);
  EXPECT_NEAR(lr_factor(lin, 104), 0.1, 1e-12);
  EXPECT_NEAR(lr_factor(lin, 200), 0.1, 1e-12);

  ScheduleConfig constant;
  constant.kind = "constant";
  EXPECT_EQ(lr_factor(constant, 0), 1.0);
  EXPECT_EQ(lr_factor(constant, 1000000), 1.0);
  constant.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(lr_factor(constant, 3), 0.3);
  EXPECT_EQ(lr_factor(constant, 10), 1.0);

  ScheduleConfig wd;
  wd.kind = "warmup_decay";
  wd.warmup_steps = 100;
  EXPECT_DOUBLE_EQ(lr_factor(wd, 50), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(wd, 100), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(wd, 400), 0.5);  // (100 / 400)^0.5
  EXPECT_DOUBLE_EQ(lr_factor(wd, 10000), 0.1);
  wd.min_ratio = 0.25;
  EXPECT_DOUBLE_EQ(lr_factor(wd, 10000), 0.25);
  wd.decay_power = 1.0;
  EXPECT_DOUBLE_EQ(lr_factor(wd, 200), 0.5);
}

TEST(Schedule, ValidationErrors) {
  ScheduleConfig cfg;  // cosine, total_steps 0 = the run's length, not yet known
  EXPECT_THAT(error_of([&] { lr_factor(cfg, 0); }), HasSubstr("must be resolved first"));
  EXPECT_DOUBLE_EQ(lr_factor(cfg.resolved(100), 50), 0.5);  // half-way through a 100-step run
  cfg.warmup_steps = 100;
  EXPECT_THAT(
      error_of([&] { cfg.resolved(100); }),
      HasSubstr("needs total_steps > warmup_steps, got total_steps 100 (the run's length)"));
  cfg.warmup_steps = 0;
  cfg.kind = "step";
  EXPECT_THAT(error_of([&] { cfg.validate(); }),
              HasSubstr("not one of: constant, linear, cosine, warmup_decay"));
  cfg.kind = "warmup_decay";
  EXPECT_THAT(error_of([&] { cfg.validate(); }), HasSubstr("needs warmup_steps > 0"));
  cfg.kind = "constant";
  EXPECT_THAT(error_of([&] { lr_factor(cfg, -1); }), HasSubstr("must not be negative"));
}

// ---- EMA ----

TEST(Ema, ClosedFormWithConstantParameter) {
  torch::nn::Linear lin(2, 1);
  {
    torch::NoGradGuard g;
    lin->weight.fill_(0.0);
    lin->bias.fill_(0.0);
  }
  EmaConfig cfg;
  cfg.decay = 0.9;
  Ema ema(*lin, cfg);
  {
    torch::NoGradGuard g;
    lin->weight.fill_(1.0);
    lin->bias.fill_(-2.0);
  }
  for (int64_t step = 0; step < 5; ++step) ema.update(*lin, step);
  // shadow_n = p + (s0 - p) * decay^n with s0 = 0
  const double w = 1.0 - std::pow(0.9, 5);
  EXPECT_TRUE(torch::allclose(ema.shadow().at("weight"), torch::full({1, 2}, w), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(ema.shadow().at("bias"), torch::full({1}, -2.0 * w), 1e-6, 1e-6));
  EXPECT_EQ(ema.shadow().at("weight").scalar_type(), torch::kFloat);
}

TEST(Ema, StartStepCopiesAndEveryIsHonoured) {
  torch::nn::Linear lin(1, 1);
  EmaConfig cfg;
  cfg.decay = 0.5;
  cfg.start_step = 3;
  cfg.every = 2;
  auto set = [&](double v) {
    torch::NoGradGuard g;
    lin->weight.fill_(v);
    lin->bias.fill_(v);
  };
  set(0.0);
  Ema ema(*lin, cfg);
  auto value = [&] { return ema.shadow().at("weight").item<double>(); };
  set(4.0);
  ema.update(*lin, 0);  // before start: copy
  EXPECT_EQ(value(), 4.0);
  set(8.0);
  ema.update(*lin, 2);
  EXPECT_EQ(value(), 8.0);
  set(0.0);
  ema.update(*lin, 3);  // start_step: average
  EXPECT_EQ(value(), 4.0);
  ema.update(*lin, 4);  // not on the grid: unchanged
  EXPECT_EQ(value(), 4.0);
  ema.update(*lin, 5);  // start + every
  EXPECT_EQ(value(), 2.0);
  ema.update(*lin, 6);
  EXPECT_EQ(value(), 2.0);
}

TEST(Ema, SaveLoadRoundTripAndCopyTo) {
  test::TempDir dir;
  torch::manual_seed(1);
  Tiny model;
  EmaConfig cfg;
  cfg.decay = 0.7;
  Ema ema(*model, cfg);
  EXPECT_EQ(ema.shadow().count("steps"), 0u);  // integer buffers are not averaged
  {
    torch::NoGradGuard g;
    for (auto& p : model->parameters()) p.add_(1.0);
  }
  ema.update(*model, 0);
  save_safetensors(dir / "ema.safetensors", ema.shadow());

  Ema other(*model, cfg);
  other.load(load_safetensors(dir / "ema.safetensors").tensors);
  for (const auto& [name, t] : ema.shadow()) EXPECT_TRUE(torch::equal(t, other.shadow().at(name)));

  Tiny target;
  other.copy_to(*target);
  for (const auto& item : target->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), ema.shadow().at(item.key()))) << item.key();
  }

  auto wrong = ema.shadow();
  wrong.erase("proj.bias");
  wrong["proj.weight"] = torch::zeros({2, 2});
  wrong["extra"] = torch::zeros({1});
  EXPECT_THAT(error_of([&] { other.load(wrong); }),
              HasSubstr("missing 'proj.bias'; 'proj.weight': checkpoint [2, 2] vs EMA [3, 4]; "
                        "unexpected 'extra'"));
  torch::nn::Linear lin(4, 3);
  EXPECT_THAT(error_of([&] { other.copy_to(*lin); }), HasSubstr("EMA copy_to: missing"));
}

// ---- mixed precision ----

TEST(Amp, AutocastGuardOnCpuWithNesting) {
  const auto a = torch::randn({4, 4});
  AmpConfig bf16;
  bf16.dtype = "bf16";
  EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kFloat);
  {
    AutocastGuard guard(c10::kCPU, bf16);
    EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kBFloat16);
    {
      AutocastGuard fp32(c10::kCPU, AmpConfig{});  // a no-op: autocast stays on
      EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kBFloat16);
    }
    {
      AmpConfig fp16;
      fp16.dtype = "fp16";
      AutocastGuard inner(c10::kCPU, fp16);
      EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kHalf);
    }
    EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kFloat);
  AutocastGuard off(c10::kCPU, AmpConfig{});
  EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kFloat);
}

TEST(Amp, ApplyTf32SetsTheContext) {
  AmpConfig cfg;
  cfg.tf32 = false;
  apply_tf32(cfg);
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
  cfg.tf32 = true;
  apply_tf32(cfg);
  EXPECT_TRUE(at::globalContext().allowTF32CuBLAS());
  EXPECT_TRUE(at::globalContext().allowTF32CuDNN());
}

TEST(Amp, LossScalerBacksOffAndGrows) {
  AmpConfig cfg;
  cfg.dtype = "fp16";
  cfg.init_scale = 1024;
  cfg.growth_interval = 3;
  LossScaler scaler(cfg);
  ASSERT_TRUE(scaler.enabled());
  EXPECT_EQ(scaler.scale(), 1024.0);
  EXPECT_EQ(scaler.scale_loss(torch::tensor(0.5)).item<double>(), 512.0);

  auto p = torch::zeros({3}, torch::requires_grad());
  auto q = torch::zeros({2}, torch::requires_grad());
  p.mutable_grad() = torch::tensor({1024.0f, -2048.0f, 3.0f});
  q.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(scaler.unscale_and_check({p, q}));
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 512.0);

  p.mutable_grad() = torch::tensor({512.0f, 1.0f, -5.0f});
  q.mutable_grad() = torch::tensor({256.0f, 3.0f});
  const auto expected = torch::tensor({1.0f, 1.0f / 512, -5.0f / 512});
  EXPECT_TRUE(scaler.unscale_and_check({p, q, torch::zeros({1})}));  // no grad: ignored
  EXPECT_TRUE(torch::equal(p.grad(), expected));
  EXPECT_TRUE(torch::equal(q.grad(), torch::tensor({0.5f, 3.0f / 512})));
  scaler.update(false);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 512.0);
  scaler.update(false);  // the third clean step in a row
  EXPECT_EQ(scaler.scale(), 1024.0);

  const auto state = scaler.state();
  LossScaler restored(cfg);
  scaler.update(false);
  restored.load_state(scaler.state());
  EXPECT_EQ(restored.scale(), 1024.0);
  EXPECT_EQ(restored.state().at("growth_tracker"), 1.0);
  EXPECT_EQ(state.at("scale"), 1024.0);
  EXPECT_THAT(error_of([&] {
                restored.load_state({{"scale", 2.0}});
              }),
              HasSubstr("needs 'scale' and 'growth_tracker'"));
}

TEST(Amp, DisabledScalerIsIdentity) {
  AmpConfig cfg;
  cfg.dtype = "bf16";
  LossScaler scaler(cfg);
  EXPECT_FALSE(scaler.enabled());
  EXPECT_EQ(scaler.scale(), 1.0);
  const auto loss = torch::tensor(3.0);
  EXPECT_TRUE(scaler.scale_loss(loss).is_same(loss));
  auto p = torch::zeros({1}, torch::requires_grad());
  p.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_TRUE(scaler.unscale_and_check({p}));
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1.0);
}

TEST(Amp, ValidateNamesTheChoices) {
  AmpConfig cfg;
  cfg.dtype = "fp8";
  EXPECT_THAT(error_of([&] { cfg.validate(); }), HasSubstr("not one of: fp32, bf16, fp16"));
  EXPECT_THAT(error_of([&] { AutocastGuard g(c10::kCPU, cfg); }), HasSubstr("fp8"));
  cfg = AmpConfig{};
  cfg.backoff_factor = 1.5;
  EXPECT_THAT(error_of([&] { cfg.validate(); }), HasSubstr("backoff_factor"));
}

// ---- gradients ----

TEST(Grad, ClipGradNormKnownValue) {
  auto a = torch::zeros({1}, torch::requires_grad());
  auto b = torch::zeros({1}, torch::requires_grad());
  auto none = torch::zeros({2}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({3.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_EQ(clip_grad_norm({a, b, none}, 0.0), 5.0);  // no clipping
  EXPECT_EQ(a.grad().item<float>(), 3.0f);
  EXPECT_EQ(clip_grad_norm({a, b, none}, 10.0), 5.0);  // below the threshold
  EXPECT_EQ(a.grad().item<float>(), 3.0f);
  EXPECT_EQ(clip_grad_norm({a, b, none}, 1.0), 5.0);
  EXPECT_FLOAT_EQ(a.grad().item<float>(), 0.6f);
  EXPECT_FLOAT_EQ(b.grad().item<float>(), 0.8f);
  EXPECT_NEAR(clip_grad_norm({a, b}, 0.0), 1.0, 1e-6);
  EXPECT_EQ(clip_grad_norm({none}, 1.0), 0.0);

  auto h = torch::zeros({2}, torch::dtype(torch::kBFloat16).requires_grad(true));
  h.mutable_grad() = torch::full({2}, 300.0, torch::kBFloat16);  // 300^2 sums in fp32
  EXPECT_NEAR(clip_grad_norm({h}, 0.0), 300.0 * std::sqrt(2.0), 1e-3);
}

TEST(Grad, NonFiniteGradients) {
  auto a = torch::zeros({2}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({1.0f, 2.0f});
  EXPECT_TRUE(grads_finite({a}));
  auto b = torch::zeros({1}, torch::requires_grad());
  b.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_FALSE(grads_finite({a, b}));
  EXPECT_TRUE(std::isnan(clip_grad_norm({a, b}, 1.0)));
  EXPECT_TRUE(torch::equal(a.grad(), torch::tensor({1.0f, 2.0f})));  // left alone
  b.mutable_grad() = torch::tensor({-std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(grads_finite({b}));
  EXPECT_TRUE(std::isinf(clip_grad_norm({a, b}, 1.0)));
  EXPECT_TRUE(grads_finite({torch::zeros({1})}));
}

}  // namespace
}  // namespace mudit::train
