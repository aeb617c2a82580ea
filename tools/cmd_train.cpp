// mudit train: one run of a task through the trainer (single process, torchrun or mudit launch).
#include <memory>

#include "commands.h"
#include "mudit/core/log.h"
#include "mudit/train/trainer.h"

namespace mudit::cli {

Runner setup_train(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  struct Flags {
    std::string run_dir, resume;
    int64_t steps = -1;
  };
  auto flags = std::make_shared<Flags>();
  app.add_option("--run-dir", flags->run_dir, "run folder (overrides run_dir)")->type_name("DIR");
  app.add_option("--resume", flags->resume, "auto (latest checkpoint if any), never, or a step");
  app.add_option("--steps", flags->steps, "optimizer steps (overrides train.steps)")
      ->check(CLI::NonNegativeNumber);
  CLI::App* sub = &app;
  return [&common, flags, sub] {
    apply_common_options(common);
    ConfigNode tree = resolve_config(common);
    if (!flags->run_dir.empty()) apply_override(tree, "run_dir='" + flags->run_dir + "'");
    if (!flags->resume.empty()) apply_override(tree, "resume='" + flags->resume + "'");
    if (flags->steps >= 0) apply_override(tree, "train.steps=" + std::to_string(flags->steps));
    if (common.seed) apply_override(tree, "train.seed=" + std::to_string(*common.seed));
    if (sub->count("--device")) apply_override(tree, "train.device=" + common.device);
    const auto run = bind_config<train::RunConfig>(tree);
    const train::TrainResult result = train::train(run);
    log::info("finished at step ", result.step, " (", result.skipped_steps, " skipped)");
    return result.exit_code();
  };
}

}  // namespace mudit::cli
