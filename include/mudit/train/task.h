#pragma once

// What a model stage gives the one Trainer: its modules, its parameters per optimizer, batches
// and named losses. Codec, vocoder, ChinMu, MuDiT and MuSiT training are Tasks; the Trainer owns
// everything else (optimizers, schedules, accumulation, data parallelism, mixed precision, EMA,
// checkpoints, logs, resume, signals).

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mudit/core/config.h"

namespace mudit::dist {
class Comm;
}

namespace mudit::dist {
class Comm;
}

namespace mudit::train {

class MetricsLog;

/// One micro-batch: named tensors on the training device.
using Batch = std::map<std::string, at::Tensor>;
using NamedParams = std::vector<std::pair<std::string, at::Tensor>>;

/// What a Task is built with.
struct TaskContext {
  c10::Device device = c10::Device(c10::kCPU);
  int rank = 0;
  int world_size = 1;
  uint64_t seed = 0;
  int64_t batch_size = 1;  // per rank, per micro-step
  int64_t grad_accum = 1;  // micro-steps per optimizer step
  bool activation_checkpointing = false;
  std::filesystem::path run_dir;
  ConfigNode model;  // the run file's `model:` section, bound by the task
  ConfigNode data;   // the run file's `data:` section, bound by the task
  /// The run's processes, for tasks whose loss spans ranks (ChinMu's gathered negatives);
  /// null when a task is built outside a run (tests): treated as world 1.
  std::shared_ptr<dist::Comm> comm;
};

/// A model stage to train. Implementations are registered by name (register_task) so
/// `mudit train` can build them from a run file's `task:` key.
class Task {
 public:
  virtual ~Task() = default;

  /// Modules to checkpoint and (the first one) to track with EMA, by name: {"model", ...}.
  virtual std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() = 0;
  /// Architecture identity written into model files (mudit.arch, mudit.arch_rev, mudit.config).
  virtual std::string arch() const = 0;
  virtual int arch_rev() const { return 1; }
  virtual std::string model_config_yaml() const = 0;

  /// Optimizers: 1 usually; 2 for GAN training (0: generator, 1: discriminator).
  virtual int num_optimizers() const { return 1; }
  virtual std::string optimizer_name(int index) const { return index == 0 ? "model" : "disc"; }
  /// Named trainable parameters of optimizer `index` (disjoint between optimizers).
  virtual NamedParams parameters(int index) = 0;
  /// Whether optimizer `index` steps at `step` (e.g. a discriminator warm-up).
  virtual bool optimizer_active(int index, int64_t step) const { return true; }

  /// Micro-batch `micro` (0..grad_accum-1) of optimizer step `step` for this rank. Batches must
  /// be a function of (step, micro, rank) and the data state, so a resumed run sees the same
  /// data as an uninterrupted one.
  virtual Batch batch(int64_t step, int64_t micro) = 0;
  /// Named losses of optimizer `index` on `batch`; the trainer minimises "loss" and logs all.
  /// Losses are means over the micro-batch (the trainer divides by grad_accum).
  virtual std::map<std::string, at::Tensor> losses(const Batch& batch, int index, int64_t step) = 0;

  /// Optimizer steps in one pass over the training data for a global batch of `global_batch`
  /// samples (batch_size x grad_accum x ranks); 0 when the data has no finite epoch.
  virtual int64_t steps_per_epoch(int64_t global_batch) const { return 0; }

  /// Validation metrics on this rank's share of the validation data (averaged over ranks).
  virtual std::map<std::string, double> validate(int64_t step) { return {}; }
  /// Writes samples (audio, images) to the log; called on rank 0 only.
  virtual void sample(int64_t step, MetricsLog& log) {}

  /// Data position beyond the step (e.g. the epoch's shuffle); rank-independent. Restored on
  /// resume before the first batch.
  virtual std::string data_state() const { return ""; }
  virtual void load_data_state(const std::string& state) {}
};

using TaskFactory = std::function<std::unique_ptr<Task>(const TaskContext&)>;

/// Registers a task name (e.g. "toy", "hifigan", "chinmu"); throws ConfigError on duplicates.
void register_task(const std::string& name, TaskFactory factory);
/// Builds a registered task; ConfigError naming the closest registered name otherwise.
std::unique_ptr<Task> make_task(const std::string& name, const TaskContext& context);
std::vector<std::string> task_names();

}  // namespace mudit::train
