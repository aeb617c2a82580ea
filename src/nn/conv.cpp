#include "mudit/nn/conv.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>
#include <string>

#include "mudit/core/error.h"

namespace mudit::nn {
namespace {

int64_t spatial_dims(ConvKind kind) {
  return kind == ConvKind::kConv2d ? 2 : 1;
}

// A spatial option with one value per spatial dimension (a single value repeats).
std::vector<int64_t> expand(const std::vector<int64_t>& v, int64_t dims, const char* what) {
  MUDIT_CHECK(v.size() == 1 || static_cast<int64_t>(v.size()) == dims, ConfigError, "conv ", what,
              ": expected 1 or ", dims, " values, got ", v.size());
  return v.size() == 1 ? std::vector<int64_t>(dims, v[0]) : v;
}

}  // namespace

NormConvImpl::NormConvImpl(ConvKind kind, ConvOptions options)
    : kind_(kind), options_(std::move(options)), norm_(options_.norm) {
  const int64_t dims = spatial_dims(kind_);
  options_.kernel_size = expand(options_.kernel_size, dims, "kernel_size");
  options_.stride = expand(options_.stride, dims, "stride");
  options_.padding = expand(options_.padding, dims, "padding");
  options_.dilation = expand(options_.dilation, dims, "dilation");
  options_.output_padding = expand(options_.output_padding, dims, "output_padding");
  const int64_t in = options_.in_channels;
  const int64_t out = options_.out_channels;
  const int64_t groups = options_.groups;
  MUDIT_CHECK(in > 0 && out > 0 && groups > 0 && in % groups == 0 && out % groups == 0, ConfigError,
              "conv channels ", in, " -> ", out, " do not fit groups ", groups);
  MUDIT_CHECK(kind_ != ConvKind::kConvTranspose1d || norm_ != WeightNorm::kSpectral, ConfigError,
              "spectral norm is not supported on ConvTranspose1d");

  std::vector<int64_t> shape = kind_ == ConvKind::kConvTranspose1d
                                   ? std::vector<int64_t>{in, out / groups}
                                   : std::vector<int64_t>{out, in / groups};
  shape.insert(shape.end(), options_.kernel_size.begin(), options_.kernel_size.end());

  torch::NoGradGuard no_grad;
  at::Tensor weight = at::empty(shape);
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (options_.bias) {
    const auto fan_in = std::get<0>(torch::nn::init::_calculate_fan_in_and_fan_out(weight));
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    bias_ = register_parameter("bias", at::empty({out}).uniform_(-bound, bound));
  }
  switch (norm_) {
    case WeightNorm::kNone:
      weight_ = register_parameter("weight", weight);
      break;
    case WeightNorm::kWeight: {
      std::vector<int64_t> g_shape(shape.size(), 1);
      g_shape[0] = shape[0];
      weight_g_ = register_parameter(
          "weight_g", weight.reshape({shape[0], -1}).norm(2, 1).reshape(g_shape));  // [S0, 1, ..]
      weight_v_ = register_parameter("weight_v", weight);
      break;
    }
    case WeightNorm::kSpectral: {
      weight_orig_ = register_parameter("weight_orig", weight);
      const int64_t cols = weight.numel() / out;
      weight_u_ = register_buffer("weight_u", at::normal(0.0, 1.0, {out}));
      weight_v_ = register_buffer("weight_v", at::normal(0.0, 1.0, {cols}));
      weight_u_.div_(weight_u_.norm().clamp_min(options_.spectral_eps));
      weight_v_.div_(weight_v_.norm().clamp_min(options_.spectral_eps));
      break;
    }
  }
}

at::Tensor NormConvImpl::effective_weight() const {
  switch (norm_) {
    case WeightNorm::kNone:
      return weight_;
    case WeightNorm::kWeight:
      return at::_weight_norm(weight_v_, weight_g_, 0);
    case WeightNorm::kSpectral: {
      const at::Tensor mat = weight_orig_.reshape({weight_orig_.size(0), -1});  // [out, cols]
      // In training, u and v were just updated in place; clones keep autograd's saved copies
      // apart from the next update, as PyTorch does.
      const at::Tensor u = is_training() ? weight_u_.clone() : weight_u_;
      const at::Tensor v = is_training() ? weight_v_.clone() : weight_v_;
      const at::Tensor sigma = at::dot(u, at::mv(mat, v));  // []
      return weight_orig_ / sigma;
    }
  }
  MUDIT_THROW(ConfigError, "unknown weight norm");
}

void NormConvImpl::power_iteration() {
  torch::NoGradGuard no_grad;
  const at::Tensor mat = weight_orig_.reshape({weight_orig_.size(0), -1});  // [out, cols]
  const double eps = options_.spectral_eps;
  at::Tensor v = at::mv(mat.t(), weight_u_);  // [cols]
  weight_v_.copy_(v / v.norm().clamp_min(eps));
  at::Tensor u = at::mv(mat, weight_v_);  // [out]
  weight_u_.copy_(u / u.norm().clamp_min(eps));
}

at::Tensor NormConvImpl::convolve(const at::Tensor& x, const at::Tensor& weight) const {
  const auto& o = options_;
  switch (kind_) {
    case ConvKind::kConv1d:
      return at::conv1d(x, weight, bias_, o.stride, o.padding, o.dilation, o.groups);
    case ConvKind::kConvTranspose1d:
      return at::conv_transpose1d(x, weight, bias_, o.stride, o.padding, o.output_padding, o.groups,
                                  o.dilation);
    case ConvKind::kConv2d:
      return at::conv2d(x, weight, bias_, o.stride, o.padding, o.dilation, o.groups);
  }
  MUDIT_THROW(ConfigError, "unknown convolution kind");
}

at::Tensor NormConvImpl::forward(const at::Tensor& x) {
  if (norm_ == WeightNorm::kSpectral && is_training()) power_iteration();
  return convolve(x, effective_weight());
}

void NormConvImpl::replace_with_plain_weight(const at::Tensor& weight) {
  for (const char* name : {"weight_g", "weight_v"}) {
    if (parameters_.contains(name)) parameters_.erase(name);
  }
  weight_g_ = weight_v_ = at::Tensor();
  weight_ = register_parameter("weight", weight);
  norm_ = WeightNorm::kNone;
}

void NormConvImpl::remove_weight_norm() {
  if (norm_ != WeightNorm::kWeight) return;
  torch::NoGradGuard no_grad;
  replace_with_plain_weight(effective_weight().detach().clone());
}

void remove_weight_norm(torch::nn::Module& module) {
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* conv = dynamic_cast<NormConvImpl*>(m.get())) conv->remove_weight_norm();
  }
}

}  // namespace mudit::nn
