// The "mel_vae" task: the mel VAE on log-mel frames of random mono segments, normalised per bin
// with statistics measured on the training data when the task starts, with L1 / L2
// reconstruction in the normalised space, annealed KL, an optional pitch-class (chroma) loss and
// a 2-D patch discriminator.
#include <ATen/ATen.h>

#include "mudit/audio/features.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/eval/reconstruction.h"
#include "mudit/models/mel_vae.h"
#include "mudit/models/model_files.h"
#include "mudit/train/metrics_log.h"
#include "train/tasks/builtin.h"
#include "train/tasks/gan_codec_task.h"

namespace mudit::train {
namespace {

/// L1 between the per-frame pitch-class profiles of the reconstruction and the input: chroma of
/// the mel magnitude (exp(log-mel / 2)) through mel_chroma_matrix(), each frame scaled to sum 1.
/// L1 on the normalised log-mel is dominated by loudness and timbre; this term is about which
/// pitches sound, what key and chord estimators read.
struct ChromaLossConfig {
  double weight = 0;           ///< 0: off (the validation still reports valid/chroma_l1)
  double f_min = kChromaFMin;  ///< where the MuDiT mel resolves semitones
  double f_max = kChromaFMax;

  template <class V>
  void visit(V& v) {
    v("weight", weight);
    v("f_min", f_min);
    v("f_max", f_max);
  }
};

struct MelVAETaskConfig {
  MelVAEConfig vae;
  std::vector<int64_t> discriminator{32, 64, 128, 256};  ///< MelDiscriminator channels
  ReconstructionLossConfig loss = [] {
    ReconstructionLossConfig l;
    l.l1 = 1.0;
    l.kl = {1e-4, 0, 5000};
    return l;
  }();
  ChromaLossConfig chroma;
  GanConfig gan;
  int64_t stats_segments = 256;  ///< training segments the mel statistics are measured on

  template <class V>
  void visit(V& v) {
    v("vae", vae);
    v("discriminator", discriminator);
    v("loss", loss);
    v("chroma", chroma);
    v("gan", gan);
    v("stats_segments", stats_segments);
  }
};

class MelVAETask : public GanCodecTask {
 public:
  MelVAETask(const TaskContext& ctx, MelVAETaskConfig cfg)
      : GanCodecTask(ctx, cfg.gan, bind_config<CodecDataConfig>(ctx.data),
                     {"the mel VAE", cfg.vae.mel.sample_rate, 1,
                      cfg.vae.mel.hop_length * cfg.vae.frames_per_latent()}),
        cfg_(std::move(cfg)) {
    MUDIT_CHECK(cfg_.stats_segments > 0, ConfigError, "model.stats_segments must be positive");
    MUDIT_CHECK(cfg_.chroma.weight >= 0, ConfigError, "model.chroma.weight must be >= 0, got ",
                cfg_.chroma.weight);
    chroma_matrix_ = mel_chroma_matrix(cfg_.vae.mel, cfg_.chroma.f_min, cfg_.chroma.f_max)
                         .to(ctx.device);  // [12, M]
    {
      torch::NoGradGuard no_grad;
      seed_init();
      vae_ = MelVAE(cfg_.vae);
      if (gan_.enabled) disc_ = MelDiscriminator(cfg_.discriminator);
    }
    measure_statistics();
    vae_->to(ctx.device);
    if (disc_) disc_->to(ctx.device);
    if (!data_.vocoder.empty()) {
      vocoder_ = load_vocoder(resolve_model_file(data_.vocoder), ctx.device);
    }
    log_sizes("mel VAE");
  }

  std::string arch() const override { return "mel_vae"; }
  std::string model_config_yaml() const override { return dump_config(cfg_.vae); }

  std::map<std::string, double> validate(int64_t) override {
    torch::NoGradGuard no_grad;
    std::map<std::string, double> sums;
    const auto& segments = valid_segments();
    const double n = static_cast<double>(segments.size());
    for (const auto& seg : segments) {
      const at::Tensor logmel = vae_->mel_frames(seg.to(ctx_.device));  // [1, M, N]
      const at::Tensor recon = vae_->decode(vae_->encode(logmel));
      sums["mel_l1"] += (recon - logmel).abs().mean().item<double>() / n;
      sums["chroma_l1"] += (chroma(recon) - chroma(logmel)).abs().sum(1).mean().item<double>() / n;
      if (vocoder_.generator) {
        const at::Tensor y = vocoder_.generator(recon).squeeze(0).cpu();  // [1, T]
        sums["si_sdr"] += eval::si_sdr(y, seg) / n;
        sums["mrstft"] += eval::mrstft_distance(y, seg) / n;
      }
    }
    return sums;
  }

  void sample(int64_t step, MetricsLog& log) override {
    const auto& segments = valid_segments();
    if (segments.empty()) return;
    torch::NoGradGuard no_grad;
    const at::Tensor logmel = vae_->mel_frames(segments.front().to(ctx_.device));
    const at::Tensor recon = vae_->decode(vae_->encode(logmel));
    log.log_spectrogram(step, "valid/reconstruction_mel", recon.squeeze(0).cpu());
    if (!logged_original_) {
      log.log_spectrogram(step, "valid/original_mel", logmel.squeeze(0).cpu());
      logged_original_ = true;
    }
    if (vocoder_.generator) {
      const at::Tensor y = vocoder_.generator(recon).squeeze(0).cpu();
      log.log_audio(step, "valid/vocoded", y, static_cast<int>(cfg_.vae.mel.sample_rate));
    }
  }

 protected:
  std::shared_ptr<torch::nn::Module> generator() override { return vae_.ptr(); }
  std::shared_ptr<torch::nn::Module> discriminator() override {
    return disc_ ? disc_.ptr() : nullptr;
  }

  void prepare(Batch& batch) override {
    torch::NoGradGuard no_grad;
    batch["mel"] = vae_->normalize(vae_->mel_frames(batch.at("audio").select(1, 0)));  // [B, M, N]
  }

  Reconstruction reconstruct(const Batch& batch, int64_t step) override {
    const at::Tensor& x = batch.at("mel");  // normalised [B, M, N]
    const auto out = vae_(x);
    const auto& w = cfg_.loss;
    Reconstruction r;
    r.fake = out.recon;
    r.loss = at::zeros({}, x.options());
    if (w.l1 > 0) {
      r.terms["l1"] = train::l1_loss(out.recon, x);
      r.loss = r.loss + w.l1 * r.terms["l1"];
    }
    if (w.l2 > 0) {
      r.terms["l2"] = train::l2_loss(out.recon, x);
      r.loss = r.loss + w.l2 * r.terms["l2"];
    }
    if (cfg_.chroma.weight > 0) {
      const at::Tensor fake = chroma(vae_->denormalize(out.recon));
      const at::Tensor real = chroma(vae_->denormalize(x)).detach();
      r.terms["chroma"] = (fake - real).abs().sum(1).mean();
      r.loss = r.loss + cfg_.chroma.weight * r.terms["chroma"];
    }
    r.terms["kl"] = out.posterior.kl();
    r.loss = r.loss + kl_weight(w.kl, step) * r.terms["kl"];
    return r;
  }

  at::Tensor real(const Batch& batch) override { return batch.at("mel"); }

  MultiDiscriminatorOutput discriminate(const at::Tensor& real, const at::Tensor& fake) override {
    return disc_->forward(real, fake);
  }

 private:
  // Per-frame pitch-class profile of a log-mel [B, M, N] -> [B, 12, N], each frame summing to 1
  // (a silent frame to nearly 0). The log-mel is capped so that a wild reconstruction cannot
  // overflow exp().
  at::Tensor chroma(const at::Tensor& logmel) const {
    const at::Tensor magnitude = at::exp(logmel.clamp_max(30.0) * 0.5);
    const at::Tensor c = at::matmul(chroma_matrix_.to(magnitude.dtype()), magnitude);
    return c / (c.sum(1, true) + 1e-3);
  }

  // Per-bin mean and std of the log-mel over `stats_segments` training segments (drawn from the
  // run's seed, so every rank measures the same values).
  void measure_statistics() {
    torch::NoGradGuard no_grad;
    const int64_t m = cfg_.vae.mel.n_mels;
    at::Tensor sum = at::zeros({m}, at::kDouble);
    at::Tensor sq = at::zeros({m}, at::kDouble);
    int64_t frames = 0;
    const uint64_t seed = derive_seed(ctx_.seed, 0, RngStream::kAugment);
    for (int64_t k = 0; k < cfg_.stats_segments; ++k) {
      const at::Tensor seg =
          train_->draw(derive_seed(seed, static_cast<uint64_t>(k)), data_.audio.segment_samples);
      const at::Tensor logmel = vae_->mel_frames(seg).squeeze(0).to(at::kDouble);  // [M, N]
      sum += logmel.sum(1);
      sq += logmel.pow(2).sum(1);
      frames += logmel.size(1);
    }
    const double n = static_cast<double>(frames);
    const at::Tensor mean = sum / n;
    const at::Tensor std = (sq / n - mean * mean).clamp_min(1e-8).sqrt();
    vae_->set_statistics(mean.to(at::kFloat), std.to(at::kFloat).clamp_min(1e-3), frames);
    log::info("mel statistics from ", frames, " frames: mean ", mean.mean().item<double>(),
              ", std ", std.mean().item<double>(), " (averaged over bins)");
  }

  MelVAETaskConfig cfg_;
  MelVAE vae_{nullptr};
  MelDiscriminator disc_{nullptr};
  at::Tensor chroma_matrix_;  // [12, n_mels]
  Vocoder vocoder_;
  bool logged_original_ = false;
};

}  // namespace

std::unique_ptr<Task> make_mel_vae_task(const TaskContext& context) {
  return std::make_unique<MelVAETask>(context, bind_config<MelVAETaskConfig>(context.model));
}

}  // namespace mudit::train
