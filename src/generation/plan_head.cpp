#include "mudit/generation/plan_head.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/nn/linear_probe.h"

namespace mudit::generation {
namespace fs = std::filesystem;

namespace {
constexpr const char* kArch = "plan_head";
constexpr int kArchRev = 1;
constexpr int64_t kKeys = 24;  // tonic 0..11 major, then minor
}  // namespace

// Reaches the head's buffers and layer to fill them in after fitting.
struct PlanHeadAccess {
  static at::Tensor& mean(PlanHeadImpl& h) { return h.mean_; }
  static at::Tensor& scale(PlanHeadImpl& h) { return h.scale_; }
  static torch::nn::Linear& out(PlanHeadImpl& h) { return h.out_; }
};

void PlanHeadConfig::validate() const {
  MUDIT_CHECK(embed_dim > 0, ConfigError, "plan head: embed_dim must be positive");
  MUDIT_CHECK(!meters.empty(), ConfigError, "plan head: no meters");
  for (const std::string& m : meters) beats_per_bar(m);  // DataError for an unknown meter
  MUDIT_CHECK(key_confidence > 0 && key_confidence <= 1, ConfigError,
              "plan head: key_confidence must be in (0, 1], got ", key_confidence);
}

PlanHeadImpl::PlanHeadImpl(PlanHeadConfig config) : config_(std::move(config)) {
  config_.validate();
  const int64_t e = config_.embed_dim;
  mean_ = register_buffer("embedding_mean", at::zeros({e}));
  scale_ = register_buffer("embedding_scale", at::ones({e}));
  out_ = register_module(
      "out", torch::nn::Linear(e, 1 + kKeys + static_cast<int64_t>(config_.meters.size())));
}

at::Tensor PlanHeadImpl::forward(const at::Tensor& embeddings) {
  MUDIT_CHECK(embeddings.size(-1) == config_.embed_dim, ShapeError,
              "plan head: ", config_.embed_dim, "-d embeddings expected, got ", embeddings.sizes());
  return out_->forward((embeddings.to(at::kFloat) - mean_) / scale_);
}

std::vector<PlanFacts> PlanHeadImpl::read(const at::Tensor& embeddings) {
  c10::InferenceMode guard;
  const at::Tensor y = forward(embeddings.reshape({-1, config_.embed_dim})).cpu();
  const at::Tensor key_p = at::softmax(y.slice(1, 1, 1 + kKeys), 1);
  const at::Tensor meter = y.slice(1, 1 + kKeys).argmax(1);
  std::vector<PlanFacts> out(static_cast<size_t>(y.size(0)));
  for (int64_t n = 0; n < y.size(0); ++n) {
    PlanFacts& f = out[static_cast<size_t>(n)];
    f.bpm = std::clamp(120.0 * std::exp2(y[n][0].item<double>()), 30.0, 300.0);
    f.meter = config_.meters[static_cast<size_t>(meter[n].item<int64_t>())];
    const int64_t k = key_p[n].argmax().item<int64_t>();
    f.key.tonic = static_cast<int>(k % 12);
    f.key.minor = k >= 12;
    f.key_probability = key_p[n][k].item<double>();
    f.has_key = f.key_probability >= config_.key_confidence;
  }
  return out;
}

PlanHead fit_plan_head(const at::Tensor& embeddings, const std::vector<PlanFacts>& facts,
                       const PlanHeadFitOptions& options) {
  const auto n = static_cast<int64_t>(facts.size());
  MUDIT_CHECK(embeddings.dim() == 2 && embeddings.size(0) == n && n > 0, ShapeError,
              "plan head: embeddings ", embeddings.sizes(), " for ", n, " descriptions");
  std::set<std::string> meter_set;
  for (const PlanFacts& f : facts) {
    MUDIT_CHECK(f.bpm > 0 && !f.meter.empty() && f.has_key, DataError,
                "plan head: every description needs its song's tempo, meter and key");
    meter_set.insert(f.meter);
  }
  PlanHeadConfig config;
  config.embed_dim = embeddings.size(1);
  config.meters.assign(meter_set.begin(), meter_set.end());
  config.key_confidence = options.key_confidence;
  PlanHead head(config);

  std::vector<float> tempo;
  std::vector<int64_t> key, meter;
  for (const PlanFacts& f : facts) {
    tempo.push_back(static_cast<float>(std::log2(f.bpm / 120.0)));
    key.push_back(f.key.tonic + (f.key.minor ? 12 : 0));
    meter.push_back(std::distance(config.meters.begin(),
                                  std::find(config.meters.begin(), config.meters.end(), f.meter)));
  }
  const at::Tensor t = at::tensor(tempo), k = at::tensor(key), m = at::tensor(meter);
  // The tempo target standardised, so its squared error weighs like the cross-entropies.
  const double t_mean = t.mean().item<double>();
  const double t_scale = std::max(1e-3, t.std(/*unbiased=*/false).item<double>());
  const at::Tensor ts = (t - t_mean) / t_scale;

  const nn::Standardizer st = nn::fit_standardizer(embeddings);
  const at::Tensor xs = st.apply(embeddings.to(at::kFloat).cpu());
  torch::nn::Linear& lin = PlanHeadAccess::out(*head);
  const double final_loss = nn::fit_linear_lbfgs(
      lin,
      [&] {
        const at::Tensor y = lin->forward(xs);
        return (y.select(1, 0) - ts).pow(2).mean() +
               at::cross_entropy_loss(y.slice(1, 1, 1 + kKeys), k) +
               at::cross_entropy_loss(y.slice(1, 1 + kKeys), m) +
               0.5 * options.l2 * lin->weight.pow(2).sum();
      },
      options.max_iterations);
  {
    // Fold the tempo's standardisation into its row, so forward() gives log2(BPM / 120).
    torch::NoGradGuard no_grad;
    lin->weight[0].mul_(t_scale);
    lin->bias[0].mul_(t_scale).add_(t_mean);
  }
  PlanHeadAccess::mean(*head).copy_(st.mean);
  PlanHeadAccess::scale(*head).copy_(st.scale);
  head->eval();
  log::info("plan head: ", n, " descriptions, ", config.embed_dim, "-d embeddings, meters ",
            config.meters.size(), "; loss ", final_loss);
  return head;
}

void save_plan_head(const fs::path& file, PlanHead& head) {
  ModelMeta meta;
  meta.arch = kArch;
  meta.arch_rev = kArchRev;
  meta.config = dump_config(head->config());
  save_model(file, *head, meta);
}

PlanHead load_plan_head(const fs::path& file) {
  const ModelMeta meta = read_model_meta(file);
  MUDIT_CHECK(meta.arch == kArch, CheckpointError, file.string(), " holds a '", meta.arch,
              "' model, not a plan head (mudit fit-plan-head)");
  PlanHead head(bind_config<PlanHeadConfig>(parse_config_text(meta.config, file.string())));
  load_model(file, *head, kArch, kArchRev);
  head->eval();
  return head;
}

}  // namespace mudit::generation
