#include "mudit/train/ema.h"

#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_mul.h>
#include <c10/util/ArrayRef.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <sstream>
#include <utility>
#include <vector>

#include "mudit/core/state_dict.h"

namespace mudit::train {
namespace {

// The module's floating tensors by name: what the shadow averages.
std::map<std::string, at::Tensor> floating_state(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> out;
  for (auto& [name, t] : state_dict(module)) {
    if (t.defined() && at::isFloatingType(t.scalar_type())) out.emplace(name, t);
  }
  return out;
}

std::string shape_str(const at::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// Every way `theirs` differs from the shadow in names and shapes, in one message ("" if none).
std::string mismatches(const std::map<std::string, at::Tensor>& shadow,
                       const std::map<std::string, at::Tensor>& theirs, const char* what) {
  std::vector<std::string> problems;
  for (const auto& [name, t] : shadow) {
    auto it = theirs.find(name);
    if (it == theirs.end()) {
      problems.push_back("missing '" + name + "'");
    } else if (!it->second.defined() || it->second.sizes() != t.sizes()) {
      problems.push_back("'" + name + "': " + what + " " +
                         (it->second.defined() ? shape_str(it->second) : "undefined") + " vs EMA " +
                         shape_str(t));
    }
  }
  for (const auto& [name, t] : theirs) {
    if (!shadow.count(name)) problems.push_back("unexpected '" + name + "'");
  }
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

void EmaConfig::validate() const {
  MUDIT_CHECK(decay >= 0 && decay <= 1, ConfigError, "ema decay must lie in [0, 1], got ", decay);
  MUDIT_CHECK(start_step >= 0, ConfigError, "ema start_step must not be negative, got ",
              start_step);
  MUDIT_CHECK(every >= 1, ConfigError, "ema every must be at least 1, got ", every);
}

Ema::Ema(const torch::nn::Module& module, EmaConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : floating_state(module)) {
    shadow_.emplace(name, t.detach().to(at::kFloat, /*non_blocking=*/false, /*copy=*/true));
  }
}

void Ema::update(const torch::nn::Module& module, int64_t step) {
  torch::NoGradGuard no_grad;
  const auto current = floating_state(module);
  if (current.size() != shadow_.size()) {
    const std::string problems = mismatches(shadow_, current, "module");
    MUDIT_THROW(CheckpointError, "EMA update: the module does not match the EMA: ", problems);
  }
  std::vector<at::Tensor> shadow, params;
  shadow.reserve(shadow_.size());
  params.reserve(shadow_.size());
  auto it = current.begin();
  for (auto& [name, s] : shadow_) {
    MUDIT_CHECK(
        it->first == name && it->second.sizes() == s.sizes(), CheckpointError,
        "EMA update: the module does not match the EMA: ", mismatches(shadow_, current, "module"));
    shadow.push_back(s);
    params.push_back(it->second);
    ++it;
  }
  const bool copy = !cfg_.enabled || step < cfg_.start_step;
  if (copy) {
    for (size_t i = 0; i < shadow.size(); ++i) shadow[i].copy_(params[i]);
    return;
  }
  if ((step - cfg_.start_step) % cfg_.every != 0 || shadow.empty()) return;
  // shadow = decay * shadow + (1 - decay) * param, as fused multi-tensor ops.
  at::_foreach_mul_(shadow, cfg_.decay);
  at::_foreach_add_(shadow, params, 1.0 - cfg_.decay);
}

void Ema::load(const std::map<std::string, at::Tensor>& shadow) {
  const std::string problems = mismatches(shadow_, shadow, "checkpoint");
  MUDIT_CHECK(problems.empty(), CheckpointError, "EMA load: ", problems);
  torch::NoGradGuard no_grad;
  for (auto& [name, s] : shadow_) s.copy_(shadow.at(name));
}

void Ema::copy_to(torch::nn::Module& module) const {
  const auto target = floating_state(module);
  const std::string problems = mismatches(shadow_, target, "module");
  MUDIT_CHECK(problems.empty(), CheckpointError, "EMA copy_to: ", problems);
  torch::NoGradGuard no_grad;
  for (const auto& [name, s] : shadow_) target.at(name).copy_(s);
}

}  // namespace mudit::train
