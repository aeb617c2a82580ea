#pragma once

// The one training engine. Every stage (codec, vocoder, ChinMu, MuDiT, MuSiT) trains through it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/dist/comm.h"
#include "mudit/train/amp.h"
#include "mudit/train/ema.h"
#include "mudit/train/metrics_log.h"
#include "mudit/train/optim.h"
#include "mudit/train/schedule.h"
#include "mudit/train/task.h"

namespace mudit::train {

/// Everything about a run except the task's own model and data settings.
struct TrainConfig {
  int64_t steps = 1000;         // optimizer steps (ignored when epochs > 0)
  int64_t epochs = 0;           // > 0: steps = epochs x the task's steps per epoch
  int64_t batch_size = 8;       // per rank, per micro-step
  int64_t grad_accum = 1;       // micro-steps per optimizer step (no all-reduce on the others)
  double clip_grad_norm = 1.0;  // global L2 norm; 0 disables clipping
  uint64_t seed = 0;
  std::string device = "auto";
  bool activation_checkpointing = false;
  int64_t max_nonfinite_steps = 5;  // consecutive skipped steps before the run stops

  int64_t log_every = 10;
  int64_t validate_every = 0;      // 0: never
  int64_t checkpoint_every = 500;  // also at the end and on SIGTERM/SIGINT
  int64_t sample_every = 0;        // 0: never

  OptimConfig optim;       // optimizer 0
  OptimConfig disc_optim;  // optimizer 1 (GAN tasks)
  ScheduleConfig schedule;
  ScheduleConfig disc_schedule;
  EmaConfig ema;
  AmpConfig amp;
  dist::DistConfig dist;
  CheckpointConfig checkpoint;
  MetricsLogConfig logging;

  template <class V>
  void visit(V& v) {
    v("steps", steps);
    v("epochs", epochs);
    v("batch_size", batch_size);
    v("grad_accum", grad_accum);
    v("clip_grad_norm", clip_grad_norm);
    v("seed", seed);
    v("device", device);
    v("activation_checkpointing", activation_checkpointing);
    v("max_nonfinite_steps", max_nonfinite_steps);
    v("log_every", log_every);
    v("validate_every", validate_every);
    v("checkpoint_every", checkpoint_every);
    v("sample_every", sample_every);
    v("optim", optim);
    v("disc_optim", disc_optim);
    v("schedule", schedule);
    v("disc_schedule", disc_schedule);
    v("ema", ema);
    v("amp", amp);
    v("dist", dist);
    v("checkpoint", checkpoint);
    v("logging", logging);
  }
  void validate() const;
};

/// A run file: which task, where the run lives, the trainer's settings and the task's sections.
struct RunConfig {
  std::string task;  // a registered task name
  std::string run_dir = "runs/run";
  std::string resume = "auto";  // auto (latest checkpoint when present) | never | a step
  TrainConfig train;
  ConfigNode model;  // bound by the task
  ConfigNode data;   // bound by the task

  template <class V>
  void visit(V& v) {
    v("task", task);
    v("run_dir", run_dir);
    v("resume", resume);
    v("train", train);
    v("model", model);
    v("data", data);
  }
  void validate() const;
};

/// How a run ended.
struct TrainResult {
  int64_t step = 0;           // optimizer steps completed
  int64_t skipped_steps = 0;  // steps skipped for non-finite losses or gradients
  int signal = 0;             // SIGTERM / SIGINT when stopped by one (checkpoint written)
  std::map<std::string, double> last_metrics;
  /// The process exit status a CLI should use: 0, 143 (SIGTERM) or 130 (SIGINT).
  int exit_code() const;
};

/// Trains `run.task` for `run.train.steps` steps (resuming per `run.resume`). Rank 0 alone writes
/// the run folder: resolved config, logs, checkpoints. Throws mudit::Error subclasses.
TrainResult train(const RunConfig& run);

/// The same with a task object you built yourself (tests, embedding applications).
TrainResult train(const RunConfig& run, Task& task, std::shared_ptr<dist::Comm> comm);

}  // namespace mudit::train
