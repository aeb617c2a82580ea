#include "mudit/models/mel_vae.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

#include <utility>

#include "mudit/core/error.h"

namespace mudit {

void MelVAEConfig::validate() const {
  mel.validate();
  seanet().validate("mel VAE");
}

SeanetConfig MelVAEConfig::seanet() const {
  SeanetConfig c;
  c.in_channels = mel.n_mels;
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

int64_t MelVAEConfig::frames_per_latent() const {
  return seanet().hop_length();
}

MelVAEConfig MelVAEConfig::seed() {
  return {};
}

MelVAEConfig MelVAEConfig::tiny() {
  MelVAEConfig c;
  c.latent_dim = 32;
  c.channels = {128, 128, 160, 160, 192};
  c.residual_kernels = {3};
  c.residual_dilations = {1};
  return c;
}

MelVAEImpl::MelVAEImpl(MelVAEConfig config) : config_(std::move(config)), mel_(config_.mel) {
  config_.validate();
  encoder_ = register_module("encoder", SeanetEncoder(config_.seanet()));
  decoder_ = register_module("decoder", SeanetDecoder(config_.seanet()));
  const int64_t m = config_.mel.n_mels;
  mel_mean_ = register_buffer("mel_mean", at::zeros({m}));
  mel_std_ = register_buffer("mel_std", at::ones({m}));
  mel_stats_frames_ = register_buffer("mel_stats_frames", at::zeros({}, at::kLong));
}

at::Tensor MelVAEImpl::normalize(const at::Tensor& logmel) const {
  MUDIT_CHECK(logmel.dim() == 3 && logmel.size(1) == config_.mel.n_mels, ShapeError,
              "mel VAE expects log-mel [B, ", config_.mel.n_mels, ", N], got ", logmel.sizes());
  return (logmel - mel_mean_.view({1, -1, 1})) / mel_std_.view({1, -1, 1});  // [B, M, N]
}

at::Tensor MelVAEImpl::denormalize(const at::Tensor& normalized) const {
  return normalized * mel_std_.view({1, -1, 1}) + mel_mean_.view({1, -1, 1});  // [B, M, N]
}

at::Tensor MelVAEImpl::mel_frames(const at::Tensor& mono) const {
  const int64_t hop = config_.mel.hop_length;
  MUDIT_CHECK(mono.dim() == 2 && mono.size(1) % hop == 0 && mono.size(1) > 0, ShapeError,
              "mel frames need audio [B, T] with T a multiple of ", hop, ", got ", mono.sizes());
  return mel_(mono).slice(2, 0, mono.size(1) / hop);  // [B, M, T / hop]
}

void MelVAEImpl::set_statistics(const at::Tensor& mean, const at::Tensor& std, int64_t frames) {
  const int64_t m = config_.mel.n_mels;
  MUDIT_CHECK(mean.numel() == m && std.numel() == m, ShapeError, "mel statistics need ", m,
              " values each, got ", mean.numel(), " and ", std.numel());
  MUDIT_CHECK(std.min().item<double>() > 0, DataError, "mel statistics: std must be positive");
  torch::NoGradGuard no_grad;
  mel_mean_.copy_(mean.reshape({m}));
  mel_std_.copy_(std.reshape({m}));
  mel_stats_frames_.fill_(frames);
}

int64_t MelVAEImpl::statistics_frames() const {
  return mel_stats_frames_.item<int64_t>();
}

Posterior MelVAEImpl::encode_posterior(const at::Tensor& logmel) {
  return encoder_(normalize(logmel));
}

at::Tensor MelVAEImpl::encode(const at::Tensor& logmel, bool sample) {
  const Posterior q = encode_posterior(logmel);
  return (sample ? q.sample() : q.mean).transpose(1, 2);  // [B, N', D]
}

at::Tensor MelVAEImpl::decode(const at::Tensor& z) {
  MUDIT_CHECK(z.dim() == 3, ShapeError, "mel VAE decode expects [B, N', D], got ", z.sizes());
  return denormalize(decoder_(z.transpose(1, 2)));  // [B, M, N' * 16]
}

MelVAEImpl::Output MelVAEImpl::forward(const at::Tensor& normalized) {
  Output out;
  out.posterior = encoder_(normalized);
  out.recon = decoder_(out.posterior.sample());  // [B, M, N]
  return out;
}

// --- discriminator --------------------------------------------------------------------------

MelDiscriminatorImpl::MelDiscriminatorImpl(std::vector<int64_t> channels) {
  MUDIT_CHECK(!channels.empty(), ConfigError, "mel discriminator needs at least one layer");
  torch::nn::ModuleList list;
  int64_t in = 1;
  for (size_t i = 0; i < channels.size(); ++i) {
    const int64_t stride = i == 0 ? 1 : 2;
    convs_.emplace_back(nn::ConvOptions(in, channels[i], {3, 3})
                            .with_stride({stride, stride})
                            .with_padding({1, 1})
                            .with_norm(nn::WeightNorm::kWeight));
    list->push_back(convs_.back());
    in = channels[i];
  }
  register_module("convs", list);
  conv_post_ = register_module(
      "conv_post",
      nn::Conv2d(
          nn::ConvOptions(in, 1, {3, 3}).with_padding({1, 1}).with_norm(nn::WeightNorm::kWeight)));
}

DiscriminatorOutput MelDiscriminatorImpl::forward(const at::Tensor& mel) {
  MUDIT_CHECK(mel.dim() == 3, ShapeError, "mel discriminator expects [B, M, N], got ", mel.sizes());
  DiscriminatorOutput out;
  at::Tensor h = mel.unsqueeze(1);  // [B, 1, M, N]
  for (auto& c : convs_) {
    h = at::leaky_relu(c(h), 0.2);  // [B, C, M', N']
    out.fmap.push_back(h);
  }
  h = conv_post_(h);  // [B, 1, M', N']
  out.fmap.push_back(h);
  out.logits = h.flatten(1, -1);  // [B, M' * N']
  return out;
}

MultiDiscriminatorOutput MelDiscriminatorImpl::forward(const at::Tensor& real,
                                                       const at::Tensor& generated) {
  DiscriminatorOutput r = forward(real);
  DiscriminatorOutput g = forward(generated);
  MultiDiscriminatorOutput out;
  out.y_d_rs.push_back(std::move(r.logits));
  out.fmap_rs.push_back(std::move(r.fmap));
  out.y_d_gs.push_back(std::move(g.logits));
  out.fmap_gs.push_back(std::move(g.fmap));
  return out;
}

}  // namespace mudit
