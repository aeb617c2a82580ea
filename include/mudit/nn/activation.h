#pragma once

// Activations the audio codecs choose between by name. Snake (Ziyin et al. 2020, as BigVGAN
// and Oobleck / DAC use it) has a learnable frequency per channel, so it is a module; the
// others are stateless and wrapped so an encoder can hold "an activation" whatever the config.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>

namespace mudit::nn {

/// Snake: x + sin^2(alpha * x) / (alpha + eps), alpha a per-channel parameter `alpha` [1, C, 1]
/// initialised to 1. Periodic inductive bias for waveforms.
class SnakeImpl : public torch::nn::Module {
 public:
  explicit SnakeImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x);  // [B, C, T] -> [B, C, T]

 private:
  at::Tensor alpha_;
};
TORCH_MODULE(Snake);

/// One activation over [B, C, T] chosen by name: "elu" (alpha 1), "leaky_relu" (slope 0.1),
/// "gelu", "silu" or "snake" (a SnakeImpl child named `snake`, so its parameter is
/// `<name>.snake.alpha`). Throws ConfigError for another name.
class ActivationImpl : public torch::nn::Module {
 public:
  ActivationImpl(const std::string& kind, int64_t channels);
  at::Tensor forward(const at::Tensor& x);

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  Snake snake_{nullptr};
};
TORCH_MODULE(Activation);

/// Throws ConfigError unless `kind` names an activation ActivationImpl knows; `field` names the
/// config key in the message.
void check_activation(const std::string& field, const std::string& kind);

}  // namespace mudit::nn
