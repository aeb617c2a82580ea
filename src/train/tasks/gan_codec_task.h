// The shared shape of codec and vocoder training (tasks "wave_vae", "mel_vae", "hifigan"): a
// generator trained on reconstruction losses plus, after a warm-up, LSGAN and feature-matching
// losses from a discriminator trained by the second optimizer.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mudit/core/config.h"
#include "mudit/data/audio_segments.h"
#include "mudit/models/hifigan.h"
#include "mudit/train/losses.h"
#include "mudit/train/task.h"

namespace mudit::train {

/// The adversarial part: `model.gan`.
struct GanConfig {
  bool enabled = true;
  /// Discriminator warm-up: before this step the generator trains on reconstruction alone and
  /// the discriminator does not step.
  int64_t disc_start_step = 0;
  double adversarial = 1.0;       ///< x the LSGAN generator loss
  double feature_matching = 1.0;  ///< x the feature loss (which carries HiFi-GAN's factor 2)

  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("disc_start_step", disc_start_step);
    v("adversarial", adversarial);
    v("feature_matching", feature_matching);
  }
  void validate() const;
};

/// Reconstruction weights: `model.loss`. Which terms a task uses is in its preset; a zero
/// weight skips the term.
struct ReconstructionLossConfig {
  double l1 = 0;      ///< waveform (or normalised mel) L1
  double l2 = 0;      ///< waveform (or normalised mel) L2
  double mel = 0;     ///< wave VAE: multi-scale mel L1; HiFi-GAN: L1 of the loss mel recipe
  double stft = 0;    ///< multi-resolution STFT (spectral convergence + log magnitude)
  double si_snr = 0;  ///< x (-SI-SNR in dB)
  KlAnnealConfig kl{0, 0, 0};
  MultiScaleMelLossConfig mel_loss;
  MultiResolutionStftConfig stft_loss;

  template <class V>
  void visit(V& v) {
    v("l1", l1);
    v("l2", l2);
    v("mel", mel);
    v("stft", stft);
    v("si_snr", si_snr);
    v("kl", kl);
    v("mel_loss", mel_loss);
    v("stft_loss", stft_loss);
  }
  void validate() const;
};

/// `data:` of the codec tasks: the segments, plus an optional vocoder file (mel VAE only: its
/// validation then also scores decoded audio).
struct CodecDataConfig {
  data::AudioSegmentConfig audio;
  std::string vocoder;

  template <class V>
  void visit(V& v) {
    audio.visit(v);
    v("vocoder", vocoder);
  }
  void validate() const { audio.validate(); }
};

class GanCodecTask : public Task {
 public:
  int num_optimizers() const override { return gan_.enabled ? 2 : 1; }
  NamedParams parameters(int index) override;
  bool optimizer_active(int index, int64_t step) const override;
  Batch batch(int64_t step, int64_t micro) override;
  std::map<std::string, at::Tensor> losses(const Batch& batch, int index, int64_t step) override;
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override;

 protected:
  /// What the model reads. The data config must match it; checked before any audio is read.
  struct AudioFormat {
    std::string model;  ///< "the mel VAE", in messages
    int64_t sample_rate = 0;
    int64_t channels = 1;
    int64_t segment_unit = 1;  ///< data.segment_samples must be a multiple (the model's hop)
  };
  GanCodecTask(const TaskContext& ctx, GanConfig gan, CodecDataConfig data,
               const AudioFormat& format);

  /// What the generator made of a batch, in the discriminator's layout, with the weighted
  /// reconstruction loss and its unweighted named terms (logged).
  struct Reconstruction {
    at::Tensor fake;
    at::Tensor loss;
    std::map<std::string, at::Tensor> terms;
  };
  virtual std::shared_ptr<torch::nn::Module> generator() = 0;
  virtual std::shared_ptr<torch::nn::Module> discriminator() = 0;
  /// Adds derived inputs (e.g. mels) to a batch of "audio" [B, C, T].
  virtual void prepare(Batch& batch) {}
  virtual Reconstruction reconstruct(const Batch& batch, int64_t step) = 0;
  /// The real input of the discriminator, in the layout of Reconstruction::fake.
  virtual at::Tensor real(const Batch& batch) = 0;
  virtual MultiDiscriminatorOutput discriminate(const at::Tensor& real, const at::Tensor& fake) = 0;

  /// Builds modules under the run's initial seed, so every rank and run starts alike.
  void seed_init() const;
  /// Logs the parameter counts of the generator and the discriminator.
  void log_sizes(const std::string& what);
  /// The fixed validation segments, [C, T] each, on the CPU.
  const std::vector<at::Tensor>& valid_segments();

  TaskContext ctx_;
  GanConfig gan_;
  CodecDataConfig data_;
  std::unique_ptr<data::AudioSegments> train_;

 private:
  std::vector<at::Tensor> valid_;
  // The generator's outputs of this step's micro-batches, reused by the discriminator step.
  int64_t cached_step_ = -1;
  std::map<const void*, at::Tensor> cached_fakes_;
};

/// [B, C, T] -> [B * C, 1, T]: every channel a mono signal for the waveform discriminators.
at::Tensor fold_channels(const at::Tensor& wav);

}  // namespace mudit::train
