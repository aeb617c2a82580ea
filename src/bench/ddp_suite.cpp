#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/suites.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"

namespace mudit::bench {
namespace fs = std::filesystem;

namespace {

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  MUDIT_CHECK(!ec, IoError, "cannot locate the mudit binary: ", ec.message());
  return p.string();
}

void run_or_throw(const std::string& cmd) {
  log::info("bench: ", cmd);
  const int status = std::system(cmd.c_str());
  MUDIT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, Error, "command failed (status ",
              status, "): ", cmd);
}

// Median step time in ms from a run's metrics.jsonl, after dropping `warmup` steps.
double median_step_ms(const fs::path& run, int warmup) {
  std::ifstream in(run / "metrics.jsonl");
  MUDIT_CHECK(in.good(), IoError, "no metrics in ", run.string());
  std::vector<double> ms;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("steps_per_s") && j["steps_per_s"].is_number()) {
      ms.push_back(1000.0 / j["steps_per_s"].get<double>());
    }
  }
  MUDIT_CHECK(static_cast<int>(ms.size()) > warmup, DataError, "too few steps logged in ",
              run.string());
  ms.erase(ms.begin(), ms.begin() + warmup);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

std::vector<Measurement> run_ddp_suite(const BenchOptions& options) {
  const fs::path work =
      options.work_dir.empty()
          ? fs::temp_directory_path() / ("mudit-bench-ddp-" + std::to_string(::getpid()))
          : options.work_dir / "ddp";
  fs::remove_all(work);
  const int steps = options.warmup + options.repeats;
  const fs::path cfg = work / "toy.yaml";
  write_file_atomic(cfg,
                    "task: toy\n"
                    "train:\n"
                    "  steps: " +
                        std::to_string(steps) +
                        "\n"
                        "  batch_size: 4\n"
                        "  log_every: 1\n"
                        "  checkpoint_every: 0\n"
                        "  ema: {enabled: false}\n"
                        "  logging: {progress: false, tensorboard: false}\n"
                        "  dist: {timeout_s: 120}\n"
                        "model: {in_dim: 64, dim: 512, depth: 3, heads: 8, seq_len: 64}\n");
  const std::string exe = self_exe();
  const std::string common = " train --log-level warn --resume never --threads " +
                             std::to_string(options.threads) + " --config " + cfg.string();
  run_or_throw(exe + common + " --run-dir " + (work / "one").string());
  run_or_throw(exe + " launch -n 2 --master-port " + std::to_string(29700 + ::getpid() % 200) +
               " --" + common + " --run-dir " + (work / "two").string());
  const double one = median_step_ms(work / "one", options.warmup);
  const double two = median_step_ms(work / "two", options.warmup);
  fs::remove_all(work);
  return {{"ddp", "step_ms_1_process", one, "ms"},
          {"ddp", "step_ms_2_gloo_ranks", two, "ms"},
          {"ddp", "overhead_2_ranks_vs_1", two / one, "x"}};
}

}  // namespace mudit::bench
