#include "mudit/train/optim.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <unordered_set>

namespace mudit::train {
namespace {

bool is_bias(const std::string& name) {
  const size_t dot = name.rfind('.');
  return (dot == std::string::npos ? name : name.substr(dot + 1)) == "bias";
}

bool wants_decay(const std::string& name, const at::Tensor& p, const OptimConfig& cfg) {
  if (p.dim() <= 1 || is_bias(name)) return false;
  for (const auto& s : cfg.no_decay_names) {
    if (!s.empty() && name.find(s) != std::string::npos) return false;
  }
  return true;
}

// Trainable tensors, each once (tied weights appear under several names), in the given order.
std::vector<std::pair<std::string, at::Tensor>> trainable(
    const std::vector<std::pair<std::string, at::Tensor>>& named_params) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  std::unordered_set<const void*> seen;
  for (const auto& [name, p] : named_params) {
    if (!p.defined() || !p.requires_grad()) continue;
    if (!seen.insert(p.unsafeGetTensorImpl()).second) continue;
    out.emplace_back(name, p);
  }
  return out;
}

template <class Options>
std::unique_ptr<Options> group_options(const OptimConfig& cfg, double weight_decay) {
  auto o = std::make_unique<Options>(cfg.lr);
  o->betas({cfg.betas[0], cfg.betas[1]})
      .eps(cfg.eps)
      .weight_decay(weight_decay)
      .amsgrad(cfg.amsgrad);
  return o;
}

template <class Optim, class Options>
std::unique_ptr<torch::optim::Optimizer> build(const std::vector<at::Tensor>& decay,
                                               const std::vector<at::Tensor>& no_decay,
                                               const OptimConfig& cfg) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, group_options<Options>(cfg, cfg.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, group_options<Options>(cfg, 0.0));
  // The optimizer's defaults only fill options a group lacks; every group here has its own.
  return std::make_unique<Optim>(std::move(groups), *group_options<Options>(cfg, cfg.weight_decay));
}

}  // namespace

void OptimConfig::validate() const {
  MUDIT_CHECK(name == "adamw" || name == "adam", ConfigError, "optimizer name '", name,
              "' is not one of: adamw, adam");
  MUDIT_CHECK(lr > 0, ConfigError, "lr must be positive, got ", lr);
  MUDIT_CHECK(betas.size() == 2, ConfigError, "betas must be two values, got ", betas.size());
  for (double b : betas) {
    MUDIT_CHECK(b >= 0 && b < 1, ConfigError, "betas must lie in [0, 1), got ", b);
  }
  MUDIT_CHECK(eps > 0, ConfigError, "eps must be positive, got ", eps);
  MUDIT_CHECK(weight_decay >= 0, ConfigError, "weight_decay must not be negative, got ",
              weight_decay);
}

ParamSplit split_parameters(const std::vector<std::pair<std::string, at::Tensor>>& named_params,
                            const OptimConfig& cfg) {
  ParamSplit split;
  for (const auto& [name, p] : trainable(named_params)) {
    (wants_decay(name, p, cfg) ? split.decay : split.no_decay).push_back(name);
  }
  return split;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const std::vector<std::pair<std::string, at::Tensor>>& named_params, const OptimConfig& cfg) {
  cfg.validate();
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& [name, p] : trainable(named_params)) {
    (wants_decay(name, p, cfg) ? decay : no_decay).push_back(p);
  }
  MUDIT_CHECK(!decay.empty() || !no_decay.empty(), ConfigError,
              "no parameter requires grad: nothing to optimize (", named_params.size(),
              " parameters given)");
  if (cfg.name == "adam") {
    return build<torch::optim::Adam, torch::optim::AdamOptions>(decay, no_decay, cfg);
  }
  return build<torch::optim::AdamW, torch::optim::AdamWOptions>(decay, no_decay, cfg);
}

void set_learning_rate(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) {
    auto& o = group.options();
    if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&o)) {
      adamw->lr(lr);
    } else if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&o)) {
      adam->lr(lr);
    } else {
      MUDIT_THROW(ConfigError, "set_learning_rate supports Adam and AdamW only");
    }
  }
}

}  // namespace mudit::train
