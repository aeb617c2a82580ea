#pragma once

// Linear read-outs fitted in closed batches, as the instrument probe (mudit/eval/instruments.h)
// and the plan head (mudit/generation/plan_head.h) are: features standardised per column, then
// a linear layer's weights from zero by L-BFGS with a strong-Wolfe line search on a loss the
// caller computes.

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <functional>

namespace mudit::nn {

/// Column means and standard deviations (floored at `floor`) of features [N, F].
struct Standardizer {
  at::Tensor mean, scale;  ///< [F]
  at::Tensor apply(const at::Tensor& x) const { return (x - mean) / scale; }
};
Standardizer fit_standardizer(const at::Tensor& features, double floor = 1e-4);

/// Zeroes `layer` and minimises `loss` (computed from the layer's current weights) over its
/// weight and bias by L-BFGS for at most `max_iterations`. Returns the last loss evaluated.
double fit_linear_lbfgs(torch::nn::Linear& layer, const std::function<at::Tensor()>& loss,
                        int64_t max_iterations);

}  // namespace mudit::nn
