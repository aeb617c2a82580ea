// Run by tools/gpu/check.sh on a lent GPU machine (label gpu; CI runs everything but gpu): the
// trainer on CUDA in fp32, bf16 autocast and fp16 with the loss scaler. Skips without CUDA.
#include <gtest/gtest.h>

#include "mudit/core/device.h"
#include "mudit/train/trainer.h"
#include "unit/test_util.h"

namespace mudit::train {
namespace {

class GpuTrainer : public ::testing::TestWithParam<std::string> {};

TEST_P(GpuTrainer, ToyLossFallsOnCuda) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  test::TempDir dir;
  ConfigNode tree = parse_config_text(R"(
task: toy
train:
  steps: 60
  batch_size: 16
  log_every: 1
  device: cuda
  optim: {name: adamw, lr: 0.003}
  schedule: {kind: constant}
  logging: {progress: false, tensorboard: false}
model: {in_dim: 8, dim: 128, depth: 2, heads: 4, seq_len: 32}
)",
                                      "gpu");
  apply_override(tree, "run_dir='" + dir.path().string() + "'");
  apply_override(tree, "train.amp.dtype=" + GetParam());
  apply_override(tree, "train.steps=1");
  const double first = train(bind_config<RunConfig>(tree)).last_metrics.at("model/loss");
  apply_override(tree, "run_dir='" + (dir / "long").string() + "'");
  apply_override(tree, "train.steps=60");
  const TrainResult r = train(bind_config<RunConfig>(tree));
  EXPECT_EQ(r.skipped_steps, 0);
  EXPECT_LT(r.last_metrics.at("model/loss"), 0.5 * first) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Precisions, GpuTrainer, ::testing::Values("fp32", "bf16", "fp16"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mudit::train
