// The "device" suite: what a device does with mudit's models, measured on it (a GPU with
// `--device cuda`; the CPU for a dry run): the matrix-product rate the MFU is taken against, the
// generator's training step, and a whole song from noise to audio.
#include <ATen/ATen.h>
#include <ATen/DeviceAccelerator.h>
#include <c10/core/InferenceMode.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <functional>

#include "bench/common.h"
#include "bench/python_baseline.h"
#include "bench/suites.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/diffusion/interpolant.h"
#include "mudit/models/dit.h"
#include "mudit/models/hifigan.h"
#include "mudit/models/mel_vae.h"
#include "mudit/train/amp.h"

namespace mudit::bench {
namespace {

struct Scale {
  DiTConfig dit;
  MelVAEConfig vae;
  HifiganConfig vocoder;
  int64_t matmul_n;      // the square matrix product's size
  int64_t train_batch;   // songs per training step
  int64_t train_frames;  // latent frames per song in training
  double song_seconds;   // the song generated end to end
  int64_t lyric_tokens;
};

Scale make_scale(const std::string& name, bool cuda) {
  Scale s;
  if (name == "seed") {
    s.dit = DiTConfig::seed();
    s.vae = MelVAEConfig::seed();
    s.vocoder = HifiganConfig::v1_large();
    s.matmul_n = cuda ? 8192 : 2048;
    s.train_batch = 8;
    s.train_frames = 1024;
    s.song_seconds = 240;
    s.lyric_tokens = 256;
  } else if (name == "tiny") {
    s.dit = DiTConfig::tiny();
    s.vae = MelVAEConfig::tiny();
    s.dit.latent_dim = s.vae.latent_dim;
    s.vocoder = HifiganConfig::tiny();
    s.vocoder.num_mels = s.vae.mel.n_mels;
    s.vocoder.upsample_rates = {8, 8, 4};  // hop 256, the mel VAE's
    s.vocoder.upsample_kernel_sizes = {16, 16, 8};
    s.matmul_n = cuda ? 4096 : 512;
    s.train_batch = 4;
    s.train_frames = 256;
    s.song_seconds = 10;
    s.lyric_tokens = 64;
  } else {
    MUDIT_THROW(ConfigError, "bench --scale must be tiny or seed, not '", name, "'");
  }
  return s;
}

c10::DeviceIndex index_of(const at::Device& device) {
  return device.has_index() ? device.index() : 0;
}

// The caching allocator's high-water mark on a GPU, through the device-generic accelerator API
// (no CUDA headers needed); -1 on the CPU, which has no resettable mark.
void reset_peak_memory(const at::Device& device) {
  if (device.is_cuda()) at::accelerator::resetPeakStats(index_of(device));
}
double peak_memory_mb(const at::Device& device) {
  if (!device.is_cuda()) return -1;
  const auto stats = at::accelerator::getDeviceStats(index_of(device));
  const auto aggregate = static_cast<size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
  return static_cast<double>(stats.allocated_bytes[aggregate].peak) / (1 << 20);
}

train::AmpConfig amp_for(bool cuda) {
  train::AmpConfig amp;
  amp.dtype = cuda ? "bf16" : "fp32";
  return amp;
}

// A measured time in seconds, its spread carried to `scale / t` (a rate: the range inverts).
Measurement rate_of(const std::string& name, const Spread& t, double scale,
                    const std::string& unit) {
  return {"device", name, scale / t.median, unit, scale / t.high, scale / t.low, ""};
}

// A measured time in seconds, times `scale`, with its spread.
Measurement time_of(const std::string& name, const Spread& t, double scale,
                    const std::string& unit) {
  return {"device", name, t.median * scale, unit, t.low * scale, t.high * scale, ""};
}

DiTInputs song_inputs(const Scale& s, int64_t batch, int64_t frames, const at::Device& device) {
  const DiTConfig& d = s.dit;
  const auto f32 = at::TensorOptions().device(device);
  DiTInputs in;
  in.x = at::randn({batch, frames, d.latent_dim}, f32);
  in.t = at::rand({batch}, f32);
  in.frame_mask = at::ones({batch, frames}, f32.dtype(at::kBool));
  in.lyrics = at::randint(1, d.lyric_vocab, {batch, s.lyric_tokens}, f32.dtype(at::kLong));
  in.lyric_mask = at::ones({batch, s.lyric_tokens}, f32.dtype(at::kBool));
  in.known = at::zeros({batch, frames, d.latent_dim}, f32);
  in.known_mask = at::zeros({batch, frames}, f32.dtype(at::kBool));
  in.cond = at::randn({batch, d.cond_dim}, f32);
  in.cond_keep = at::ones({batch}, f32.dtype(at::kBool));
  in.lyrics_keep = at::ones({batch}, f32.dtype(at::kBool));
  return in;
}

int64_t matmul_parameters(torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) {
    if (p.dim() >= 2) n += p.numel();
  }
  return n;
}

// Model FLOPs of one training step (forward and backward, 3x the forward): 2 per weight per
// token for the matrix products, plus attention's two score products per block (2 * 2 * d * s^2).
double train_flops(const DiTConfig& d, int64_t params, int64_t batch, int64_t frames) {
  const double tokens = static_cast<double>(batch * frames / d.patch);
  const double seq = static_cast<double>(frames / d.patch);
  const double attention = 4.0 * static_cast<double>(d.depth * d.hidden_size) * seq * seq;
  return 3.0 * (2.0 * static_cast<double>(params) * tokens + attention * batch);
}

}  // namespace

std::vector<Measurement> run_device_suite(const BenchOptions& options) {
  const at::Device device = parse_device(options.device);
  const bool cuda = device.is_cuda();
  MUDIT_CHECK(!cuda || cuda_available(), ConfigError,
              "bench --device cuda: no CUDA device is visible");
  at::set_num_threads(options.threads);
  const Scale s = make_scale(options.scale, cuda);
  const std::string at_scale = " (" + options.scale + ")";
  const std::function<void()> sync = [&] {
    if (cuda) at::accelerator::synchronizeDevice(index_of(device));
  };
  const int warmup = options.warmup, repeats = options.repeats;
  // bf16 on a GPU (autocast, as training runs there); fp32 on the CPU.
  const at::ScalarType dtype = cuda ? at::kBFloat16 : at::kFloat;
  std::vector<Measurement> out;

  // 1. The device's matrix-product rate, the MFU's denominator.
  double rate = 0;
  {
    const int64_t n = s.matmul_n;
    const auto opts = at::TensorOptions().device(device).dtype(dtype);
    const at::Tensor a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
    const double flop = 2.0 * std::pow(static_cast<double>(n), 3);
    const Spread t = spread_of(time_runs(
        warmup, repeats, [&] { (void)at::mm(a, b); }, sync));
    rate = flop / t.median;
    out.push_back(
        rate_of(std::string(cuda ? "bf16" : "fp32") + " matmul " + std::to_string(n) + "^3", t,
                flop / 1e12, "TFLOP/s"));
    reset_peak_memory(device);
  }

  // 2. The generator's training step (MuDiT and MuSiT share the backbone), with and without
  // activation checkpointing.
  {
    torch::manual_seed(0);
    DiT model(s.dit);
    randomize_weights(*model);
    model->to(device);
    model->train();
    const int64_t params = matmul_parameters(*model);
    torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-4));
    const DiTInputs batch = song_inputs(s, s.train_batch, s.train_frames, device);
    const at::Tensor target = at::randn_like(batch.x);
    const double tokens = static_cast<double>(s.train_batch * s.train_frames / s.dit.patch);
    const double flops = train_flops(s.dit, params, s.train_batch, s.train_frames);
    for (const bool checkpointing : {false, true}) {
      model->set_activation_checkpointing(checkpointing);
      reset_peak_memory(device);
      const Spread t = spread_of(time_runs(
          warmup, repeats,
          [&] {
            opt.zero_grad();
            at::Tensor loss;
            {
              const train::AutocastGuard autocast(device.type(), amp_for(cuda));
              loss = (model->forward(batch).to(at::kFloat) - target).pow(2).mean();
            }
            loss.backward();
            opt.step();
          },
          sync));
      const std::string tag = std::string(checkpointing ? " checkpointed" : "") + at_scale;
      out.push_back(time_of("train step" + tag, t, 1e3, "ms"));
      out.push_back(rate_of("train tokens/s" + tag, t, tokens, "tokens/s"));
      out.push_back(rate_of("train MFU" + tag, t, 100.0 * flops / rate, "%"));
      const double peak = peak_memory_mb(device);
      if (peak >= 0) out.push_back({"device", "train peak memory" + tag, peak, "MB"});
    }
  }

  // 3. A song from noise to audio: Euler steps of the guided batch (conditioned and null rows),
  // the mel VAE's decoder, the vocoder.
  {
    torch::manual_seed(0);
    DiT model(s.dit);
    randomize_weights(*model);
    model->to(device);
    model->eval();
    MelVAE vae(s.vae);
    randomize_weights(*vae);
    vae->to(device);
    vae->eval();
    HifiganGenerator vocoder(s.vocoder);
    randomize_weights(*vocoder);
    vocoder->remove_weight_norm();
    vocoder->to(device);
    vocoder->eval();
    const double latent_rate =
        static_cast<double>(s.vae.mel.sample_rate) /
        static_cast<double>(s.vae.mel.hop_length * s.vae.frames_per_latent());
    const auto frames = static_cast<int64_t>(std::round(s.song_seconds * latent_rate));
    constexpr int kSteps = 30;
    constexpr double kGuidance = 3.0;
    DiTInputs in = song_inputs(s, 2, frames, device);
    in.cond_keep[1].fill_(false);
    in.lyrics_keep[1].fill_(false);
    std::vector<double> sampler, decode;
    reset_peak_memory(device);
    const std::vector<double> total = time_runs(
        std::min(warmup, 1), std::max(1, repeats / 4),
        [&] {
          c10::InferenceMode guard;
          const train::AutocastGuard autocast(device.type(), amp_for(cuda));
          at::Tensor x;
          sampler.push_back(time_once(
              [&] {
                x = at::randn({1, frames, s.dit.latent_dim}, in.x.options());
                for (int k = 0; k < kSteps; ++k) {
                  in.x = at::cat({x, x});
                  in.t = at::full({2}, static_cast<double>(k) / kSteps, in.x.options());
                  const at::Tensor v = model->forward(in).to(at::kFloat);
                  const at::Tensor guided = v[1] + kGuidance * (v[0] - v[1]);
                  x = x + guided.unsqueeze(0) / kSteps;
                }
              },
              sync));
          decode.push_back(time_once(
              [&] {
                const at::Tensor mel = vae->decode(x).to(at::kFloat);  // [1, n_mels, N]
                const at::Tensor audio = vocoder->forward(mel);
                MUDIT_CHECK(audio.numel() > 0, ShapeError, "the vocoder made no audio");
              },
              sync));
        },
        sync);
    // The warm-up round's parts are not timed runs.
    sampler.erase(sampler.begin(), sampler.end() - static_cast<std::ptrdiff_t>(total.size()));
    decode.erase(decode.begin(), decode.end() - static_cast<std::ptrdiff_t>(total.size()));
    const std::string song = " " + std::to_string(static_cast<int>(s.song_seconds)) + " s song";
    out.push_back(time_of("sampler" + song + at_scale, spread_of(sampler), 1, "s"));
    out.push_back(time_of("decode + vocoder" + song + at_scale, spread_of(decode), 1, "s"));
    out.push_back(time_of("end to end" + song + at_scale, spread_of(total), 1, "s"));
    const double peak = peak_memory_mb(device);
    if (peak >= 0) out.push_back({"device", "song peak memory" + at_scale, peak, "MB"});
  }
  return out;
}

}  // namespace mudit::bench
