#pragma once

// Exponential moving average of model weights, the weights one samples from after training.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <map>
#include <string>

#include "mudit/core/error.h"

namespace mudit::train {

/// When and how fast the average moves.
struct EmaConfig {
  /// Off: the trainer keeps no average. An Ema built anyway follows the weights exactly.
  bool enabled = true;
  double decay = 0.999;
  /// Before this step the average is a copy of the weights (skips the random start).
  int64_t start_step = 0;
  /// Averages at start_step, start_step + every, start_step + 2 * every, ...
  int64_t every = 1;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("decay", decay);
    v("start_step", start_step);
    v("every", every);
  }
  /// Throws ConfigError for a decay outside [0, 1], a negative start_step or every < 1.
  void validate() const;
};

/// Exponential moving average of a module's parameters and floating buffers, kept in fp32 on the
/// module's device (each tensor's own device). Before start_step it copies the weights; then at
/// start_step and every `every` steps after it shadow = decay * shadow + (1 - decay) * param
/// (no autograd; NoGradGuard). Integer buffers (counters) are not averaged.
class Ema {
 public:
  /// Starts the shadow as an fp32 copy of the module's floating tensors. Validates `cfg`.
  Ema(const torch::nn::Module& module, EmaConfig cfg);

  /// Call after each optimizer step with that step's 0-based index. The module must have the
  /// names the Ema was built from (CheckpointError otherwise).
  void update(const torch::nn::Module& module, int64_t step);

  /// Shadow tensors by state-dict name (save with save_safetensors; load with load()).
  const std::map<std::string, at::Tensor>& shadow() const { return shadow_; }

  /// Replaces the shadow values (converted to fp32, kept on the shadow's devices). Strict: the
  /// names and shapes must match exactly; every problem is listed in one CheckpointError and
  /// nothing is changed.
  void load(const std::map<std::string, at::Tensor>& shadow);

  /// Copies the shadow into a module with the same names (e.g. a copy used for sampling),
  /// converting to each tensor's dtype. Strict like load().
  void copy_to(torch::nn::Module& module) const;

  const EmaConfig& config() const { return cfg_; }

 private:
  EmaConfig cfg_;
  std::map<std::string, at::Tensor> shadow_;
};

}  // namespace mudit::train
