#pragma once

// The convolutional encoder / decoder both codec VAEs are built from (SEANet-style: Tagliasacchi
// et al. 2020, as in EnCodec and DAC). Over [B, C, T]:
//
//   encoder  conv_in (k) -> per stride s: residual units, activation, strided conv (k = 2s;
//            k = 3 for s = 1)
//            -> activation -> conv_out (latent_kernel) to 2 x latent_dim (mean, log-variance)
//   decoder  conv_in (k) -> per stride, reversed: activation, transposed conv (k = 2s),
//            residual units -> activation -> conv_out (k) to the input channels
//
// A residual unit is x + conv2(act(conv1(act(x)))) with conv1 of kernel k_j and dilation d_j
// ("same" padding) and conv2 1x1; a stage has one unit per (residual_kernels[j],
// residual_dilations[j]) pair. Every conv is weight-normalised unless weight_norm is false.
// Lengths: the encoder needs T to be a multiple of prod(strides) and returns T / prod(strides)
// frames; the decoder returns exactly frames x prod(strides).

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mudit/nn/activation.h"
#include "mudit/nn/conv.h"

namespace mudit {

/// The shape of a SEANet encoder / decoder pair.
struct SeanetConfig {
  int64_t in_channels = 1;  ///< waveform channels, or mel bins
  int64_t latent_dim = 64;
  std::vector<int64_t> strides{2, 4, 5, 8};
  /// Channels at each resolution: channels[0] after conv_in, channels[i + 1] after stride i.
  std::vector<int64_t> channels{32, 64, 128, 256, 512};
  std::vector<int64_t> residual_kernels{3, 5, 7};
  std::vector<int64_t> residual_dilations{1, 3, 5};
  std::string activation = "elu";
  int64_t kernel_size = 7;         ///< conv_in / conv_out
  int64_t latent_kernel_size = 3;  ///< the encoder's conv_out
  bool weight_norm = true;

  /// Throws ConfigError naming the first inconsistent field (prefixed with `where`).
  void validate(const std::string& where = "") const;
  /// prod(strides): input samples (or frames) per latent frame.
  int64_t hop_length() const;
};

/// Mean and log-variance of the diagonal Gaussian posterior, [B, D, T'] each.
struct Posterior {
  at::Tensor mean;
  at::Tensor logvar;
  /// mean + exp(logvar / 2) * N(0, 1) (reparameterised; draws from the default generator).
  at::Tensor sample() const;
  /// KL(q || N(0, I)) per element, averaged over every element: [].
  at::Tensor kl() const;
};

/// x + conv2(act2(conv1(act1(x)))): `act1`, `conv1`, `act2`, `conv2`.
class SeanetResidualUnitImpl : public torch::nn::Module {
 public:
  SeanetResidualUnitImpl(int64_t channels, int64_t kernel, int64_t dilation,
                         const std::string& activation, nn::WeightNorm norm);
  at::Tensor forward(const at::Tensor& x);  // [B, C, T] -> [B, C, T]

 private:
  nn::Activation act1_{nullptr}, act2_{nullptr};
  nn::Conv1d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(SeanetResidualUnit);

/// `conv_in`, `blocks.N.{units.M, act, down}`, `act_out`, `conv_out`.
class SeanetEncoderImpl : public torch::nn::Module {
 public:
  explicit SeanetEncoderImpl(SeanetConfig config);
  /// [B, in_channels, T] -> posterior over [B, latent_dim, T / hop].
  Posterior forward(const at::Tensor& x);
  const SeanetConfig& config() const { return config_; }

 private:
  struct Stage {
    std::vector<SeanetResidualUnit> units;
    nn::Activation act{nullptr};
    nn::Conv1d down{nullptr};
  };
  SeanetConfig config_;
  nn::Conv1d conv_in_{nullptr}, conv_out_{nullptr};
  nn::Activation act_out_{nullptr};
  std::vector<Stage> stages_;
};
TORCH_MODULE(SeanetEncoder);

/// `conv_in`, `blocks.N.{act, up, units.M}` (coarsest first), `act_out`, `conv_out`.
class SeanetDecoderImpl : public torch::nn::Module {
 public:
  explicit SeanetDecoderImpl(SeanetConfig config);
  /// [B, latent_dim, T'] -> [B, in_channels, T' * hop].
  at::Tensor forward(const at::Tensor& z);
  const SeanetConfig& config() const { return config_; }

 private:
  struct Stage {
    nn::Activation act{nullptr};
    nn::ConvTranspose1d up{nullptr};
    std::vector<SeanetResidualUnit> units;
  };
  SeanetConfig config_;
  nn::Conv1d conv_in_{nullptr}, conv_out_{nullptr};
  nn::Activation act_out_{nullptr};
  std::vector<Stage> stages_;
};
TORCH_MODULE(SeanetDecoder);

}  // namespace mudit
