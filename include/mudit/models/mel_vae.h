#pragma once

// The mel VAE (what MuDiT generated in): log-mel frames (the MuDiT recipe: 24 kHz, hop 256,
// 160 mels) normalised per bin with statistics of the training data, a SEANet encoder over time
// with the mel bins as channels to a 512-d Gaussian latent at 16x time downsampling (5.9 frames
// per second), and the mirrored decoder. A vocoder (HiFi-GAN) turns decoded mels into audio.
//
// Module names: `encoder.*`, `decoder.*` (conv_vae.h) and the buffers `mel_mean`, `mel_std`
// [n_mels] and `mel_stats_frames` [] (how many frames the statistics came from; 0 until set).

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mudit/audio/features.h"
#include "mudit/models/conv_vae.h"
#include "mudit/models/hifigan.h"

namespace mudit {

struct MelVAEConfig {
  MelConfig mel = MelConfig::mudit_24k();
  int64_t latent_dim = 512;
  std::vector<int64_t> strides{2, 2, 2, 2};
  std::vector<int64_t> channels{256, 384, 512, 512, 768};
  std::vector<int64_t> residual_kernels{3, 5, 7};
  std::vector<int64_t> residual_dilations{1, 3, 5};
  std::string activation = "elu";
  int64_t kernel_size = 7;
  int64_t latent_kernel_size = 3;
  bool weight_norm = true;

  template <class V>
  void visit(V& v) {
    v("mel", mel);
    v("latent_dim", latent_dim);
    v("strides", strides);
    v("channels", channels);
    v("residual_kernels", residual_kernels);
    v("residual_dilations", residual_dilations);
    v("activation", activation);
    v("kernel_size", kernel_size);
    v("latent_kernel_size", latent_kernel_size);
    v("weight_norm", weight_norm);
  }
  void validate() const;
  SeanetConfig seanet() const;
  /// Mel frames per latent frame: prod(strides).
  int64_t frames_per_latent() const;

  /// The seed preset (the defaults): 160 mels, 512-d latent, 16x.
  static MelVAEConfig seed();
  /// For tests and the demo: 160 mels, 32-d latent, 16x, channels 128 ... 192, one unit a stage.
  static MelVAEConfig tiny();
};

class MelVAEImpl : public torch::nn::Module {
 public:
  explicit MelVAEImpl(MelVAEConfig config);

  /// (log-mel - mel_mean) / mel_std per bin, and back: [B, n_mels, N].
  at::Tensor normalize(const at::Tensor& logmel) const;
  at::Tensor denormalize(const at::Tensor& normalized) const;
  /// The log-mel frames of mono audio [B, T] the VAE encodes: T / hop frames, frame i centred on
  /// sample i * hop (T a multiple of the mel hop; the centred recipe's extra last frame is
  /// dropped, so T samples give exactly T / hop frames and decode back to T samples).
  at::Tensor mel_frames(const at::Tensor& mono) const;
  /// Sets the per-bin statistics (from `frames` training frames).
  void set_statistics(const at::Tensor& mean, const at::Tensor& std, int64_t frames);
  int64_t statistics_frames() const;

  /// Posterior of a log-mel [B, n_mels, N] (N a multiple of frames_per_latent()).
  Posterior encode_posterior(const at::Tensor& logmel);
  /// Latents [B, N / 16, D]: the posterior mean, or a sample when `sample`.
  at::Tensor encode(const at::Tensor& logmel, bool sample = false);
  /// z [B, N', D] -> log-mel [B, n_mels, N' * 16] (denormalised).
  at::Tensor decode(const at::Tensor& z);
  /// Training pass on a normalised log-mel: `recon` is in the normalised space too.
  struct Output {
    at::Tensor recon;
    Posterior posterior;
  };
  Output forward(const at::Tensor& normalized);

  const MelVAEConfig& config() const { return config_; }

 private:
  MelVAEConfig config_;
  MelSpectrogram mel_;
  SeanetEncoder encoder_{nullptr};
  SeanetDecoder decoder_{nullptr};
  at::Tensor mel_mean_, mel_std_, mel_stats_frames_;
};
TORCH_MODULE(MelVAE);

/// A 2-D patch discriminator over log-mel images [B, 1, n_mels, N] for the mel VAE's GAN loss:
/// `convs.N` (3x3 kernels; stride 1, then 2 in both axes), leaky ReLU 0.2, `conv_post` (3x3).
class MelDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit MelDiscriminatorImpl(std::vector<int64_t> channels = {32, 64, 128, 256});
  /// mel [B, n_mels, N] -> logits and feature maps.
  DiscriminatorOutput forward(const at::Tensor& mel);
  /// Real and generated through the same weights, in the MultiDiscriminatorOutput layout.
  MultiDiscriminatorOutput forward(const at::Tensor& real, const at::Tensor& generated);

 private:
  std::vector<nn::Conv2d> convs_;
  nn::Conv2d conv_post_{nullptr};
};
TORCH_MODULE(MelDiscriminator);

}  // namespace mudit
