#pragma once

// Convolutions with the re-parameterisations GAN vocoders use, named as PyTorch names them so
// official checkpoints load unchanged:
//   weight norm    `weight_g`, `weight_v` (torch.nn.utils.weight_norm, dim 0):
//                  weight = weight_g * weight_v / ||weight_v||, the norm taken over every
//                  dimension but 0. For Conv1d/Conv2d dimension 0 is the output channel; for
//                  ConvTranspose1d (weight laid out [in, out/groups, k]) it is the input channel.
//   spectral norm  `weight_orig`, buffers `weight_u` [out] and `weight_v` [in/groups * prod(k)]
//                  (torch.nn.utils.spectral_norm): weight = weight_orig / sigma,
//                  sigma = u . (W v) with W = weight_orig viewed [out, -1]. In training mode each
//                  forward first runs one power iteration on u and v (in place, without grad).
//   none           a plain `weight`.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace mudit::nn {

/// How a convolution's weight is parameterised.
enum class WeightNorm { kNone, kWeight, kSpectral };

/// Shape and re-parameterisation of a convolution. Spatial fields hold one value per spatial
/// dimension (1 for 1-D, 2 for 2-D); a single value is repeated for 2-D.
struct ConvOptions {
  ConvOptions(int64_t in_channels, int64_t out_channels, std::vector<int64_t> kernel_size)
      : in_channels(in_channels), out_channels(out_channels), kernel_size(std::move(kernel_size)) {}

  int64_t in_channels;
  int64_t out_channels;
  std::vector<int64_t> kernel_size;
  std::vector<int64_t> stride{1};
  std::vector<int64_t> padding{0};
  std::vector<int64_t> dilation{1};
  std::vector<int64_t> output_padding{0};  // ConvTranspose1d only
  int64_t groups = 1;
  bool bias = true;
  WeightNorm norm = WeightNorm::kWeight;
  /// Spectral norm: the epsilon of the power iteration's normalisation.
  double spectral_eps = 1e-12;

  ConvOptions& with_stride(std::vector<int64_t> v) { return stride = std::move(v), *this; }
  ConvOptions& with_padding(std::vector<int64_t> v) { return padding = std::move(v), *this; }
  ConvOptions& with_dilation(std::vector<int64_t> v) { return dilation = std::move(v), *this; }
  ConvOptions& with_groups(int64_t v) { return groups = v, *this; }
  ConvOptions& with_bias(bool v) { return bias = v, *this; }
  ConvOptions& with_norm(WeightNorm v) { return norm = v, *this; }
};

/// Which convolution a NormConvImpl computes.
enum class ConvKind { kConv1d, kConvTranspose1d, kConv2d };

/// A convolution whose weight is stored plain, weight-normalised or spectrally normalised (see
/// the file comment). Initialised as PyTorch initialises the plain layer (Kaiming-uniform weight,
/// uniform bias), then re-parameterised: weight_g = ||weight_v|| so the effective weight is the
/// same; spectral-norm u and v start as normalised Gaussian vectors.
class NormConvImpl : public torch::nn::Module {
 public:
  NormConvImpl(ConvKind kind, ConvOptions options);

  /// [B, C_in, T] -> [B, C_out, T'] (2-D: [B, C_in, H, W] -> [B, C_out, H', W']).
  at::Tensor forward(const at::Tensor& x);

  /// The weight the convolution uses now (no power iteration).
  at::Tensor effective_weight() const;
  /// Folds weight_g * weight_v / ||weight_v|| into a plain `weight` parameter, as PyTorch's
  /// remove_weight_norm() does; no-op when the weight is not weight-normalised.
  void remove_weight_norm();

  const ConvOptions& options() const { return options_; }
  ConvKind kind() const { return kind_; }
  WeightNorm norm() const { return norm_; }

 private:
  void power_iteration();
  at::Tensor convolve(const at::Tensor& x, const at::Tensor& weight) const;
  void replace_with_plain_weight(const at::Tensor& weight);

  ConvKind kind_;
  ConvOptions options_;
  WeightNorm norm_;
  at::Tensor weight_;       // kNone
  at::Tensor weight_g_;     // kWeight: [shape[0], 1, ...]
  at::Tensor weight_v_;     // kWeight: like the weight; kSpectral: buffer [prod(shape[1:])]
  at::Tensor weight_orig_;  // kSpectral
  at::Tensor weight_u_;     // kSpectral: buffer [out]
  at::Tensor bias_;
};

/// Conv1d over [B, C, T]; weight [out, in/groups, k].
class Conv1dImpl : public NormConvImpl {
 public:
  explicit Conv1dImpl(ConvOptions options) : NormConvImpl(ConvKind::kConv1d, std::move(options)) {}
};
TORCH_MODULE(Conv1d);

/// ConvTranspose1d over [B, C, T]; weight [in, out/groups, k] (weight norm per input channel).
class ConvTranspose1dImpl : public NormConvImpl {
 public:
  explicit ConvTranspose1dImpl(ConvOptions options)
      : NormConvImpl(ConvKind::kConvTranspose1d, std::move(options)) {}
};
TORCH_MODULE(ConvTranspose1d);

/// Conv2d over [B, C, H, W]; weight [out, in/groups, kh, kw].
class Conv2dImpl : public NormConvImpl {
 public:
  explicit Conv2dImpl(ConvOptions options) : NormConvImpl(ConvKind::kConv2d, std::move(options)) {}
};
TORCH_MODULE(Conv2d);

/// Calls remove_weight_norm() on every NormConvImpl in `module` (itself included).
void remove_weight_norm(torch::nn::Module& module);

}  // namespace mudit::nn
