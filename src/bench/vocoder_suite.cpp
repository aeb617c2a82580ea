#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bench/common.h"
#include "bench/python_baseline.h"
#include "bench/suites.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/hifigan.h"

namespace mudit::bench {
namespace fs = std::filesystem;

namespace {

// Largest |C++ - PyTorch| of the audio accepted: the two compute the same convolutions (0 was
// measured for V1 and v1_large); more means the port and the model have drifted apart.
constexpr double kTolerance = 1e-4;

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
  const std::vector<Case> cases =
      options.scale == "tiny"
          ? std::vector<Case>{{"tiny", HifiganConfig::tiny(), 22050, 1.0}}
          : std::vector<Case>{{"v1", HifiganConfig::v1(), 22050, 2.0},
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
    auto forward = [&] {
      c10::InferenceMode guard;
      return g(mel);
    };

    // The same weights, input and thread count in PyTorch eager mode, run beside this process.
    save_safetensors(work / "weights.safetensors", state_dict(*g));
    save_safetensors(work / "mel.safetensors", {{"mel", mel}});
    save_safetensors(work / "cpp_out.safetensors", {{"audio", forward()}});
    nlohmann::json cfg;
    cfg["generator"] = {{"resblock", c.generator.resblock},
                        {"upsample_rates", c.generator.upsample_rates},
                        {"upsample_kernel_sizes", c.generator.upsample_kernel_sizes},
                        {"upsample_initial_channel", c.generator.upsample_initial_channel},
                        {"resblock_kernel_sizes", c.generator.resblock_kernel_sizes},
                        {"resblock_dilation_sizes", c.generator.resblock_dilation_sizes},
                        {"num_mels", c.generator.num_mels}};
    cfg["threads"] = options.threads;
    write_file_atomic(work / "config.json", cfg.dump());
    const auto python = BaselineWorker::start("vocoder", "hifigan_eager.py", work);
    if (!python) {
      const Spread cpp = spread_of(time_runs(options.warmup, options.repeats, [&] { forward(); }));
      out.push_back({"vocoder", c.name + " RTF C++", cpp.median / audio_s, "x", cpp.low / audio_s,
                     cpp.high / audio_s, ""});
      continue;
    }
    const Interleaved times = interleave(
        options.warmup, options.repeats, [&] { forward(); }, *python, "forward");
    add_comparison(out, "vocoder", c.name + " RTF", times, 1.0 / audio_s, "x");
    check_agreement(out, "vocoder", c.name + " max |C++ - PyTorch|",
                    python->finish().at("max_abs_diff").get<double>(), kTolerance);
  }
  fs::remove_all(root);
  return out;
}

}  // namespace mudit::bench
