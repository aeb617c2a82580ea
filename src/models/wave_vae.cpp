#include "mudit/models/wave_vae.h"

#include <ATen/ATen.h>

#include <utility>

#include "mudit/core/error.h"

namespace mudit {

void WaveVAEConfig::validate() const {
  MUDIT_CHECK(sample_rate > 0, ConfigError, "wave VAE sample_rate must be positive");
  seanet().validate("wave VAE");
}

SeanetConfig WaveVAEConfig::seanet() const {
  SeanetConfig c;
  c.in_channels = audio_channels;
  c.latent_dim = latent_dim;
  c.strides = strides;
  c.channels = channels;
  c.residual_kernels = residual_kernels;
  c.residual_dilations = residual_dilations;
  c.activation = activation;
  c.kernel_size = kernel_size;
  c.latent_kernel_size = latent_kernel_size;
  c.weight_norm = weight_norm;
  return c;
}

int64_t WaveVAEConfig::hop_length() const {
  return seanet().hop_length();
}

WaveVAEConfig WaveVAEConfig::seed() {
  return {};
}

WaveVAEConfig WaveVAEConfig::tiny() {
  WaveVAEConfig c;
  c.latent_dim = 32;
  c.channels = {16, 16, 32, 32, 64, 64, 128, 128, 128};
  c.residual_kernels = {3, 5};
  c.residual_dilations = {1, 3};
  return c;
}

WaveVAEImpl::WaveVAEImpl(WaveVAEConfig config) : config_(std::move(config)) {
  config_.validate();
  encoder_ = register_module("encoder", SeanetEncoder(config_.seanet()));
  decoder_ = register_module("decoder", SeanetDecoder(config_.seanet()));
}

Posterior WaveVAEImpl::encode_posterior(const at::Tensor& wav) {
  return encoder_(wav);
}

at::Tensor WaveVAEImpl::encode(const at::Tensor& wav, bool sample) {
  const Posterior q = encoder_(wav);
  return (sample ? q.sample() : q.mean).transpose(1, 2);  // [B, T', D]
}

at::Tensor WaveVAEImpl::decode(const at::Tensor& z) {
  MUDIT_CHECK(z.dim() == 3, ShapeError, "wave VAE decode expects [B, T', D], got ", z.sizes());
  return decoder_(z.transpose(1, 2));  // [B, C, T' * hop]
}

VAEOutput WaveVAEImpl::forward(const at::Tensor& wav) {
  VAEOutput out;
  out.posterior = encoder_(wav);
  out.recon = decoder_(out.posterior.sample());  // [B, C, T]
  return out;
}

}  // namespace mudit
