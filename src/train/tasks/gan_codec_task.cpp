#include "train/tasks/gan_codec_task.h"

#include <ATen/ATen.h>

#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/core/state_dict.h"

namespace mudit::train {

void GanConfig::validate() const {
  MUDIT_CHECK(disc_start_step >= 0 && adversarial >= 0 && feature_matching >= 0, ConfigError,
              "gan: disc_start_step and the weights must be >= 0");
}

void ReconstructionLossConfig::validate() const {
  for (double w : {l1, l2, mel, stft, si_snr}) {
    MUDIT_CHECK(w >= 0, ConfigError, "loss weights must be >= 0, got ", w);
  }
}

at::Tensor fold_channels(const at::Tensor& wav) {
  MUDIT_CHECK(wav.dim() == 3, ShapeError, "expected audio [B, C, T], got ", wav.sizes());
  return wav.reshape({wav.size(0) * wav.size(1), 1, wav.size(2)});  // [B * C, 1, T]
}

GanCodecTask::GanCodecTask(const TaskContext& ctx, GanConfig gan, CodecDataConfig data,
                           const AudioFormat& format)
    : ctx_(ctx), gan_(std::move(gan)), data_(std::move(data)) {
  gan_.validate();
  const auto& a = data_.audio;
  MUDIT_CHECK(format.segment_unit <= 0 || a.segment_samples % format.segment_unit == 0, ConfigError,
              "data.segment_samples (", a.segment_samples, ") must be a multiple of ", format.model,
              "'s hop, ", format.segment_unit);
  MUDIT_CHECK(a.sample_rate == format.sample_rate && a.channels == format.channels, ConfigError,
              "data: ", format.model, " reads ", format.channels == 1 ? "mono" : "multichannel",
              " audio at ", format.sample_rate, " Hz (channels: ", format.channels,
              "); data.sample_rate / data.channels are ", a.sample_rate, " Hz / ", a.channels);
  train_ = std::make_unique<data::AudioSegments>(data_.audio, data_.audio.split);
  log::info("data: ", train_->size(), " songs (", train_->total_seconds() / 60.0,
            " min) of split '", data_.audio.split, "' from ", data_.audio.manifest);
}

void GanCodecTask::seed_init() const {
  seed_everything(derive_seed(ctx_.seed, 0, RngStream::kGlobal), /*rank=*/0);
}

void GanCodecTask::log_sizes(const std::string& what) {
  const double g = static_cast<double>(count_parameters(*generator())) / 1e6;
  if (const auto d = gan_.enabled ? discriminator() : nullptr) {
    log::info(what, ": ", g, " M parameters; discriminator ",
              static_cast<double>(count_parameters(*d)) / 1e6, " M");
  } else {
    log::info(what, ": ", g, " M parameters");
  }
}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> GanCodecTask::modules() {
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> out{
      {"model", generator()}};
  if (gan_.enabled) out.emplace_back("disc", discriminator());
  return out;
}

NamedParams GanCodecTask::parameters(int index) {
  const auto module = index == 0 ? generator() : discriminator();
  NamedParams out;
  for (const auto& p : module->named_parameters()) {
    if (p.value().requires_grad()) out.emplace_back(p.key(), p.value());
  }
  return out;
}

bool GanCodecTask::optimizer_active(int index, int64_t step) const {
  return index == 0 || step >= gan_.disc_start_step;
}

Batch GanCodecTask::batch(int64_t step, int64_t micro) {
  const uint64_t step_seed = derive_seed(ctx_.seed, static_cast<uint64_t>(step), RngStream::kData);
  std::vector<at::Tensor> segments;
  for (int64_t j = 0; j < ctx_.batch_size; ++j) {
    // Global sample index: ranks and micro-steps tile one global batch.
    const int64_t sample = (ctx_.rank * ctx_.grad_accum + micro) * ctx_.batch_size + j;
    segments.push_back(train_->draw(derive_seed(step_seed, static_cast<uint64_t>(sample)),
                                    data_.audio.segment_samples));
  }
  Batch b{{"audio", at::stack(segments).to(ctx_.device)}};  // [B, C, T]
  prepare(b);
  return b;
}

std::map<std::string, at::Tensor> GanCodecTask::losses(const Batch& batch, int index,
                                                       int64_t step) {
  const void* key = batch.at("audio").data_ptr();
  if (step != cached_step_) {
    cached_fakes_.clear();
    cached_step_ = step;
  }
  const bool adversarial = gan_.enabled && step >= gan_.disc_start_step;
  if (index == 0) {
    Reconstruction r = reconstruct(batch, step);
    std::map<std::string, at::Tensor> out = std::move(r.terms);
    at::Tensor loss = r.loss;
    if (adversarial) {
      const MultiDiscriminatorOutput d = discriminate(real(batch), r.fake);
      const at::Tensor adv = hifigan_generator_loss(d.y_d_gs).total;
      const at::Tensor fm = hifigan_feature_loss(d.fmap_rs, d.fmap_gs);
      loss = loss + gan_.adversarial * adv + gan_.feature_matching * fm;
      out["adv"] = adv;
      out["fm"] = fm;
      cached_fakes_[key] = r.fake.detach();
    }
    out["loss"] = loss;
    return out;
  }
  at::Tensor fake;
  if (auto it = cached_fakes_.find(key); it != cached_fakes_.end()) {
    fake = it->second;
  } else {
    torch::NoGradGuard no_grad;
    fake = reconstruct(batch, step).fake.detach();
  }
  const MultiDiscriminatorOutput d = discriminate(real(batch).detach(), fake);
  const DiscriminatorLoss l = hifigan_discriminator_loss(d.y_d_rs, d.y_d_gs);
  at::Tensor r_sum, g_sum;
  for (size_t k = 0; k < l.real.size(); ++k) {
    r_sum = k == 0 ? l.real[k] : r_sum + l.real[k];
    g_sum = k == 0 ? l.generated[k] : g_sum + l.generated[k];
  }
  return {{"loss", l.total}, {"real", r_sum}, {"fake", g_sum}};
}

const std::vector<at::Tensor>& GanCodecTask::valid_segments() {
  if (!valid_.empty() || data_.audio.valid_segments == 0) return valid_;
  const int64_t length = data_.audio.valid_segment_samples > 0 ? data_.audio.valid_segment_samples
                                                               : 4 * data_.audio.segment_samples;
  std::unique_ptr<data::AudioSegments> source;
  data::AudioSegmentConfig valid = data_.audio;
  if (!valid.valid_manifest.empty()) valid.manifest = valid.valid_manifest;
  for (const std::string& split : {valid.valid_split, std::string("test")}) {
    try {
      source = std::make_unique<data::AudioSegments>(valid, split);
      break;
    } catch (const DataError&) {
      log::warn("validation: no readable songs in split '", split, "'");
    }
  }
  if (!source) {
    log::warn("validation: scoring training songs (the manifest has no held-out split)");
    valid_ = train_->fixed(data_.audio.valid_segments, length);
  } else {
    valid_ = source->fixed(data_.audio.valid_segments, length);
  }
  return valid_;
}

}  // namespace mudit::train
