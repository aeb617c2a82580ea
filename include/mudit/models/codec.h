#pragma once

// The codec interface the generators work through (DESIGN §5): waveform [B, C, T] <-> latent
// frames [B, T', D], with the per-channel latent statistics of the training data that the
// generator stage normalises with. Two codecs implement it:
//
//   WaveVAECodec  the waveform VAE (`vae.*`): 24 kHz stereo <-> 64-d at 11.7 Hz (hop 2048)
//   MelVAECodec   log-mel (the MuDiT recipe) -> mel VAE (`vae.*`) -> 512-d at 5.9 Hz
//                 (hop 4096); decoding runs the mel VAE decoder, then HiFi-GAN (`vocoder.*`)
//                 or Griffin-Lim (no weights: mudit/audio/griffin_lim.h)
//
// Every codec carries the buffers `latent_mean`, `latent_std` [D] and `latent_stats_frames` []
// (0 until set: normalize() is then the identity). encode_chunked() / decode_chunked() process
// a song of any length window by window with cross-faded overlaps, so memory is bounded by the
// window, not the song.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mudit/audio/features.h"
#include "mudit/audio/griffin_lim.h"
#include "mudit/models/hifigan.h"
#include "mudit/models/mel_vae.h"
#include "mudit/models/wave_vae.h"

namespace mudit {

class CodecImpl : public torch::nn::Module {
 public:
  /// "wave_vae" or "mel_vae".
  virtual std::string kind() const = 0;
  virtual int64_t sample_rate() const = 0;
  /// Audio channels the codec models (decode returns this many; encode adapts its input).
  virtual int64_t channels() const = 0;
  virtual int64_t latent_dim() const = 0;
  /// Samples per latent frame.
  virtual int64_t hop_length() const = 0;
  /// Latent frames per second.
  double latent_rate() const;

  /// wav [B, C, T] -> latents [B, ceil(T / hop), D], the posterior mean. T is zero-padded to a
  /// multiple of the hop; a mono codec averages the channels, a stereo one duplicates mono.
  virtual at::Tensor encode(const at::Tensor& wav) = 0;
  /// z [B, T', D] -> wav [B, channels(), T' * hop].
  virtual at::Tensor decode(const at::Tensor& z) = 0;

  /// Stores per-channel latent statistics measured over `frames` latent frames.
  void set_latent_stats(const at::Tensor& mean, const at::Tensor& std, int64_t frames);
  bool has_latent_stats() const;
  int64_t latent_stats_frames() const;
  /// (z - latent_mean) / latent_std and back, over [..., D]; identity without statistics.
  at::Tensor normalize(const at::Tensor& z) const;
  at::Tensor denormalize(const at::Tensor& z) const;

  /// The device the weights are on.
  c10::Device device() const;

 protected:
  explicit CodecImpl(int64_t latent_dim);
  /// [B, C, T] with C adapted to channels() and T zero-padded to a multiple of hop_length().
  at::Tensor prepare_input(const at::Tensor& wav) const;

 private:
  at::Tensor latent_mean_, latent_std_, latent_stats_frames_;
};
TORCH_MODULE(Codec);

class WaveVAECodecImpl : public CodecImpl {
 public:
  explicit WaveVAECodecImpl(WaveVAEConfig config);
  std::string kind() const override { return "wave_vae"; }
  int64_t sample_rate() const override { return vae_->config().sample_rate; }
  int64_t channels() const override { return vae_->config().audio_channels; }
  int64_t latent_dim() const override { return vae_->config().latent_dim; }
  int64_t hop_length() const override { return vae_->hop_length(); }
  at::Tensor encode(const at::Tensor& wav) override;
  at::Tensor decode(const at::Tensor& z) override;
  WaveVAE& vae() { return vae_; }

 private:
  WaveVAE vae_{nullptr};
};
TORCH_MODULE(WaveVAECodec);

class MelVAECodecImpl : public CodecImpl {
 public:
  /// The vocoder must take the mel VAE's mels: num_mels == mel.n_mels and its hop == mel hop.
  MelVAECodecImpl(MelVAEConfig vae, HifiganConfig vocoder);
  /// Decodes through Griffin-Lim on the mel VAE's mel recipe: no vocoder weights.
  MelVAECodecImpl(MelVAEConfig vae, GriffinLimConfig griffin_lim);
  std::string kind() const override { return "mel_vae"; }
  int64_t sample_rate() const override { return vae_->config().mel.sample_rate; }
  int64_t channels() const override { return 1; }
  int64_t latent_dim() const override { return vae_->config().latent_dim; }
  int64_t hop_length() const override;
  at::Tensor encode(const at::Tensor& wav) override;
  at::Tensor decode(const at::Tensor& z) override;
  MelVAE& vae() { return vae_; }
  /// "hifigan" or "griffin_lim".
  std::string vocoder_kind() const { return griffin_lim_ ? "griffin_lim" : "hifigan"; }
  /// The HiFi-GAN; throws ConfigError for a Griffin-Lim codec.
  HifiganGenerator& vocoder();
  /// Set for a Griffin-Lim codec.
  const std::optional<GriffinLimConfig>& griffin_lim() const { return griffin_lim_; }

 private:
  MelVAE vae_{nullptr};
  HifiganGenerator vocoder_{nullptr};
  std::optional<GriffinLimConfig> griffin_lim_;
};
TORCH_MODULE(MelVAECodec);

/// Window and overlap of chunked encoding and decoding, in seconds (rounded to latent frames).
struct ChunkConfig {
  double chunk_seconds = 30;
  double overlap_seconds = 3;

  template <class V>
  void visit(V& v) {
    v("chunk_seconds", chunk_seconds);
    v("overlap_seconds", overlap_seconds);
  }
  void validate() const;
};

using ChunkProgress = std::function<void(int64_t done, int64_t total)>;

/// A whole recording [C, T] (any device) -> latents [ceil(T / hop), D] (CPU, float32), window
/// by window under inference mode.
at::Tensor encode_chunked(CodecImpl& codec, const at::Tensor& wav, const ChunkConfig& chunks = {},
                          const ChunkProgress& progress = {});
/// Latents [T', D] -> audio [channels, T' * hop] (CPU, float32), window by window.
at::Tensor decode_chunked(CodecImpl& codec, const at::Tensor& z, const ChunkConfig& chunks = {},
                          const ChunkProgress& progress = {});

}  // namespace mudit
