#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "bench/python_baseline.h"
#include "bench/suites.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/hifigan.h"

namespace mudit::bench {
namespace fs = std::filesystem;

namespace {

struct Case {
  std::string name;
  HifiganConfig generator;
  int sample_rate;
  double seconds;  // of audio per forward
};

}  // namespace

std::vector<Measurement> run_vocoder_suite(const BenchOptions& options) {
  const fs::path root =
      options.work_dir.empty()
          ? fs::temp_directory_path() / ("mudit-bench-vocoder-" + std::to_string(::getpid()))
          : options.work_dir / "vocoder";
  fs::remove_all(root);
  at::set_num_threads(options.threads);
  std::vector<Measurement> out;
  const std::vector<Case> cases = {{"v1", HifiganConfig::v1(), 22050, 2.0},
                                   {"v1_large", HifiganConfig::v1_large(), 24000, 1.0}};
  for (const Case& c : cases) {
    const fs::path work = root / c.name;
    fs::create_directories(work);
    torch::manual_seed(0);
    HifiganGenerator g(c.generator);
    g->remove_weight_norm();
    g->eval();
    const int64_t hop = c.generator.hop_length();
    const int64_t frames = std::llround(c.seconds * c.sample_rate / static_cast<double>(hop));
    const double audio_s = static_cast<double>(frames * hop) / c.sample_rate;
    const at::Tensor mel = at::randn({1, c.generator.num_mels, frames}) - 4.0;  // [1, M, N]
    // Fewer repeats for the large model: one forward of it takes seconds on a CPU.
    const int repeats = c.name == "v1" ? options.repeats : std::max(1, options.repeats / 4);
    const int warmup = std::min(options.warmup, 1);
    std::vector<double> times;
    at::Tensor audio;
    {
      c10::InferenceMode guard;
      for (int i = 0; i < warmup + repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        audio = g(mel);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (i >= warmup) times.push_back(s);
      }
    }
    const double cpp = median(times);
    out.push_back({"vocoder", c.name + " C++ RTF", cpp / audio_s, "x"});

    // The same weights, input and thread count in PyTorch eager mode.
    save_safetensors(work / "weights.safetensors", state_dict(*g));
    save_safetensors(work / "mel.safetensors", {{"mel", mel}});
    save_safetensors(work / "cpp_out.safetensors", {{"audio", audio}});
    nlohmann::json cfg;
    cfg["generator"] = {{"resblock", c.generator.resblock},
                        {"upsample_rates", c.generator.upsample_rates},
                        {"upsample_kernel_sizes", c.generator.upsample_kernel_sizes},
                        {"upsample_initial_channel", c.generator.upsample_initial_channel},
                        {"resblock_kernel_sizes", c.generator.resblock_kernel_sizes},
                        {"resblock_dilation_sizes", c.generator.resblock_dilation_sizes},
                        {"num_mels", c.generator.num_mels}};
    cfg["warmup"] = warmup;
    cfg["repeats"] = repeats;
    cfg["threads"] = options.threads;
    write_file_atomic(work / "config.json", cfg.dump());
    const auto j = run_baseline("vocoder", "hifigan_eager.py", work);
    if (!j) continue;
    const double py = median(j->at("seconds").get<std::vector<double>>());
    out.push_back({"vocoder", c.name + " PyTorch eager RTF", py / audio_s, "x"});
    out.push_back({"vocoder", c.name + " C++ speed-up", py / cpp, "x"});
    out.push_back(
        {"vocoder", c.name + " max |C++ - PyTorch|", j->at("max_abs_diff").get<double>(), ""});
  }
  fs::remove_all(root);
  return out;
}

}  // namespace mudit::bench
