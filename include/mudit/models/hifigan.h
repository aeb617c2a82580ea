#pragma once

// HiFi-GAN (Kong et al. 2020): the mel-to-waveform generator, the multi-period and multi-scale
// discriminators and the LSGAN / feature-matching losses, as in the official jik876/hifi-gan
// models.py. Module and parameter names are the official state-dict keys (`conv_pre`, `ups.N`,
// `resblocks.N.convs1.M`, `resblocks.N.convs2.M` or `resblocks.N.convs.M`, `conv_post`, each
// with `weight_g` / `weight_v` / `bias`; the discriminators' `discriminators.N.convs.M`), so a
// converted official checkpoint loads with the strict loader.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mudit/nn/conv.h"

namespace mudit {

/// The generator's shape, with the field names of the official config_v*.json files.
struct HifiganConfig {
  /// "1": ResBlock1 (two convs per dilation, V1/V2); "2": ResBlock2 (one conv per dilation, V3).
  std::string resblock = "1";
  std::vector<int64_t> upsample_rates{8, 8, 2, 2};
  std::vector<int64_t> upsample_kernel_sizes{16, 16, 4, 4};
  int64_t upsample_initial_channel = 512;
  std::vector<int64_t> resblock_kernel_sizes{3, 7, 11};
  std::vector<std::vector<int64_t>> resblock_dilation_sizes{{1, 3, 5}, {1, 3, 5}, {1, 3, 5}};
  int64_t num_mels = 80;

  template <class V>
  void visit(V& v) {
    v("resblock", resblock);
    v("upsample_rates", upsample_rates);
    v("upsample_kernel_sizes", upsample_kernel_sizes);
    v("upsample_initial_channel", upsample_initial_channel);
    v("resblock_kernel_sizes", resblock_kernel_sizes);
    v("resblock_dilation_sizes", resblock_dilation_sizes);
    v("num_mels", num_mels);
  }
  /// Throws ConfigError naming the first inconsistent field.
  void validate() const;

  /// Output samples per mel frame: the product of upsample_rates.
  int64_t hop_length() const;

  /// Official config_v1: 512 channels, upsample [8,8,2,2] / kernels [16,16,4,4], ResBlock1 with
  /// kernels [3,7,11] and dilations [1,3,5] (13.9 M parameters).
  static HifiganConfig v1();
  /// Official config_v2: as V1 with 128 channels.
  static HifiganConfig v2();
  /// Official config_v3: ResBlock2, 256 channels, upsample [8,8,4] / kernels [16,16,8], kernels
  /// [3,5,7] with dilations [1,2], [2,6], [3,12].
  static HifiganConfig v3();
  /// The large V1 MuDiT decoded through: upsample [4,4,2,2,2,2] (hop 256) with kernels twice the
  /// rates, 2048 channels, ResBlock1 kernels [3,7,11,15] with dilations [1,3,5], 160 mels (the
  /// MuDiT mel recipe).
  static HifiganConfig v1_large();
  /// V1's topology with 32 channels (the parity fixtures' generator_tiny).
  static HifiganConfig tiny();
};

/// ResBlock1 (`convs1.M` dilated, `convs2.M` undilated: x = c2(lrelu(c1(lrelu(x)))) + x) or
/// ResBlock2 (`convs.M`: x = c(lrelu(x)) + x); leaky ReLU slope 0.1, "same" padding.
class HifiganResBlockImpl : public torch::nn::Module {
 public:
  HifiganResBlockImpl(const std::string& type, int64_t channels, int64_t kernel_size,
                      const std::vector<int64_t>& dilations);
  at::Tensor forward(at::Tensor x);  // [B, C, T] -> [B, C, T]

 private:
  std::vector<nn::Conv1d> convs1_;  // ResBlock1's dilated convs, or ResBlock2's convs
  std::vector<nn::Conv1d> convs2_;  // ResBlock1 only
};
TORCH_MODULE(HifiganResBlock);

/// The generator: mel [B, num_mels, N] -> waveform [B, 1, N * hop_length] in (-1, 1).
class HifiganGeneratorImpl : public torch::nn::Module {
 public:
  explicit HifiganGeneratorImpl(HifiganConfig config);

  at::Tensor forward(const at::Tensor& mel);
  /// forward() that also returns, when `stages` is given, x after each upsampling stage (the
  /// average of that stage's resblocks), and in `pre` the output of conv_pre.
  at::Tensor forward_with_activations(const at::Tensor& mel, std::vector<at::Tensor>* stages,
                                      at::Tensor* pre = nullptr);
  /// Folds every weight norm into a plain `weight` (for inference; the output is unchanged).
  void remove_weight_norm();

  const HifiganConfig& config() const { return config_; }

 private:
  HifiganConfig config_;
  nn::Conv1d conv_pre_{nullptr};
  torch::nn::ModuleList ups_;
  torch::nn::ModuleList resblocks_;
  nn::Conv1d conv_post_{nullptr};
};
TORCH_MODULE(HifiganGenerator);

/// The discriminators' shape. The defaults are the official ones; `width` scales every channel
/// count (rounded, at least 1; grouped convs keep gcd(groups, in, out) groups) so small
/// presets can train on a CPU.
struct HifiganDiscriminatorConfig {
  std::vector<int64_t> periods{2, 3, 5, 7, 11};
  int64_t scales = 3;
  double width = 1.0;

  template <class V>
  void visit(V& v) {
    v("periods", periods);
    v("scales", scales);
    v("width", width);
  }
  void validate() const;
};

/// One discriminator's verdict: the flattened logits [B, N] and every feature map (after each
/// conv's leaky ReLU, then conv_post's raw output).
struct DiscriminatorOutput {
  at::Tensor logits;
  std::vector<at::Tensor> fmap;
};

/// Both inputs through every sub-discriminator: outputs and feature maps for the real (`r`) and
/// the generated (`g`) waveform, in the official order.
struct MultiDiscriminatorOutput {
  std::vector<at::Tensor> y_d_rs;
  std::vector<at::Tensor> y_d_gs;
  std::vector<std::vector<at::Tensor>> fmap_rs;
  std::vector<std::vector<at::Tensor>> fmap_gs;
};

/// DiscriminatorP: the waveform reflect-padded on the right to a multiple of `period`, folded to
/// [B, 1, T/p, p], five (5,1) Conv2d layers (1→32→128→512→1024, stride 3, then 1024→1024) and
/// a (3,1) conv_post.
class HifiganPeriodDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit HifiganPeriodDiscriminatorImpl(int64_t period,
                                          nn::WeightNorm norm = nn::WeightNorm::kWeight,
                                          double width = 1.0);
  DiscriminatorOutput forward(const at::Tensor& x);  // x [B, 1, T]
  int64_t period() const { return period_; }

 private:
  int64_t period_;
  std::vector<nn::Conv2d> convs_;
  nn::Conv2d conv_post_{nullptr};
};
TORCH_MODULE(HifiganPeriodDiscriminator);

/// DiscriminatorS: seven grouped strided Conv1d layers and conv_post.
class HifiganScaleDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit HifiganScaleDiscriminatorImpl(nn::WeightNorm norm = nn::WeightNorm::kWeight,
                                         double width = 1.0);
  DiscriminatorOutput forward(const at::Tensor& x);  // x [B, 1, T]

 private:
  std::vector<nn::Conv1d> convs_;
  nn::Conv1d conv_post_{nullptr};
};
TORCH_MODULE(HifiganScaleDiscriminator);

/// MultiPeriodDiscriminator: periods 2, 3, 5, 7, 11 (`discriminators.0..4`).
class HifiganMPDImpl : public torch::nn::Module {
 public:
  explicit HifiganMPDImpl(std::vector<int64_t> periods = {2, 3, 5, 7, 11}, double width = 1.0);
  MultiDiscriminatorOutput forward(const at::Tensor& y, const at::Tensor& y_hat);

 private:
  std::vector<HifiganPeriodDiscriminator> discriminators_;
};
TORCH_MODULE(HifiganMPD);

/// MultiScaleDiscriminator: three DiscriminatorS (`discriminators.0..2`), the first spectrally
/// normalised, the others on the input average-pooled (kernel 4, stride 2, padding 2) once and
/// twice. `scales` other than 3 continue the pattern.
class HifiganMSDImpl : public torch::nn::Module {
 public:
  explicit HifiganMSDImpl(int64_t scales = 3, double width = 1.0);
  MultiDiscriminatorOutput forward(const at::Tensor& y, const at::Tensor& y_hat);

 private:
  std::vector<HifiganScaleDiscriminator> discriminators_;
};
TORCH_MODULE(HifiganMSD);

/// MPD and MSD together (`mpd.*`, `msd.*`, as the official training keeps them), for GAN
/// training of a vocoder or waveform codec. Inputs are mono [B, 1, T]; fold channels into the
/// batch for multichannel audio.
class HifiganDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit HifiganDiscriminatorImpl(HifiganDiscriminatorConfig config = {});
  /// Every MPD output, then every MSD output.
  MultiDiscriminatorOutput forward(const at::Tensor& y, const at::Tensor& y_hat);

 private:
  HifiganMPD mpd_{nullptr};
  HifiganMSD msd_{nullptr};
};
TORCH_MODULE(HifiganDiscriminator);

/// LSGAN discriminator loss: total = sum_k mean((1 - D_k(y))^2) + mean(D_k(y_hat)^2), with the
/// per-discriminator terms.
struct DiscriminatorLoss {
  at::Tensor total;
  std::vector<at::Tensor> real;
  std::vector<at::Tensor> generated;
};
DiscriminatorLoss hifigan_discriminator_loss(const std::vector<at::Tensor>& y_d_rs,
                                             const std::vector<at::Tensor>& y_d_gs);

/// LSGAN generator loss: total = sum_k mean((1 - D_k(y_hat))^2), with the per-discriminator terms.
struct GeneratorLoss {
  at::Tensor total;
  std::vector<at::Tensor> each;
};
GeneratorLoss hifigan_generator_loss(const std::vector<at::Tensor>& y_d_gs);

/// Feature matching: 2 * sum over discriminators and maps of mean |fmap_r - fmap_g|.
at::Tensor hifigan_feature_loss(const std::vector<std::vector<at::Tensor>>& fmap_rs,
                                const std::vector<std::vector<at::Tensor>>& fmap_gs);

}  // namespace mudit
