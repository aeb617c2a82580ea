#pragma once

// The waveform VAE (the seed's `direct_wav_vae`): a SEANet encoder from stereo 24 kHz audio to a
// 64-d Gaussian latent at 2048x downsampling (11.7 frames per second), and the mirrored decoder.
// Module names: `encoder.*`, `decoder.*` (see conv_vae.h).

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mudit/models/conv_vae.h"

namespace mudit {

struct WaveVAEConfig {
  int64_t sample_rate = 24000;
  int64_t audio_channels = 2;
  int64_t latent_dim = 64;
  std::vector<int64_t> strides{2, 2, 2, 2, 2, 4, 4, 4};
  std::vector<int64_t> channels{32, 64, 128, 128, 256, 256, 512, 512, 512};
  std::vector<int64_t> residual_kernels{3, 5, 7};
  std::vector<int64_t> residual_dilations{1, 3, 5};
  std::string activation = "elu";  ///< "elu" (SEANet) or "snake" (Oobleck / DAC), ...
  int64_t kernel_size = 7;
  int64_t latent_kernel_size = 3;
  bool weight_norm = true;

  template <class V>
  void visit(V& v) {
    v("sample_rate", sample_rate);
    v("audio_channels", audio_channels);
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
  int64_t hop_length() const;

  /// The seed preset (the defaults): 24 kHz stereo, 64-d, strides [2,2,2,2,2,4,4,4] = 2048x,
  /// residual units (k, d) = (3, 1), (5, 3), (7, 5), channels 32 ... 512.
  static WaveVAEConfig seed();
  /// For tests and the demo: the seed's strides, 32-d, channels 16 ... 128, units (3, 1), (5, 3).
  static WaveVAEConfig tiny();
};

/// The encoder's posterior and the decoder's reconstruction of one forward pass.
struct VAEOutput {
  at::Tensor recon;     ///< [B, C, T]
  Posterior posterior;  ///< [B, D, T / hop] each
};

class WaveVAEImpl : public torch::nn::Module {
 public:
  explicit WaveVAEImpl(WaveVAEConfig config);

  /// wav [B, audio_channels, T], T a multiple of hop_length().
  Posterior encode_posterior(const at::Tensor& wav);
  /// Latents [B, T / hop, D]: the posterior mean, or a sample when `sample`.
  at::Tensor encode(const at::Tensor& wav, bool sample = false);
  /// z [B, T', D] -> wav [B, audio_channels, T' * hop].
  at::Tensor decode(const at::Tensor& z);
  /// Training pass: encode, sample the posterior, decode.
  VAEOutput forward(const at::Tensor& wav);

  const WaveVAEConfig& config() const { return config_; }
  int64_t hop_length() const { return config_.hop_length(); }

 private:
  WaveVAEConfig config_;
  SeanetEncoder encoder_{nullptr};
  SeanetDecoder decoder_{nullptr};
};
TORCH_MODULE(WaveVAE);

}  // namespace mudit
