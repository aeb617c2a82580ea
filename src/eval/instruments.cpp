#include "mudit/eval/instruments.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "mudit/audio/features.h"
#include "mudit/audio/io.h"
#include "mudit/audio/resample.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/data/manifest.h"
#include "mudit/nn/linear_probe.h"

namespace mudit::eval {
namespace fs = std::filesystem;

namespace {
constexpr int kRate = 24000;
constexpr const char* kArch = "instrument_probe";
constexpr int kArchRev = 1;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// [N, K] 0/1 targets of each song's families over `families`.
at::Tensor targets(const std::vector<std::vector<std::string>>& songs,
                   const std::vector<std::string>& families) {
  at::Tensor y =
      at::zeros({static_cast<int64_t>(songs.size()), static_cast<int64_t>(families.size())});
  auto a = y.accessor<float, 2>();
  for (size_t n = 0; n < songs.size(); ++n) {
    for (size_t k = 0; k < families.size(); ++k) {
      a[n][k] = std::find(songs[n].begin(), songs[n].end(), families[k]) != songs[n].end();
    }
  }
  return y;
}
}  // namespace

// Reaches the probe's parameters to fill them in after fitting and loading.
struct InstrumentProbeAccess {
  static at::Tensor& mean(InstrumentProbeImpl& p) { return p.mean_; }
  static at::Tensor& scale(InstrumentProbeImpl& p) { return p.scale_; }
  static torch::nn::Linear& classifier(InstrumentProbeImpl& p) { return p.classifier_; }
};

void InstrumentProbeConfig::validate() const {
  MUDIT_CHECK(!families.empty(), ConfigError, "instrument probe: no families");
  MUDIT_CHECK(features > 0, ConfigError, "instrument probe: features must be positive");
}

at::Tensor song_timbre_features(const at::Tensor& mono, int64_t sample_rate) {
  MUDIT_CHECK(mono.dim() == 1 && mono.size(0) > 0, ShapeError,
              "instrument features: want mono audio [T], got ", mono.sizes());
  static const MelSpectrogram mel(MelConfig::mudit_24k());
  const at::Tensor x = sample_rate == kRate ? mono.to(at::kFloat)
                                            : audio::resample(mono.to(at::kFloat),
                                                              static_cast<int>(sample_rate), kRate);
  const at::Tensor m = mel(x.cpu());  // [M, N] log-mel
  const at::Tensor rise = m.size(1) > 1 ? (m.slice(1, 1) - m.slice(1, 0, -1)).clamp_min(0).mean(1)
                                        : at::zeros({m.size(0)});
  return at::cat({m.mean(1), m.std(1, /*unbiased=*/false), rise}).contiguous();
}

std::vector<std::string> meta_families(std::string_view meta_json) {
  const auto j = nlohmann::json::parse(meta_json, nullptr, false);
  std::set<std::string> out;
  if (j.is_object() && j.contains("instruments") && j["instruments"].is_array()) {
    for (const auto& i : j["instruments"]) {
      if (i.is_object() && i.contains("family") && i["family"].is_string()) {
        out.insert(i["family"].get<std::string>());
      }
    }
  }
  return {out.begin(), out.end()};
}

InstrumentProbeImpl::InstrumentProbeImpl(InstrumentProbeConfig config)
    : config_(std::move(config)) {
  config_.validate();
  const auto f = config_.features;
  mean_ = register_buffer("feature_mean", at::zeros({f}));
  scale_ = register_buffer("feature_scale", at::ones({f}));
  classifier_ = register_module(
      "classifier", torch::nn::Linear(f, static_cast<int64_t>(config_.families.size())));
}

at::Tensor InstrumentProbeImpl::forward(const at::Tensor& features) {
  MUDIT_CHECK(features.size(-1) == config_.features, ShapeError,
              "instrument probe: ", config_.features, " features expected, got ", features.sizes());
  return at::sigmoid(classifier_->forward((features.to(at::kFloat) - mean_) / scale_));
}

std::vector<std::string> InstrumentProbeImpl::detect(const at::Tensor& features) {
  c10::InferenceMode guard;
  const at::Tensor p = forward(features.reshape({1, -1}))[0];
  std::vector<std::string> out;
  for (size_t k = 0; k < config_.families.size(); ++k) {
    if (p[static_cast<int64_t>(k)].item<double>() >= 0.5) out.push_back(config_.families[k]);
  }
  return out;
}

InstrumentProbe fit_instrument_probe(const at::Tensor& features,
                                     const std::vector<std::vector<std::string>>& families,
                                     const InstrumentFitOptions& options) {
  MUDIT_CHECK(features.dim() == 2 && features.size(0) == static_cast<int64_t>(families.size()),
              ShapeError, "instrument probe: features ", features.sizes(), " for ", families.size(),
              " songs");
  const int64_t n = features.size(0);
  std::set<std::string> all;
  for (const auto& f : families) all.insert(f.begin(), f.end());
  std::vector<std::string> kept, dropped;
  for (const std::string& f : all) {
    const int64_t pos = std::count_if(families.begin(), families.end(), [&](const auto& s) {
      return std::find(s.begin(), s.end(), f) != s.end();
    });
    (pos >= options.min_songs && n - pos >= options.min_songs ? kept : dropped).push_back(f);
  }
  if (!dropped.empty()) {
    log::info("instrument probe: left out (fewer than ", options.min_songs,
              " songs with or without them): ", join(dropped));
  }
  MUDIT_CHECK(!kept.empty(), DataError, "instrument probe: no family has ", options.min_songs,
              " songs with it and ", options.min_songs, " without it among ", n, " songs");

  InstrumentProbeConfig config;
  config.families = kept;
  config.features = features.size(1);
  InstrumentProbe probe(config);
  const nn::Standardizer st = nn::fit_standardizer(features);
  const at::Tensor xs = st.apply(features.to(at::kFloat).cpu());
  const at::Tensor y = targets(families, kept);
  // Class balance: each family's songs with it weigh 1/2 in total, those without it 1/2.
  const at::Tensor pos = y.sum(0);
  const at::Tensor w = at::where(y > 0.5, 0.5 / pos, 0.5 / (static_cast<double>(n) - pos));

  torch::nn::Linear& lin = InstrumentProbeAccess::classifier(*probe);
  const double final_loss = nn::fit_linear_lbfgs(
      lin,
      [&] {
        const at::Tensor logits = lin->forward(xs);
        const at::Tensor bce =
            at::binary_cross_entropy_with_logits(logits, y, {}, {}, at::Reduction::None);
        return (w * bce).sum() + 0.5 * options.l2 * lin->weight.pow(2).sum();
      },
      options.max_iterations);
  InstrumentProbeAccess::mean(*probe).copy_(st.mean);
  InstrumentProbeAccess::scale(*probe).copy_(st.scale);
  probe->eval();
  log::info("instrument probe: ", kept.size(), " families on ", n, " songs, ", config.features,
            " features; loss ", final_loss);
  return probe;
}

std::vector<FamilyScore> score_instrument_probe(
    InstrumentProbe& probe, const at::Tensor& features,
    const std::vector<std::vector<std::string>>& families) {
  c10::InferenceMode guard;
  const auto& names = probe->config().families;
  const at::Tensor detected = (probe->forward(features) >= 0.5).to(at::kFloat);
  const at::Tensor y = targets(families, names);
  std::vector<FamilyScore> out;
  for (size_t k = 0; k < names.size(); ++k) {
    const auto i = static_cast<int64_t>(k);
    FamilyScore s;
    s.family = names[k];
    s.positives = y.select(1, i).sum().item<int64_t>();
    s.negatives = y.size(0) - s.positives;
    const at::Tensor d = detected.select(1, i), t = y.select(1, i);
    if (s.positives > 0) s.recall = (d * t).sum().item<double>() / s.positives;
    if (s.negatives > 0) s.false_positive = (d * (1 - t)).sum().item<double>() / s.negatives;
    s.balanced_accuracy = (s.recall + 1 - s.false_positive) / 2;
    out.push_back(s);
  }
  return out;
}

void save_instrument_probe(const fs::path& file, InstrumentProbe& probe) {
  ModelMeta meta;
  meta.arch = kArch;
  meta.arch_rev = kArchRev;
  meta.config = dump_config(probe->config());
  save_model(file, *probe, meta);
}

InstrumentProbe load_instrument_probe(const fs::path& file) {
  const ModelMeta meta = read_model_meta(file);
  MUDIT_CHECK(meta.arch == kArch, CheckpointError, file.string(), " holds a '", meta.arch,
              "' model, not an instrument probe (mudit fit-instruments)");
  InstrumentProbe probe(
      bind_config<InstrumentProbeConfig>(parse_config_text(meta.config, file.string())));
  load_model(file, *probe, kArch, kArchRev);
  probe->eval();
  return probe;
}

LabelledSongs read_labelled_songs(const fs::path& manifest, int64_t max_songs) {
  LabelledSongs out;
  std::vector<at::Tensor> rows;
  for (const data::ManifestEntry& e : data::read_manifest(manifest)) {
    if (max_songs > 0 && static_cast<int64_t>(rows.size()) >= max_songs) break;
    std::vector<std::string> f = meta_families(e.meta);
    if (f.empty()) {
      ++out.skipped;
      continue;
    }
    audio::AudioReadOptions ro;
    ro.sample_rate = kRate;
    ro.channels = 1;
    const audio::Audio a = audio::read_audio(data::resolve_audio(e, manifest), ro);
    MUDIT_CHECK(a.frames() > 0, DataError, e.id, ": no samples");
    rows.push_back(song_timbre_features(a.samples[0], kRate));
    out.families.push_back(std::move(f));
    out.ids.push_back(e.id);
  }
  MUDIT_CHECK(!rows.empty(), DataError, manifest.string(),
              ": no song has instrument labels (meta.instruments)");
  if (out.skipped > 0) {
    log::warn(manifest.string(), ": ", out.skipped, " songs without meta.instruments left out");
  }
  out.features = at::stack(rows);
  return out;
}

}  // namespace mudit::eval
