#include "mudit/models/codec.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "mudit/audio/overlap_add.h"
#include "mudit/core/error.h"

namespace mudit {

// --- the interface --------------------------------------------------------------------------

CodecImpl::CodecImpl(int64_t latent_dim) {
  latent_mean_ = register_buffer("latent_mean", at::zeros({latent_dim}));
  latent_std_ = register_buffer("latent_std", at::ones({latent_dim}));
  latent_stats_frames_ = register_buffer("latent_stats_frames", at::zeros({}, at::kLong));
}

double CodecImpl::latent_rate() const {
  return static_cast<double>(sample_rate()) / static_cast<double>(hop_length());
}

void CodecImpl::set_latent_stats(const at::Tensor& mean, const at::Tensor& std, int64_t frames) {
  const int64_t d = latent_mean_.size(0);
  MUDIT_CHECK(mean.numel() == d && std.numel() == d, ShapeError, "latent statistics need ", d,
              " values each, got ", mean.numel(), " and ", std.numel());
  MUDIT_CHECK(std.min().item<double>() > 0, DataError, "latent statistics: std must be positive");
  MUDIT_CHECK(frames > 0, DataError, "latent statistics from 0 frames");
  torch::NoGradGuard no_grad;
  latent_mean_.copy_(mean.reshape({d}));
  latent_std_.copy_(std.reshape({d}));
  latent_stats_frames_.fill_(frames);
}

bool CodecImpl::has_latent_stats() const {
  return latent_stats_frames() > 0;
}

int64_t CodecImpl::latent_stats_frames() const {
  return latent_stats_frames_.item<int64_t>();
}

at::Tensor CodecImpl::normalize(const at::Tensor& z) const {
  MUDIT_CHECK(z.size(-1) == latent_mean_.size(0), ShapeError, "latents end in ", z.size(-1),
              " channels; the codec has ", latent_mean_.size(0));
  return (z - latent_mean_.to(z.device(), z.scalar_type())) /
         latent_std_.to(z.device(), z.scalar_type());  // [..., D]
}

at::Tensor CodecImpl::denormalize(const at::Tensor& z) const {
  MUDIT_CHECK(z.size(-1) == latent_mean_.size(0), ShapeError, "latents end in ", z.size(-1),
              " channels; the codec has ", latent_mean_.size(0));
  return z * latent_std_.to(z.device(), z.scalar_type()) +
         latent_mean_.to(z.device(), z.scalar_type());  // [..., D]
}

c10::Device CodecImpl::device() const {
  return latent_mean_.device();
}

at::Tensor CodecImpl::prepare_input(const at::Tensor& wav) const {
  MUDIT_CHECK(wav.dim() == 3 && wav.size(2) > 0, ShapeError, kind(),
              " codec expects audio [B, C, T], got ", wav.sizes());
  at::Tensor x = wav.to(latent_mean_.device(), at::kFloat);
  const int64_t c = channels();
  if (x.size(1) != c) {
    if (c == 1) {
      x = x.mean(1, /*keepdim=*/true);  // [B, 1, T]
    } else {
      MUDIT_CHECK(x.size(1) == 1, ShapeError, kind(), " codec models ", c,
                  " channels and takes mono or ", c, "-channel audio, got ", x.size(1));
      x = x.expand({x.size(0), c, x.size(2)});  // [B, C, T]
    }
  }
  const int64_t hop = hop_length();
  const int64_t pad = (hop - x.size(2) % hop) % hop;
  if (pad > 0) x = at::constant_pad_nd(x, {0, pad});  // [B, C, T']
  return x;
}

// --- wave VAE -------------------------------------------------------------------------------

WaveVAECodecImpl::WaveVAECodecImpl(WaveVAEConfig config) : CodecImpl(config.latent_dim) {
  vae_ = register_module("vae", WaveVAE(std::move(config)));
}

at::Tensor WaveVAECodecImpl::encode(const at::Tensor& wav) {
  return vae_->encode(prepare_input(wav));  // [B, T', D]
}

at::Tensor WaveVAECodecImpl::decode(const at::Tensor& z) {
  return vae_->decode(z.to(device(), at::kFloat));  // [B, C, T' * hop]
}

// --- mel VAE + HiFi-GAN ---------------------------------------------------------------------

MelVAECodecImpl::MelVAECodecImpl(MelVAEConfig vae, HifiganConfig vocoder)
    : CodecImpl(vae.latent_dim) {
  MUDIT_CHECK(vocoder.num_mels == vae.mel.n_mels && vocoder.hop_length() == vae.mel.hop_length,
              ConfigError, "the vocoder takes ", vocoder.num_mels, " mels at hop ",
              vocoder.hop_length(), "; the mel VAE makes ", vae.mel.n_mels, " at hop ",
              vae.mel.hop_length);
  vae_ = register_module("vae", MelVAE(std::move(vae)));
  vocoder_ = register_module("vocoder", HifiganGenerator(std::move(vocoder)));
}

MelVAECodecImpl::MelVAECodecImpl(MelVAEConfig vae, GriffinLimConfig griffin_lim)
    : CodecImpl(vae.latent_dim) {
  griffin_lim.validate();
  vae_ = register_module("vae", MelVAE(std::move(vae)));
  griffin_lim_ = griffin_lim;
}

HifiganGenerator& MelVAECodecImpl::vocoder() {
  MUDIT_CHECK(!griffin_lim_, ConfigError, "this mel codec decodes by Griffin-Lim: no HiFi-GAN");
  return vocoder_;
}

int64_t MelVAECodecImpl::hop_length() const {
  return vae_->config().mel.hop_length * vae_->config().frames_per_latent();
}

at::Tensor MelVAECodecImpl::encode(const at::Tensor& wav) {
  const at::Tensor x = prepare_input(wav);                // [B, 1, T]
  return vae_->encode(vae_->mel_frames(x.select(1, 0)));  // [B, T / hop, D]
}

at::Tensor MelVAECodecImpl::decode(const at::Tensor& z) {
  const at::Tensor logmel = vae_->decode(z.to(device(), at::kFloat));  // [B, M, T' * 16]
  if (griffin_lim_)
    return griffin_lim_from_log_mel(logmel, vae_->config().mel, *griffin_lim_).unsqueeze(1);
  return vocoder_(logmel);  // [B, 1, T' * hop]
}

// --- chunked --------------------------------------------------------------------------------

void ChunkConfig::validate() const {
  MUDIT_CHECK(chunk_seconds > 0 && overlap_seconds >= 0 && overlap_seconds < chunk_seconds,
              ConfigError, "chunks: need chunk_seconds > 0 and 0 <= overlap_seconds < ",
              "chunk_seconds, got ", chunk_seconds, " and ", overlap_seconds);
}

namespace {

// The plan in latent frames: at least 2 frames per window, the overlap below the window.
OverlapAddPlan frame_plan(const CodecImpl& codec, int64_t frames, const ChunkConfig& chunks,
                          int64_t out_per_unit) {
  chunks.validate();
  OverlapAddPlan plan;
  plan.units = frames;
  plan.window = std::max<int64_t>(2, std::llround(chunks.chunk_seconds * codec.latent_rate()));
  plan.overlap = std::min<int64_t>(plan.window - 1,
                                   std::llround(chunks.overlap_seconds * codec.latent_rate()));
  plan.out_per_unit = out_per_unit;
  return plan;
}

}  // namespace

at::Tensor encode_chunked(CodecImpl& codec, const at::Tensor& wav, const ChunkConfig& chunks,
                          const ChunkProgress& progress) {
  MUDIT_CHECK(wav.dim() == 2 && wav.size(1) > 0, ShapeError,
              "chunked encode expects audio [C, T], got ", wav.sizes());
  c10::InferenceMode guard;
  const int64_t hop = codec.hop_length();
  const int64_t frames = (wav.size(1) + hop - 1) / hop;
  const OverlapAddPlan plan = frame_plan(codec, frames, chunks, 1);
  at::Tensor z = overlap_add(
      plan,
      [&](int64_t start, int64_t length) {
        const int64_t end = std::min(wav.size(1), (start + length) * hop);
        at::Tensor piece = wav.slice(1, start * hop, end).unsqueeze(0);  // [1, C, <= len * hop]
        return codec.encode(piece).squeeze(0).transpose(0, 1);           // [D, len]
      },
      progress);
  return z.transpose(0, 1).contiguous();  // [T', D]
}

at::Tensor decode_chunked(CodecImpl& codec, const at::Tensor& z, const ChunkConfig& chunks,
                          const ChunkProgress& progress) {
  MUDIT_CHECK(z.dim() == 2 && z.size(0) > 0 && z.size(1) == codec.latent_dim(), ShapeError,
              "chunked decode expects latents [T', ", codec.latent_dim(), "], got ", z.sizes());
  c10::InferenceMode guard;
  const OverlapAddPlan plan = frame_plan(codec, z.size(0), chunks, codec.hop_length());
  return overlap_add(
      plan,
      [&](int64_t start, int64_t length) {
        return codec.decode(z.slice(0, start, start + length).unsqueeze(0)).squeeze(0);
      },
      progress);  // [C, T' * hop]
}

}  // namespace mudit
