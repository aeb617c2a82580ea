#pragma once

// Optimizers for training: AdamW (or Adam) with a decay and a no-decay parameter group, built
// from a YAML-bound OptimConfig.

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mudit/core/error.h"

namespace mudit::train {

/// The optimizer of a training stage.
struct OptimConfig {
  std::string name = "adamw";  // adamw | adam
  double lr = 1e-4;
  std::vector<double> betas{0.9, 0.999};
  double eps = 1e-8;
  /// AdamW: decoupled decay (param *= 1 - lr * weight_decay). Adam: L2 penalty added to the grad.
  double weight_decay = 0.01;
  bool amsgrad = false;
  /// Parameters without weight decay: biases and every 1-D tensor (norm scales), and any whose
  /// name contains one of these substrings (embeddings by default).
  std::vector<std::string> no_decay_names{"embed"};

  template <class V>
  void visit(V& v) {
    v("name", name);
    v("lr", lr);
    v("betas", betas);
    v("eps", eps);
    v("weight_decay", weight_decay);
    v("amsgrad", amsgrad);
    v("no_decay_names", no_decay_names);
  }
  /// Throws ConfigError for an unknown name, a non-positive lr or eps, betas that are not two
  /// values in [0, 1), or a negative weight decay.
  void validate() const;
};

/// The names that went to each group, for logging and tests.
struct ParamSplit {
  std::vector<std::string> decay, no_decay;
};

/// Which parameters get weight decay: those that require grad, are at least 2-D, are not named
/// `bias` (last name component) and contain none of cfg.no_decay_names; every other parameter
/// that requires grad goes to no_decay. A tensor listed twice (tied weights) counts once, under
/// its first name.
ParamSplit split_parameters(const std::vector<std::pair<std::string, at::Tensor>>& named_params,
                            const OptimConfig& cfg);

/// Splits named parameters (requires_grad only) into a decay group and a no-decay group (empty
/// groups omitted) and builds the optimizer. Group order: decay, no_decay. The no-decay group has
/// weight_decay 0; both share lr, betas, eps and amsgrad. Throws ConfigError when no parameter
/// requires grad.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const std::vector<std::pair<std::string, at::Tensor>>& named_params, const OptimConfig& cfg);

/// Sets the learning rate of every parameter group (Adam and AdamW; what a schedule calls each
/// step with base lr × lr_factor). Throws ConfigError for other optimizers.
void set_learning_rate(torch::optim::Optimizer& opt, double lr);

}  // namespace mudit::train
