#include "mudit/models/conv_vae.h"

#include <ATen/ATen.h>

#include <utility>

#include "mudit/core/error.h"

namespace mudit {
namespace {

nn::WeightNorm norm_of(const SeanetConfig& c) {
  return c.weight_norm ? nn::WeightNorm::kWeight : nn::WeightNorm::kNone;
}

nn::ConvOptions conv(int64_t in, int64_t out, int64_t kernel, nn::WeightNorm norm) {
  return nn::ConvOptions(in, out, {kernel}).with_norm(norm);
}

// The resampling convs: kernel 2s, stride s (kernel 3 for s = 1), padded so the encoder maps
// T -> T / s for T a multiple of s and the transposed conv maps T -> T * s.
int64_t resample_kernel(int64_t s) {
  return s == 1 ? 3 : 2 * s;
}
int64_t resample_padding(int64_t s) {
  return s == 1 ? 1 : (s + 1) / 2;
}
int64_t resample_output_padding(int64_t s) {
  return s == 1 ? 0 : s % 2;
}

}  // namespace

void SeanetConfig::validate(const std::string& where) const {
  const std::string at = where.empty() ? "" : where + ": ";
  MUDIT_CHECK(in_channels > 0 && latent_dim > 0, ConfigError, at,
              "in_channels and latent_dim must be positive");
  MUDIT_CHECK(!strides.empty(), ConfigError, at, "strides must not be empty");
  for (int64_t s : strides) MUDIT_CHECK(s >= 1, ConfigError, at, "strides must be >= 1, got ", s);
  MUDIT_CHECK(channels.size() == strides.size() + 1, ConfigError, at, "channels needs one entry ",
              "per resolution (strides + 1 = ", strides.size() + 1, "), got ", channels.size());
  for (int64_t c : channels) MUDIT_CHECK(c > 0, ConfigError, at, "channels must be positive");
  MUDIT_CHECK(residual_kernels.size() == residual_dilations.size(), ConfigError, at,
              "residual_kernels (", residual_kernels.size(), ") and residual_dilations (",
              residual_dilations.size(), ") pair up and need the same length");
  for (size_t j = 0; j < residual_kernels.size(); ++j) {
    MUDIT_CHECK(residual_kernels[j] % 2 == 1 && residual_dilations[j] >= 1, ConfigError, at,
                "residual unit ", j, ": kernel ", residual_kernels[j], " must be odd and dilation ",
                residual_dilations[j], " >= 1");
  }
  MUDIT_CHECK(kernel_size % 2 == 1 && latent_kernel_size % 2 == 1, ConfigError, at,
              "kernel_size and latent_kernel_size must be odd");
  nn::check_activation(at + "activation", activation);
}

int64_t SeanetConfig::hop_length() const {
  int64_t hop = 1;
  for (int64_t s : strides) hop *= s;
  return hop;
}

at::Tensor Posterior::sample() const {
  return mean + at::exp(0.5 * logvar) * at::randn_like(mean);  // [B, D, T']
}

at::Tensor Posterior::kl() const {
  const at::Tensor m = mean.to(at::kFloat);
  const at::Tensor lv = logvar.to(at::kFloat);
  return (0.5 * (m * m + at::exp(lv) - 1.0 - lv)).mean();
}

// --- residual unit --------------------------------------------------------------------------

SeanetResidualUnitImpl::SeanetResidualUnitImpl(int64_t channels, int64_t kernel, int64_t dilation,
                                               const std::string& activation, nn::WeightNorm norm) {
  act1_ = register_module("act1", nn::Activation(activation, channels));
  conv1_ = register_module("conv1", nn::Conv1d(conv(channels, channels, kernel, norm)
                                                   .with_dilation({dilation})
                                                   .with_padding({(kernel - 1) * dilation / 2})));
  act2_ = register_module("act2", nn::Activation(activation, channels));
  conv2_ = register_module("conv2", nn::Conv1d(conv(channels, channels, 1, norm)));
}

at::Tensor SeanetResidualUnitImpl::forward(const at::Tensor& x) {
  return x + conv2_(act2_(conv1_(act1_(x))));  // [B, C, T]
}

// --- encoder --------------------------------------------------------------------------------

SeanetEncoderImpl::SeanetEncoderImpl(SeanetConfig config) : config_(std::move(config)) {
  config_.validate("encoder");
  const auto& c = config_;
  const auto norm = norm_of(c);
  conv_in_ =
      register_module("conv_in", nn::Conv1d(conv(c.in_channels, c.channels[0], c.kernel_size, norm)
                                                .with_padding({c.kernel_size / 2})));
  auto blocks = register_module("blocks", torch::nn::ModuleList());
  for (size_t i = 0; i < c.strides.size(); ++i) {
    const int64_t ch = c.channels[i];
    const int64_t s = c.strides[i];
    auto block = std::make_shared<torch::nn::Module>();
    auto units = block->register_module("units", torch::nn::ModuleList());
    Stage stage;
    for (size_t j = 0; j < c.residual_kernels.size(); ++j) {
      stage.units.emplace_back(ch, c.residual_kernels[j], c.residual_dilations[j], c.activation,
                               norm);
      units->push_back(stage.units.back());
    }
    stage.act = block->register_module("act", nn::Activation(c.activation, ch));
    stage.down = block->register_module(
        "down", nn::Conv1d(conv(ch, c.channels[i + 1], resample_kernel(s), norm)
                               .with_stride({s})
                               .with_padding({resample_padding(s)})));
    blocks->push_back(block);
    stages_.push_back(std::move(stage));
  }
  act_out_ = register_module("act_out", nn::Activation(c.activation, c.channels.back()));
  conv_out_ = register_module(
      "conv_out", nn::Conv1d(conv(c.channels.back(), 2 * c.latent_dim, c.latent_kernel_size, norm)
                                 .with_padding({c.latent_kernel_size / 2})));
}

Posterior SeanetEncoderImpl::forward(const at::Tensor& x) {
  const int64_t hop = config_.hop_length();
  MUDIT_CHECK(
      x.dim() == 3 && x.size(1) == config_.in_channels && x.size(2) % hop == 0 && x.size(2) > 0,
      ShapeError, "encoder expects [B, ", config_.in_channels, ", T] with T a multiple of ", hop,
      ", got ", x.sizes());
  at::Tensor h = conv_in_(x);  // [B, C0, T]
  for (auto& stage : stages_) {
    for (auto& unit : stage.units) h = unit(h);
    h = stage.down(stage.act(h));  // [B, C_{i+1}, T / prod(s[..i])]
  }
  const auto parts = conv_out_(act_out_(h)).chunk(2, 1);  // 2 x [B, D, T / hop]
  return {parts[0], parts[1].clamp(-30.0, 20.0)};
}

// --- decoder --------------------------------------------------------------------------------

SeanetDecoderImpl::SeanetDecoderImpl(SeanetConfig config) : config_(std::move(config)) {
  config_.validate("decoder");
  const auto& c = config_;
  const auto norm = norm_of(c);
  conv_in_ = register_module("conv_in",
                             nn::Conv1d(conv(c.latent_dim, c.channels.back(), c.kernel_size, norm)
                                            .with_padding({c.kernel_size / 2})));
  auto blocks = register_module("blocks", torch::nn::ModuleList());
  for (size_t r = 0; r < c.strides.size(); ++r) {
    const size_t i = c.strides.size() - 1 - r;  // coarsest resolution first
    const int64_t s = c.strides[i];
    const int64_t ch = c.channels[i];
    auto block = std::make_shared<torch::nn::Module>();
    Stage stage;
    stage.act = block->register_module("act", nn::Activation(c.activation, c.channels[i + 1]));
    nn::ConvOptions up = conv(c.channels[i + 1], ch, resample_kernel(s), norm)
                             .with_stride({s})
                             .with_padding({resample_padding(s)});
    up.output_padding = {resample_output_padding(s)};
    stage.up = block->register_module("up", nn::ConvTranspose1d(up));
    auto units = block->register_module("units", torch::nn::ModuleList());
    for (size_t j = 0; j < c.residual_kernels.size(); ++j) {
      stage.units.emplace_back(ch, c.residual_kernels[j], c.residual_dilations[j], c.activation,
                               norm);
      units->push_back(stage.units.back());
    }
    blocks->push_back(block);
    stages_.push_back(std::move(stage));
  }
  act_out_ = register_module("act_out", nn::Activation(c.activation, c.channels[0]));
  conv_out_ =
      register_module("conv_out", nn::Conv1d(conv(c.channels[0], c.in_channels, c.kernel_size, norm)
                                                 .with_padding({c.kernel_size / 2})));
}

at::Tensor SeanetDecoderImpl::forward(const at::Tensor& z) {
  MUDIT_CHECK(z.dim() == 3 && z.size(1) == config_.latent_dim && z.size(2) > 0, ShapeError,
              "decoder expects [B, ", config_.latent_dim, ", T'], got ", z.sizes());
  at::Tensor h = conv_in_(z);  // [B, C_last, T']
  for (auto& stage : stages_) {
    h = stage.up(stage.act(h));  // [B, C_i, T' * prod(s[i..])]
    for (auto& unit : stage.units) h = unit(h);
  }
  return conv_out_(act_out_(h));  // [B, in_channels, T' * hop]
}

}  // namespace mudit
