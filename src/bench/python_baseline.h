// What the suites that measure against PyTorch eager mode share: the interpreter, the scripts in
// tools/bench/, a script kept running beside the C++ side and timed in alternation with it, the
// statistics and the agreement check.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mudit/bench/bench.h"

namespace mudit::bench {

/// The median of non-empty `v` (the upper one of an even count).
double median(std::vector<double> v);

/// The baseline's interpreter: $MUDIT_PYTHON, else the Python whose torch provides LibTorch,
/// else python3.
std::string baseline_python();

/// A baseline script by file name: under $MUDIT_BENCH_SCRIPTS when set, else tools/bench/ of
/// this build's source tree when it exists, else the installed copy.
std::filesystem::path baseline_script(const std::string& name);

/// A median with the interquartile range of the same values (nearest rank).
struct Spread {
  double median = 0, low = 0, high = 0;
};
Spread spread_of(std::vector<double> v);
/// "faster" when C++'s range lies wholly below PyTorch's, "slower" when wholly above, else "same".
std::string verdict(const Spread& cpp, const Spread& python);

/// A baseline script kept running beside the C++ side: `python script work_dir`, speaking
/// tools/bench/worker.py's protocol over pipes (one command a line, one JSON line back).
class BaselineWorker {
 public:
  /// Starts the script and waits for its "ready" line. Returns null, with a warning naming
  /// `suite`, when the script exits 77 (torch or safetensors missing); throws Error naming the
  /// command for any other failure.
  static std::unique_ptr<BaselineWorker> start(const std::string& suite, const std::string& script,
                                               const std::filesystem::path& work_dir);
  ~BaselineWorker();
  BaselineWorker(const BaselineWorker&) = delete;
  BaselineWorker& operator=(const BaselineWorker&) = delete;

  /// Runs `op` once there; the seconds it took, timed by the script.
  double run(const std::string& op);
  /// Sends "done" and returns the script's closing JSON (agreement figures); the worker exits.
  nlohmann::json finish();

 private:
  BaselineWorker(pid_t pid, std::FILE* to, std::FILE* from, std::string command);
  nlohmann::json request(const std::string& line);
  pid_t pid_;
  std::FILE* to_;
  std::FILE* from_;
  std::string command_;
};

/// Times C++ and PyTorch interleaved: `warmup` untimed rounds, then `repeats` timed ones, each
/// round one C++ call and one PyTorch call of `op`, the order alternating round by round (ABBA),
/// so that neither side always runs on a machine the other just warmed or loaded.
struct Interleaved {
  std::vector<double> cpp, python;
};
Interleaved interleave(int warmup, int repeats, const std::function<void()>& cpp,
                       BaselineWorker& python, const std::string& op);

/// Adds to `out` the C++ and PyTorch medians (with their interquartile ranges) of `times`, in
/// `unit` after multiplying by `scale`, and the speed-up (PyTorch's median over C++'s) with its
/// verdict. Names: "<name> C++", "<name> PyTorch", "<name> speed-up".
void add_comparison(std::vector<Measurement>& out, const std::string& suite,
                    const std::string& name, const Interleaved& times, double scale,
                    const std::string& unit);
/// Throws Error when `difference` exceeds `tolerance` (the C++ model and its PyTorch port have
/// drifted apart); else adds it to `out` as "<name>" with the tolerance in the unit column.
void check_agreement(std::vector<Measurement>& out, const std::string& suite,
                     const std::string& name, double difference, double tolerance);

}  // namespace mudit::bench
