// The training-utility configs read from YAML: every field, defaults, unknown keys, validation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mudit/core/config.h"
#include "mudit/train/amp.h"
#include "mudit/train/ema.h"
#include "mudit/train/optim.h"
#include "mudit/train/schedule.h"

namespace mudit::train {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <class T>
T bind(const std::string& text, const std::string& path) {
  return bind_config<T>(parse_config_text(text, "train.yaml"), path);
}

template <class T>
std::string bind_error(const std::string& text, const std::string& path) {
  try {
    bind<T>(text, path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(TrainConfig, OptimFromYaml) {
  const auto cfg = bind<OptimConfig>(
      "optim:\n  name: adam\n  lr: 3.0e-4\n  betas: [0.8, 0.95]\n  eps: 1.0e-6\n"
      "  weight_decay: 0.1\n  amsgrad: true\n  no_decay_names: [embed, pos]\n",
      "optim");
  EXPECT_EQ(cfg.name, "adam");
  EXPECT_DOUBLE_EQ(cfg.lr, 3e-4);
  EXPECT_THAT(cfg.betas, ElementsAre(0.8, 0.95));
  EXPECT_DOUBLE_EQ(cfg.eps, 1e-6);
  EXPECT_DOUBLE_EQ(cfg.weight_decay, 0.1);
  EXPECT_TRUE(cfg.amsgrad);
  EXPECT_THAT(cfg.no_decay_names, ElementsAre("embed", "pos"));

  EXPECT_EQ(bind<OptimConfig>("other: 1\n", "optim").name, "adamw");  // absent: defaults
  EXPECT_THAT(bind_error<OptimConfig>("optim:\n  weight_decy: 0.1\n", "optim"),
              HasSubstr("unknown key 'optim.weight_decy'"));
  EXPECT_THAT(bind_error<OptimConfig>("optim:\n  weight_decy: 0.1\n", "optim"),
              HasSubstr("did you mean 'optim.weight_decay'?"));
  EXPECT_THAT(bind_error<OptimConfig>("optim:\n  name: lion\n", "optim"),
              HasSubstr("not one of: adamw, adam"));
}

TEST(TrainConfig, ScheduleFromYaml) {
  const auto cfg = bind<ScheduleConfig>(
      "schedule:\n  kind: linear\n  warmup_steps: 100\n  total_steps: 1000\n"
      "  warmup_start: 0.01\n  min_ratio: 0.1\n  decay_power: 1.0\n",
      "schedule");
  EXPECT_EQ(cfg.kind, "linear");
  EXPECT_EQ(cfg.warmup_steps, 100);
  EXPECT_EQ(cfg.total_steps, 1000);
  EXPECT_DOUBLE_EQ(cfg.warmup_start, 0.01);
  EXPECT_DOUBLE_EQ(cfg.min_ratio, 0.1);
  EXPECT_DOUBLE_EQ(cfg.decay_power, 1.0);
  EXPECT_THAT(bind_error<ScheduleConfig>("schedule:\n  kind: constant\n  warmup: 5\n", "schedule"),
              HasSubstr("unknown key 'schedule.warmup'"));
  EXPECT_THAT(bind_error<ScheduleConfig>(
                  "schedule:\n  kind: cosine\n  warmup_steps: 10\n  total_steps: 5\n", "schedule"),
              HasSubstr("needs total_steps > warmup_steps"));
}

TEST(TrainConfig, EmaFromYaml) {
  const auto cfg = bind<EmaConfig>(
      "ema:\n  enabled: false\n  decay: 0.9999\n  start_step: 1000\n  every: 10\n", "ema");
  EXPECT_FALSE(cfg.enabled);
  EXPECT_DOUBLE_EQ(cfg.decay, 0.9999);
  EXPECT_EQ(cfg.start_step, 1000);
  EXPECT_EQ(cfg.every, 10);
  EXPECT_THAT(bind_error<EmaConfig>("ema:\n  decay_rate: 0.9\n", "ema"),
              HasSubstr("unknown key 'ema.decay_rate'"));
  EXPECT_THAT(bind_error<EmaConfig>("ema:\n  every: 0\n", "ema"), HasSubstr("every"));
}

TEST(TrainConfig, AmpFromYaml) {
  const auto cfg = bind<AmpConfig>(
      "amp:\n  dtype: fp16\n  tf32: false\n  init_scale: 1024\n  growth_factor: 4\n"
      "  backoff_factor: 0.25\n  growth_interval: 100\n",
      "amp");
  EXPECT_EQ(cfg.dtype, "fp16");
  EXPECT_FALSE(cfg.tf32);
  EXPECT_DOUBLE_EQ(cfg.init_scale, 1024);
  EXPECT_DOUBLE_EQ(cfg.growth_factor, 4);
  EXPECT_DOUBLE_EQ(cfg.backoff_factor, 0.25);
  EXPECT_EQ(cfg.growth_interval, 100);
  EXPECT_THAT(bind_error<AmpConfig>("amp:\n  dtyp: bf16\n", "amp"),
              HasSubstr("unknown key 'amp.dtyp'"));
  EXPECT_THAT(bind_error<AmpConfig>("amp:\n  dtype: int8\n", "amp"),
              HasSubstr("not one of: fp32, bf16, fp16"));
}

TEST(TrainConfig, DumpRoundTrip) {
  ScheduleConfig s;
  s.kind = "warmup_decay";
  s.warmup_steps = 50;
  const auto back = bind_config<ScheduleConfig>(parse_config_text(dump_config(s), "dump"));
  EXPECT_EQ(back.kind, "warmup_decay");
  EXPECT_EQ(back.warmup_steps, 50);
}

}  // namespace
}  // namespace mudit::train
