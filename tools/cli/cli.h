// Shared machinery of the `mudit` binary: the common flags every subcommand takes, the command
// table entry, and the single place where exceptions become exit codes.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mudit/core/config.h"

namespace mudit::cli {

/// Exit codes: 0 success, 2 usage or config, 3 input data, 4 runtime.
enum ExitCode : int { kOk = 0, kUsage = 2, kInput = 3, kRuntime = 4 };

/// The flags every subcommand shares, registered by add_common_options().
struct CommonOptions {
  std::vector<std::string> configs;  // --config FILE (repeatable, later wins)
  std::vector<std::string> sets;     // --set a.b=c (repeatable, applied last)
  std::optional<uint64_t> seed;      // --seed N
  std::string device = "auto";       // --device cpu|cuda|cuda:N|auto
  std::string log_level = "info";    // --log-level
  int threads = 0;                   // --threads N (0: LibTorch's default)
};

void add_common_options(CLI::App& app, CommonOptions& opts);

/// A check that a number is at least `min`: "must be at least 1, got 0" (CLI11's own
/// PositiveNumber prints the double range up to 1.8e308).
CLI::Validator at_least(int64_t min);

/// Applies --log-level and --threads and checks --device; call first in every runner.
void apply_common_options(const CommonOptions& opts);

/// The config tree from --config files and --set overrides.
ConfigNode resolve_config(const CommonOptions& opts);

/// A subcommand: `setup` adds its options to `app` and returns what runs after parsing.
using Runner = std::function<int()>;
struct Command {
  const char* name;
  const char* summary;
  Runner (*setup)(CLI::App& app, CommonOptions& common);
};

/// Parses argv against the command table and runs the chosen command, turning every error
/// into one line on stderr and an exit code.
int run_main(int argc, char** argv, const std::vector<Command>& commands);

}  // namespace mudit::cli
