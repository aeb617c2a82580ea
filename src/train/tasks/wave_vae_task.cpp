// The "wave_vae" task: the waveform VAE on random segments with waveform, multi-scale mel,
// multi-resolution STFT and SI-SNR reconstruction losses, annealed KL, and MPD + MSD.
#include <ATen/ATen.h>

#include "mudit/core/error.h"
#include "mudit/eval/reconstruction.h"
#include "mudit/models/wave_vae.h"
#include "mudit/train/metrics_log.h"
#include "train/tasks/builtin.h"
#include "train/tasks/gan_codec_task.h"

namespace mudit::train {
namespace {

struct WaveVAETaskConfig {
  WaveVAEConfig vae;
  HifiganDiscriminatorConfig discriminator;
  ReconstructionLossConfig loss = [] {
    ReconstructionLossConfig l;
    l.l1 = 1.0;
    l.mel = 15.0;
    l.stft = 1.0;
    l.kl = {1e-4, 0, 5000};
    return l;
  }();
  GanConfig gan;

  template <class V>
  void visit(V& v) {
    v("vae", vae);
    v("discriminator", discriminator);
    v("loss", loss);
    v("gan", gan);
  }
};

class WaveVAETask : public GanCodecTask {
 public:
  WaveVAETask(const TaskContext& ctx, WaveVAETaskConfig cfg)
      : GanCodecTask(
            ctx, cfg.gan, bind_config<CodecDataConfig>(ctx.data),
            {"the wave VAE", cfg.vae.sample_rate, cfg.vae.audio_channels, cfg.vae.hop_length()}),
        cfg_(std::move(cfg)),
        mel_loss_([this] {
          auto m = cfg_.loss.mel_loss;
          m.sample_rate = cfg_.vae.sample_rate;
          return m;
        }()),
        stft_loss_(cfg_.loss.stft_loss) {
    {
      torch::NoGradGuard no_grad;
      seed_init();
      vae_ = WaveVAE(cfg_.vae);
      if (gan_.enabled) disc_ = HifiganDiscriminator(cfg_.discriminator);
    }
    vae_->to(ctx.device);
    if (disc_) disc_->to(ctx.device);
    log_sizes("wave VAE");
  }

  std::string arch() const override { return "wave_vae"; }
  std::string model_config_yaml() const override { return dump_config(cfg_.vae); }

  std::map<std::string, double> validate(int64_t) override {
    torch::NoGradGuard no_grad;
    std::map<std::string, double> sums;
    const auto& segments = valid_segments();
    MelConfig mel = MelConfig::mudit_24k();
    mel.sample_rate = cfg_.vae.sample_rate;
    for (const auto& seg : segments) {
      const at::Tensor x = seg.unsqueeze(0).to(ctx_.device);  // [1, C, T]
      const at::Tensor y = vae_->decode(vae_->encode(x));
      for (const auto& [k, v] : eval::reconstruction_metrics(y.cpu(), x.cpu(), mel).to_map())
        sums[k] += v / static_cast<double>(segments.size());
    }
    return sums;
  }

  void sample(int64_t step, MetricsLog& log) override {
    const auto& segments = valid_segments();
    if (segments.empty()) return;
    torch::NoGradGuard no_grad;
    const at::Tensor x = segments.front().unsqueeze(0).to(ctx_.device);
    const at::Tensor y = vae_->decode(vae_->encode(x)).squeeze(0).cpu().clamp(-1, 1);  // [C, T]
    const int sr = static_cast<int>(cfg_.vae.sample_rate);
    log.log_audio(step, "valid/reconstruction", y, sr);
    if (!logged_original_) {
      log.log_audio(step, "valid/original", segments.front(), sr);
      logged_original_ = true;
    }
    MelConfig mel = MelConfig::mudit_24k();
    mel.sample_rate = cfg_.vae.sample_rate;
    log.log_spectrogram(step, "valid/reconstruction_mel", MelSpectrogram(mel)(y.mean(0)));
  }

 protected:
  std::shared_ptr<torch::nn::Module> generator() override { return vae_.ptr(); }
  std::shared_ptr<torch::nn::Module> discriminator() override {
    return disc_ ? disc_.ptr() : nullptr;
  }

  Reconstruction reconstruct(const Batch& batch, int64_t step) override {
    const at::Tensor& x = batch.at("audio");  // [B, C, T]
    const VAEOutput out = vae_(x);
    const at::Tensor& y = out.recon;
    const auto& w = cfg_.loss;
    Reconstruction r;
    r.fake = fold_channels(y);
    r.loss = at::zeros({}, x.options());
    auto add = [&](const char* name, double weight, const std::function<at::Tensor()>& term) {
      if (weight <= 0) return;
      at::Tensor t = term();
      r.terms[name] = t;
      r.loss = r.loss + weight * t;
    };
    add("l1", w.l1, [&] { return train::l1_loss(y, x); });
    add("l2", w.l2, [&] { return train::l2_loss(y, x); });
    add("mel", w.mel, [&] { return mel_loss_(y, x); });
    add("stft", w.stft, [&] { return stft_loss_(y, x).total(); });
    add("si_snr", w.si_snr, [&] { return -si_snr(y, x).mean(); });
    const at::Tensor kl = out.posterior.kl();
    r.terms["kl"] = kl;
    r.loss = r.loss + kl_weight(w.kl, step) * kl;
    return r;
  }

  at::Tensor real(const Batch& batch) override { return fold_channels(batch.at("audio")); }

  MultiDiscriminatorOutput discriminate(const at::Tensor& real, const at::Tensor& fake) override {
    return disc_(real, fake);
  }

 private:
  WaveVAETaskConfig cfg_;
  MultiScaleMelLoss mel_loss_;
  MultiResolutionStftLoss stft_loss_;
  WaveVAE vae_{nullptr};
  HifiganDiscriminator disc_{nullptr};
  bool logged_original_ = false;
};

}  // namespace

std::unique_ptr<Task> make_wave_vae_task(const TaskContext& context) {
  return std::make_unique<WaveVAETask>(context, bind_config<WaveVAETaskConfig>(context.model));
}

}  // namespace mudit::train
