#pragma once

// Activation (gradient) checkpointing: trade compute for memory by recomputing a block's
// forward pass during backward instead of storing its intermediate activations.

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace mudit::nn {

/// A block to checkpoint: tensors in, tensors out.
using CheckpointFn = std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>&)>;

/// Runs fn(inputs) without keeping its intermediate activations; backward recomputes it (with the
/// CPU and CUDA RNG states of the forward restored, so dropout matches, and the forward's
/// autocast state). Gradients are identical to calling fn directly. A custom
/// torch::autograd::Function. When grad mode is off or no input requires grad, simply calls fn
/// (so a first block whose input is plain data keeps its activations; checkpoint from the second
/// block on, or pass an input that requires grad).
///
/// Parameters used inside `fn` (module weights) are not among `inputs`, so the Function itself
/// does not see them: backward re-runs fn under grad mode on detached copies of the inputs and
/// calls torch::autograd::backward on the recomputed outputs. That inner backward accumulates the
/// parameters' .grad directly (as PyTorch's reentrant checkpoint does) and leaves the inputs'
/// gradients on the detached copies, which are returned to the outer graph. Consequences:
/// parameter gradients are accumulated only through .grad (torch::autograd::grad with a
/// parameter as input sees none), and backward through a checkpoint cannot create a graph
/// (no double backward).
///
/// `fn` is copied and kept until backward: capture modules by value (ModuleHolder is a shared
/// pointer), not references to locals that die before backward.
std::vector<at::Tensor> checkpoint(const CheckpointFn& fn, const std::vector<at::Tensor>& inputs);

/// One tensor in, one out.
at::Tensor checkpoint(const std::function<at::Tensor(const at::Tensor&)>& fn,
                      const at::Tensor& input);

}  // namespace mudit::nn
