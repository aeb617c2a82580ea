// Run by tools/gpu/check.sh on a lent GPU machine (label gpu; CI runs everything but gpu): the
// trainer on CUDA in fp32, bf16 autocast and fp16 with the loss scaler; Griffin-Lim on CUDA
// against the CPU. Skips without CUDA.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <iostream>

#include "mudit/audio/features.h"
#include "mudit/audio/griffin_lim.h"
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

// The mel codec's Griffin-Lim on CUDA: the same starting phases (drawn on the CPU); the FFTs
// round differently, so the audio is compared by how well its mel matches the mel asked for.
TEST(GpuGriffinLim, CudaRebuildsTheMelAsWellAsTheCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const MelConfig cfg = MelConfig::mudit_24k();
  const at::Tensor t = at::arange(24000, at::kFloat) / 24000.0;
  const at::Tensor x = 0.3 * at::sin(2 * M_PI * 220.0 * t) + 0.2 * at::sin(2 * M_PI * 330.0 * t);
  const at::Tensor logmel = MelSpectrogram(cfg)(x);
  const at::Tensor cpu = griffin_lim_from_log_mel(logmel, cfg, {});
  const at::Tensor cuda = griffin_lim_from_log_mel(logmel.to(c10::kCUDA), cfg, {}).cpu();
  ASSERT_EQ(cuda.sizes(), cpu.sizes());
  const auto error = [&](const at::Tensor& y) {
    return (MelSpectrogram(cfg)(y.slice(0, 0, x.size(0))) - logmel).abs().mean().item<double>();
  };
  std::cout << "  log-mel L1 of the rebuilt audio: cpu " << error(cpu) << ", cuda " << error(cuda)
            << "\n";
  EXPECT_LT(error(cuda), 1.1 * error(cpu) + 1e-3);
}

}  // namespace
}  // namespace mudit::train
