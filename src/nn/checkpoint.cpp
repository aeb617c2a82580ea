#include "mudit/nn/checkpoint.h"

#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <mutex>
#include <set>
#include <utility>

#include "train/autocast_state.h"

namespace mudit::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using train::detail::AutocastState;

// The block and everything backward needs to replay it exactly.
struct Replay : torch::CustomClassHolder {
  CheckpointFn fn;
  at::Tensor cpu_rng;                                             // CPU generator state at forward
  std::vector<std::pair<c10::DeviceIndex, at::Tensor>> cuda_rng;  // per CUDA device of inputs
  AutocastState cpu_autocast, cuda_autocast;
};

at::Tensor generator_state(at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

at::Generator cuda_generator(c10::DeviceIndex index) {
  return at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, index));
}

// Sets the RNG and autocast state of the forward for its lifetime, then restores the present.
class ReplayScope {
 public:
  explicit ReplayScope(const Replay& r) {
    cpu_rng_ = generator_state(at::detail::getDefaultCPUGenerator());
    set_generator_state(at::detail::getDefaultCPUGenerator(), r.cpu_rng);
    for (const auto& [index, state] : r.cuda_rng) {
      cuda_rng_.emplace_back(index, generator_state(cuda_generator(index)));
      set_generator_state(cuda_generator(index), state);
    }
    cpu_autocast_ = train::detail::autocast_state(c10::kCPU);
    cuda_autocast_ = train::detail::autocast_state(c10::kCUDA);
    train::detail::enter_autocast(c10::kCPU, r.cpu_autocast);
    train::detail::enter_autocast(c10::kCUDA, r.cuda_autocast);
  }
  ~ReplayScope() {
    train::detail::exit_autocast(c10::kCUDA, cuda_autocast_);
    train::detail::exit_autocast(c10::kCPU, cpu_autocast_);
    for (const auto& [index, state] : cuda_rng_) set_generator_state(cuda_generator(index), state);
    set_generator_state(at::detail::getDefaultCPUGenerator(), cpu_rng_);
  }
  ReplayScope(const ReplayScope&) = delete;
  ReplayScope& operator=(const ReplayScope&) = delete;

 private:
  at::Tensor cpu_rng_;
  std::vector<std::pair<c10::DeviceIndex, at::Tensor>> cuda_rng_;
  AutocastState cpu_autocast_, cuda_autocast_;
};

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  // Autograd runs this with grad mode off, so fn records no graph and keeps no activations.
  static variable_list forward(AutogradContext* ctx, const c10::intrusive_ptr<Replay>& replay,
                               at::TensorList inputs) {
    replay->cpu_rng = generator_state(at::detail::getDefaultCPUGenerator());
    std::set<c10::DeviceIndex> cuda_devices;
    for (const auto& x : inputs) {
      if (x.defined() && x.is_cuda()) cuda_devices.insert(x.device().index());
    }
    for (c10::DeviceIndex index : cuda_devices) {
      replay->cuda_rng.emplace_back(index, generator_state(cuda_generator(index)));
    }
    replay->cpu_autocast = train::detail::autocast_state(c10::kCPU);
    replay->cuda_autocast = train::detail::autocast_state(c10::kCUDA);

    ctx->save_for_backward(inputs.vec());
    ctx->saved_data["replay"] = c10::IValue::make_capsule(replay);
    return replay->fn(inputs.vec());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto replay = c10::static_intrusive_pointer_cast<Replay>(ctx->saved_data["replay"].toCapsule());
    const variable_list saved = ctx->get_saved_variables();

    // Fresh leaves for the inputs: the inner backward stops at them and leaves their gradients
    // in .grad, while module parameters inside fn receive theirs in their own .grad.
    variable_list leaves;
    leaves.reserve(saved.size());
    for (const auto& x : saved) {
      leaves.push_back(x.defined() ? x.detach().requires_grad_(x.requires_grad()) : x);
    }
    variable_list outputs;
    {
      ReplayScope scope(*replay);
      torch::AutoGradMode grad_on(true);
      outputs = replay->fn(leaves);
    }
    variable_list roots, root_grads;
    for (size_t i = 0; i < outputs.size() && i < grad_outputs.size(); ++i) {
      if (outputs[i].defined() && outputs[i].requires_grad() && grad_outputs[i].defined()) {
        roots.push_back(outputs[i]);
        root_grads.push_back(grad_outputs[i]);
      }
    }
    if (!roots.empty()) torch::autograd::backward(roots, root_grads);

    variable_list grads;  // one per forward argument: none for the replay, then one per input
    grads.reserve(leaves.size() + 1);
    grads.emplace_back();
    for (const auto& leaf : leaves) {
      grads.push_back(leaf.defined() && leaf.requires_grad() ? leaf.grad() : at::Tensor());
    }
    return grads;
  }
};

}  // namespace

std::vector<at::Tensor> checkpoint(const CheckpointFn& fn, const std::vector<at::Tensor>& inputs) {
  bool any_requires_grad = false;
  for (const auto& x : inputs)
    any_requires_grad = any_requires_grad || (x.defined() && x.requires_grad());
  if (!torch::GradMode::is_enabled() || !any_requires_grad) return fn(inputs);
  auto replay = c10::make_intrusive<Replay>();
  replay->fn = fn;
  return CheckpointFunction::apply(replay, at::TensorList(inputs));
}

at::Tensor checkpoint(const std::function<at::Tensor(const at::Tensor&)>& fn,
                      const at::Tensor& input) {
  auto outputs = checkpoint(
      [fn](const std::vector<at::Tensor>& in) { return std::vector<at::Tensor>{fn(in[0])}; },
      std::vector<at::Tensor>{input});
  return outputs[0];
}

}  // namespace mudit::nn
