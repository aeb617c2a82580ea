// What the suites that measure against PyTorch eager mode share: the interpreter, the scripts in
// tools/bench/, running one and reading its JSON line.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mudit::bench {

/// The median of non-empty `v` (the upper one of an even count).
double median(std::vector<double> v);

/// The baseline's interpreter: $MUDIT_PYTHON, else the Python whose torch provides LibTorch,
/// else python3.
std::string baseline_python();

/// A baseline script by file name: under $MUDIT_BENCH_SCRIPTS when set, else tools/bench/ of
/// this build's source tree when it exists, else the installed copy.
std::filesystem::path baseline_script(const std::string& name);

/// Runs `python script work_dir` and parses the JSON line it prints. A script exits 77 when
/// torch or safetensors is missing: then this warns, naming `suite`, and returns nullopt. Any
/// other failure throws Error naming the command.
std::optional<nlohmann::json> run_baseline(const std::string& suite, const std::string& script,
                                           const std::filesystem::path& work_dir);

}  // namespace mudit::bench
