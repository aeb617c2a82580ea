#include "mudit/train/grad.h"

#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/logical_not.h>
#include <ATen/ops/stack.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <unordered_map>

namespace mudit::train {
namespace {

// The defined gradients, grouped by device (one host sync per device).
std::unordered_map<c10::Device, std::vector<at::Tensor>> grads_by_device(
    const std::vector<at::Tensor>& params) {
  std::unordered_map<c10::Device, std::vector<at::Tensor>> out;
  for (const auto& p : params) {
    if (p.grad().defined()) out[p.grad().device()].push_back(p.grad());
  }
  return out;
}

}  // namespace

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  const auto grads = grads_by_device(params);
  double sum_sq = 0.0;
  for (const auto& [device, gs] : grads) {
    std::vector<at::Tensor> norms;  // [] fp32 each
    norms.reserve(gs.size());
    for (const auto& g : gs) {
      // fp16/bf16/fp32 accumulate in fp32; fp64 stays fp64.
      const auto acc = g.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
      norms.push_back(at::linalg_vector_norm(g, 2, std::nullopt, false, acc));
    }
    const double n = at::linalg_vector_norm(at::stack(norms), 2).item<double>();
    sum_sq += n * n;
  }
  const double total = std::sqrt(sum_sq);
  if (max_norm > 0 && std::isfinite(total) && total > max_norm) {
    const double coef = max_norm / total;
    for (const auto& [device, gs] : grads) {
      std::vector<at::Tensor> list(gs);
      at::_foreach_mul_(list, coef);
    }
  }
  return total;
}

bool grads_finite(const std::vector<at::Tensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& [device, gs] : grads_by_device(params)) {
    std::vector<at::Tensor> bad;  // [] bool each
    bad.reserve(gs.size());
    for (const auto& g : gs) bad.push_back(at::isfinite(g).all().logical_not());
    if (at::stack(bad).any().item<bool>()) return false;
  }
  return true;
}

}  // namespace mudit::train
