#include "mudit/nn/activation.h"

#include <ATen/ATen.h>

#include "mudit/core/error.h"

namespace mudit::nn {
namespace {

constexpr const char* kKinds[] = {"elu", "leaky_relu", "gelu", "silu", "snake"};
constexpr double kSnakeEps = 1e-9;

}  // namespace

void check_activation(const std::string& field, const std::string& kind) {
  for (const char* k : kKinds) {
    if (kind == k) return;
  }
  MUDIT_THROW(ConfigError, field, ": unknown activation '", kind,
              "' (one of: elu, leaky_relu, gelu, silu, snake)");
}

SnakeImpl::SnakeImpl(int64_t channels) {
  MUDIT_CHECK(channels > 0, ConfigError, "snake needs a positive channel count");
  alpha_ = register_parameter("alpha", at::ones({1, channels, 1}));
}

at::Tensor SnakeImpl::forward(const at::Tensor& x) {
  MUDIT_CHECK(x.dim() == 3 && x.size(1) == alpha_.size(1), ShapeError, "snake over ",
              alpha_.size(1), " channels expects [B, ", alpha_.size(1), ", T], got ", x.sizes());
  const at::Tensor s = at::sin(alpha_ * x);              // [B, C, T]
  return x + s * s * (alpha_ + kSnakeEps).reciprocal();  // [B, C, T]
}

ActivationImpl::ActivationImpl(const std::string& kind, int64_t channels) : kind_(kind) {
  check_activation("activation", kind);
  if (kind_ == "snake") snake_ = register_module("snake", Snake(channels));
}

at::Tensor ActivationImpl::forward(const at::Tensor& x) {
  if (kind_ == "elu") return at::elu(x);
  if (kind_ == "leaky_relu") return at::leaky_relu(x, 0.1);
  if (kind_ == "gelu") return at::gelu(x);
  if (kind_ == "silu") return at::silu(x);
  return snake_(x);
}

}  // namespace mudit::nn
