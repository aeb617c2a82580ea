#pragma once

// Gradient checks and global-norm clipping over a parameter list.

#include <ATen/core/Tensor.h>

#include <vector>

namespace mudit::train {

/// Global L2 norm of the gradients (each tensor's norm accumulated in fp32, then the norm of
/// those norms); when max_norm > 0 and the norm exceeds it, scales every gradient in place by
/// max_norm / norm. Returns the norm before clipping: inf/nan when any gradient is non-finite,
/// in which case nothing is scaled (the step is skipped anyway). Parameters without a .grad are
/// ignored; none at all gives 0. One host sync per device.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

/// True when every defined .grad holds only finite values.
bool grads_finite(const std::vector<at::Tensor>& params);

}  // namespace mudit::train
