#pragma once

// `mudit bench`: named suites of measurements with JSON output. Speed is measured here, never
// asserted in tests. Each suite measures mudit against a baseline taken in the same run.

#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace mudit::bench {

struct BenchOptions {
  int warmup = 3;                  // iterations discarded before timing
  int repeats = 20;                // timed iterations; suites report medians
  int threads = 1;                 // LibTorch threads per process (pinned the same on both sides)
  std::filesystem::path work_dir;  // scratch space (a temporary folder when empty)
  std::string device = "cpu";      // the "device" suite's device: cpu, cuda, cuda:N, auto
  std::string scale = "seed";      // the "device" suite's models: seed or tiny
};

/// One number: `value` in `unit` (e.g. "ms", "x", "tokens/s"); for a timing compared with a
/// baseline, its spread (the interquartile range [low, high]) and, for a speed-up, the verdict
/// ("faster", "same", "slower": only where the two sides' ranges do not overlap is it not "same").
struct Measurement {
  std::string suite;
  std::string name;
  double value = 0;
  std::string unit;
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  std::string verdict;
};

std::vector<std::string> suite_names();
/// Runs the named suites in order. Throws ConfigError naming an unknown suite.
std::vector<Measurement> run_suites(const std::vector<std::string>& suites,
                                    const BenchOptions& options);
/// {"machine": {...}, "results": [{suite, name, value, unit}, ...]}
std::string to_json(const std::vector<Measurement>& results, const BenchOptions& options);
/// A table for the terminal.
std::string to_table(const std::vector<Measurement>& results);

}  // namespace mudit::bench
