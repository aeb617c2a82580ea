#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/optim/adamw.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "bench/common.h"
#include "bench/python_baseline.h"
#include "bench/suites.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/diffusion/interpolant.h"
#include "mudit/models/dit.h"

namespace mudit::bench {
namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 30;  // Euler steps per song in the sampling real-time factor
// Agreement accepted between the C++ model and its PyTorch port: the forward outputs (up to about
// 2.5) agreed to 1.2e-6 and the first losses bit for bit when measured; more is drift.
constexpr double kForwardTolerance = 1e-4, kLossTolerance = 1e-5;
constexpr double kLr = 1e-4, kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8, kWeightDecay = 0.01;

struct Case {
  std::string name;
  DiTConfig dit;
  int64_t train_batch;  // 0: no training step
  int64_t train_frames;
  int64_t sample_frames;  // of the one song sampled (two rows: condition and null)
  int64_t lyric_tokens;
  int64_t cond_frames;  // 0: a pooled condition [B, D]; else per-frame [B, F, D]
  double latent_rate;   // latent frames per second of audio
  int repeat_divisor;   // big cases run repeats / this
};

DiTConfig medium() {
  DiTConfig c;
  c.latent_dim = 64;
  c.patch = 2;
  c.hidden_size = 512;
  c.depth = 4;
  c.num_heads = 8;
  c.max_frames = 1024;
  c.lyric_max_tokens = 256;
  return c;
}

// b songs of up to `frames` frames exercising every input of the backbone: the songs shrink by
// frames / 2b each (padding); song 0 has its first quarter known in context; song 1 has its
// condition dropped, song 2 its lyrics; the last of three or more has no lyrics; lyrics are
// padded like the frames.
DiTInputs make_inputs(const Case& c, int64_t b, int64_t frames) {
  const DiTConfig& d = c.dit;
  const int64_t l = c.lyric_tokens;
  DiTInputs in;
  in.x = at::randn({b, frames, d.latent_dim});  // [B, T, C]
  in.t = at::rand({b});
  in.frame_mask = at::zeros({b, frames}, at::kBool);
  in.lyrics = at::randint(1, d.lyric_vocab, {b, l}, at::kLong);  // [B, L]
  in.known = at::randn({b, frames, d.latent_dim});
  in.known_mask = at::zeros({b, frames}, at::kBool);
  in.cond = c.cond_frames ? at::randn({b, c.cond_frames, d.cond_dim}) : at::randn({b, d.cond_dim});
  in.cond_keep = at::ones({b}, at::kBool);
  in.lyrics_keep = at::ones({b}, at::kBool);
  for (int64_t i = 0; i < b; ++i) {
    in.frame_mask[i].narrow(0, 0, frames - i * frames / (2 * b)).fill_(true);
    in.lyrics[i].narrow(0, l - i * l / (2 * b), i * l / (2 * b)).zero_();
  }
  if (b > 1) {
    in.known_mask[0].narrow(0, 0, frames / 4).fill_(true);
    in.cond_keep[1].fill_(false);
  }
  if (b > 2) in.lyrics[b - 1].zero_();
  if (b > 3) in.lyrics_keep[2].fill_(false);
  in.lyric_mask = in.lyrics.ne(0);
  return in;
}

// The batch of one guided Euler step for `base` (one song): the conditioned row, then the null
// row (description and lyrics dropped).
DiTInputs guided_batch(DiTInputs base) {
  auto twice = [](const at::Tensor& v) { return at::cat({v, v}); };
  const at::Tensor on = at::ones({1}, at::kBool), off = at::zeros({1}, at::kBool);
  base.x = twice(base.x);
  base.t = twice(base.t);
  base.frame_mask = twice(base.frame_mask);
  base.cond = twice(base.cond);
  base.cond_keep = at::cat({on, off});
  base.lyrics = twice(base.lyrics);
  base.lyric_mask = twice(base.lyric_mask);
  base.lyrics_keep = at::cat({on, off});
  base.known = twice(base.known);
  base.known_mask = twice(base.known_mask);
  return base;
}

std::map<std::string, at::Tensor> tensors(const DiTInputs& in) {
  return {{"x", in.x},
          {"t", in.t},
          {"frame_mask", in.frame_mask},
          {"cond", in.cond},
          {"cond_keep", in.cond_keep},
          {"lyrics", in.lyrics},
          {"lyric_mask", in.lyric_mask},
          {"lyrics_keep", in.lyrics_keep},
          {"known", in.known},
          {"known_mask", in.known_mask}};
}

// Writes a config's fields into JSON, as the baseline reads them.
struct JsonWriter {
  nlohmann::json& j;
  template <class T>
  void operator()(const char* key, const T& value) {
    j[key] = value;
  }
};

nlohmann::json to_json(DiTConfig c) {
  nlohmann::json j;
  JsonWriter w{j};
  c.visit(w);
  return j;
}

}  // namespace

std::vector<Measurement> run_generator_suite(const BenchOptions& options) {
  const fs::path root =
      options.work_dir.empty()
          ? fs::temp_directory_path() / ("mudit-bench-generator-" + std::to_string(::getpid()))
          : options.work_dir / "generator";
  fs::remove_all(root);
  at::set_num_threads(options.threads);
  std::vector<Measurement> out;
  std::vector<Case> cases = {
      {"tiny", DiTConfig::tiny(), 8, 512, 512, 128, 0, 24000.0 / 2048, 1},
      {"medium", medium(), 4, 255, 1023, 256, 8, 24000.0 / 2048, 2},
      {"seed", DiTConfig::seed(), 0, 0, 128, 256, 0, 24000.0 / 256 / 16, 4},
  };
  if (options.scale == "tiny") cases.resize(1);
  for (const Case& c : cases) {
    const fs::path work = root / c.name;
    fs::create_directories(work);
    torch::manual_seed(0);
    DiT model(c.dit);
    randomize_weights(*model);
    save_safetensors(work / "weights.safetensors", state_dict(*model));
    // At least 7 timed rounds of each side, also for the big cases.
    const int repeats = std::max(std::min(options.repeats, 7), options.repeats / c.repeat_divisor);
    const std::string& n = c.name;

    // Sampling: one guided forward of a song (two rows), as an ODE step makes it.
    const DiTInputs sample = guided_batch(make_inputs(c, 1, c.sample_frames));
    const double audio_s = static_cast<double>(c.sample_frames) / c.latent_rate;
    auto forward = [&] {
      c10::InferenceMode guard;
      model->eval();
      return model->forward(sample);
    };
    save_safetensors(work / "sample_inputs.safetensors", tensors(sample));
    save_safetensors(work / "cpp_out.safetensors", {{"out", forward()}});

    // Training: forward, masked MSE against a fixed target, backward, AdamW.
    std::function<void()> train_step;
    std::unique_ptr<torch::optim::AdamW> opt;
    DiTInputs batch;
    at::Tensor target, scored;
    double cpp_loss = std::nan("");
    if (c.train_batch > 0) {
      batch = make_inputs(c, c.train_batch, c.train_frames);
      target = at::randn_like(batch.x);                            // [B, T, C]
      scored = batch.frame_mask & batch.known_mask.logical_not();  // [B, T]
      auto saved = tensors(batch);
      saved["target"] = target;
      save_safetensors(work / "train_inputs.safetensors", saved);
      opt = std::make_unique<torch::optim::AdamW>(model->parameters(),
                                                  torch::optim::AdamWOptions(kLr)
                                                      .betas({kBeta1, kBeta2})
                                                      .eps(kEps)
                                                      .weight_decay(kWeightDecay));
      train_step = [&] {
        model->train();
        opt->zero_grad();
        const at::Tensor loss =
            diffusion::masked_mean((model->forward(batch) - target).pow(2), scored).mean();
        loss.backward();
        opt->step();
        if (std::isnan(cpp_loss)) cpp_loss = loss.item<double>();
      };
    }

    // The same weights, inputs and thread count in PyTorch eager mode, run beside this process
    // and timed in alternation with it.
    nlohmann::json cfg;
    cfg["dit"] = to_json(c.dit);
    cfg["threads"] = options.threads;
    cfg["train"] = nullptr;
    if (c.train_batch > 0) {
      cfg["train"] = {
          {"lr", kLr}, {"betas", {kBeta1, kBeta2}}, {"eps", kEps}, {"weight_decay", kWeightDecay}};
    }
    write_file_atomic(work / "config.json", cfg.dump());
    const auto python = BaselineWorker::start("generator", "dit_eager.py", work);
    if (!python) {
      const Spread cpp = spread_of(time_runs(options.warmup, repeats, [&] { forward(); }));
      const double scale = kSteps / audio_s;
      out.push_back({"generator", n + " sampling RTF C++", cpp.median * scale, "x", cpp.low * scale,
                     cpp.high * scale, ""});
      fs::remove_all(work);
      continue;
    }
    const Interleaved sampling = interleave(
        options.warmup, repeats, [&] { forward(); }, *python, "sample");
    add_comparison(out, "generator", n + " sampling RTF", sampling, kSteps / audio_s, "x");
    if (train_step) {
      const Interleaved training =
          interleave(options.warmup, repeats, train_step, *python, "train");
      add_comparison(out, "generator", n + " train step", training, 1e3, "ms");
    }
    const nlohmann::json j = python->finish();
    check_agreement(out, "generator", n + " forward |C++ - PyTorch|",
                    j.at("max_abs_diff").get<double>(), kForwardTolerance);
    if (train_step) {
      check_agreement(out, "generator", n + " first loss |C++ - PyTorch|",
                      std::abs(cpp_loss - j.at("first_loss").get<double>()), kLossTolerance);
    }
    opt.reset();
    model = nullptr;
    fs::remove_all(work);
  }
  fs::remove_all(root);
  return out;
}

}  // namespace mudit::bench
