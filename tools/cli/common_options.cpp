// The flags every subcommand shares (llama.cpp-style single registry) and what they set up.
#include "cli/cli.h"

#include "mudit/core/device.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"

namespace mudit::cli {

CLI::Validator at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        int64_t n = 0;
        if (!CLI::detail::lexical_cast(value, n)) return "'" + value + "' is not a whole number";
        if (n < min) return "must be at least " + std::to_string(min) + ", got " + value;
        return {};
      },
      ">= " + std::to_string(min));
}

void add_common_options(CLI::App& app, CommonOptions& opts) {
  app.add_option("--config", opts.configs, "YAML config file (repeatable; later files win)")
      ->type_name("FILE");
  app.add_option("--set", opts.sets, "override a config value: a.b=c (repeatable, typed YAML)")
      ->type_name("KEY=VALUE");
  app.add_option("--seed", opts.seed, "random seed")->type_name("N");
  app.add_option("--device", opts.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  app.add_option("--log-level", opts.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--threads", opts.threads, "CPU threads for LibTorch (0: its default)")
      ->capture_default_str();
}

void apply_common_options(const CommonOptions& opts) {
  log::set_level(log::parse_level(opts.log_level));
  set_num_threads(opts.threads);
  parse_device(opts.device);
  if (opts.seed) seed_everything(*opts.seed);
}

ConfigNode resolve_config(const CommonOptions& opts) {
  std::vector<std::filesystem::path> files(opts.configs.begin(), opts.configs.end());
  return mudit::resolve_config(files, opts.sets);
}

}  // namespace mudit::cli
