// The "hifigan" task: the HiFi-GAN generator from mels of random segments, with the official
// losses (45 x log-mel L1 on the loss recipe, LSGAN and feature matching from MPD + MSD).
#include <ATen/ATen.h>

#include <optional>

#include "mudit/core/error.h"
#include "mudit/eval/reconstruction.h"
#include "mudit/models/hifigan.h"
#include "mudit/models/model_files.h"
#include "mudit/train/metrics_log.h"
#include "train/tasks/builtin.h"
#include "train/tasks/gan_codec_task.h"

namespace mudit::train {
namespace {

struct HifiganTaskConfig {
  HifiganConfig generator = HifiganConfig::v1();
  HifiganDiscriminatorConfig discriminator;
  /// The input recipe (what the vocoder file records) ...
  MelConfig mel = MelConfig::hifigan_22k();
  /// ... and the loss recipe; null: the input recipe with f_max null (HiFi-GAN's fmax_for_loss).
  std::optional<MelConfig> loss_mel;
  ReconstructionLossConfig loss = [] {
    ReconstructionLossConfig l;
    l.mel = 45.0;
    return l;
  }();
  GanConfig gan;

  template <class V>
  void visit(V& v) {
    v("generator", generator);
    v("discriminator", discriminator);
    v("mel", mel);
    v("loss_mel", loss_mel);
    v("loss", loss);
    v("gan", gan);
  }
  VocoderConfig vocoder() const { return {generator, mel}; }
};

class HifiganTask : public GanCodecTask {
 public:
  HifiganTask(const TaskContext& ctx, HifiganTaskConfig cfg)
      : GanCodecTask(ctx, cfg.gan, bind_config<CodecDataConfig>(ctx.data),
                     {"a vocoder", cfg.mel.sample_rate, 1, cfg.generator.hop_length()}),
        cfg_(std::move(cfg)),
        mel_(cfg_.mel),
        loss_mel_([this] {
          if (cfg_.loss_mel) return *cfg_.loss_mel;
          MelConfig m = cfg_.mel;
          m.f_max = std::nullopt;
          return m;
        }()),
        stft_loss_(cfg_.loss.stft_loss) {
    cfg_.vocoder().validate();
    {
      torch::NoGradGuard no_grad;
      seed_init();
      gen_ = HifiganGenerator(cfg_.generator);
      if (gan_.enabled) disc_ = HifiganDiscriminator(cfg_.discriminator);
    }
    gen_->to(ctx.device);
    if (disc_) disc_->to(ctx.device);
    log_sizes("HiFi-GAN generator");
  }

  std::string arch() const override { return "hifigan"; }
  std::string model_config_yaml() const override { return dump_config(cfg_.vocoder()); }

  std::map<std::string, double> validate(int64_t) override {
    torch::NoGradGuard no_grad;
    std::map<std::string, double> sums;
    const auto& segments = valid_segments();
    for (const auto& seg : segments) {
      const at::Tensor x = seg.to(ctx_.device);   // [1, T]
      const at::Tensor y = vocode(x).squeeze(0);  // [1, T]
      for (const auto& [k, v] : eval::reconstruction_metrics(y.cpu(), seg, cfg_.mel).to_map())
        sums[k] += v / static_cast<double>(segments.size());
    }
    return sums;
  }

  void sample(int64_t step, MetricsLog& log) override {
    const auto& segments = valid_segments();
    if (segments.empty()) return;
    torch::NoGradGuard no_grad;
    const at::Tensor y = vocode(segments.front().to(ctx_.device)).squeeze(0).cpu();  // [1, T]
    const int sr = static_cast<int>(cfg_.mel.sample_rate);
    log.log_audio(step, "valid/vocoded", y, sr);
    if (!logged_original_) {
      log.log_audio(step, "valid/original", segments.front(), sr);
      logged_original_ = true;
    }
    log.log_spectrogram(step, "valid/vocoded_mel", mel_(y.squeeze(0)));
  }

 protected:
  std::shared_ptr<torch::nn::Module> generator() override { return gen_.ptr(); }
  std::shared_ptr<torch::nn::Module> discriminator() override {
    return disc_ ? disc_.ptr() : nullptr;
  }

  void prepare(Batch& batch) override {
    batch["mel"] = mel_(batch.at("audio").select(1, 0));  // [B, M, N]
  }

  Reconstruction reconstruct(const Batch& batch, int64_t) override {
    const at::Tensor& x = batch.at("audio");  // [B, 1, T]
    const at::Tensor y = fit(gen_(batch.at("mel")), x.size(2));
    const auto& w = cfg_.loss;
    Reconstruction r;
    r.fake = y;
    r.loss = at::zeros({}, x.options());
    auto add = [&](const char* name, double weight, const std::function<at::Tensor()>& term) {
      if (weight <= 0) return;
      at::Tensor t = term();
      r.terms[name] = t;
      r.loss = r.loss + weight * t;
    };
    add("mel", w.mel,
        [&] { return train::l1_loss(loss_mel_(y.squeeze(1)), loss_mel_(x.squeeze(1))); });
    add("l1", w.l1, [&] { return train::l1_loss(y, x); });
    add("stft", w.stft, [&] { return stft_loss_(y, x).total(); });
    return r;
  }

  at::Tensor real(const Batch& batch) override { return batch.at("audio"); }

  MultiDiscriminatorOutput discriminate(const at::Tensor& real, const at::Tensor& fake) override {
    return disc_(real, fake);
  }

 private:
  // The generator's output cut (or zero-padded) to the input's length: a centred recipe has
  // one frame more than T / hop.
  static at::Tensor fit(const at::Tensor& y, int64_t length) {
    if (y.size(2) >= length) return y.narrow(2, 0, length);
    return at::constant_pad_nd(y, {0, length - y.size(2)});
  }

  // [C, T] mono audio -> [1, 1, T] through the mel recipe and the generator.
  at::Tensor vocode(const at::Tensor& x) { return fit(gen_(mel_(x)), x.size(-1)); }

  HifiganTaskConfig cfg_;
  MelSpectrogram mel_;
  MelSpectrogram loss_mel_;
  MultiResolutionStftLoss stft_loss_;
  HifiganGenerator gen_{nullptr};
  HifiganDiscriminator disc_{nullptr};
  bool logged_original_ = false;
};

}  // namespace

std::unique_ptr<Task> make_hifigan_task(const TaskContext& context) {
  return std::make_unique<HifiganTask>(context, bind_config<HifiganTaskConfig>(context.model));
}

}  // namespace mudit::train
