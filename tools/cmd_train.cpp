// mudit train: one run of a task through the trainer (single process, torchrun or mudit launch).
#include <cstdlib>
#include <memory>

#include "commands.h"
#include "mudit/core/config.h"
#include "mudit/core/log.h"
#include "mudit/train/trainer.h"

namespace mudit::cli {

namespace {

// The scalar at a dotted path of a config tree, or "".
std::string scalar_at(const ConfigNode& root, std::initializer_list<const char*> path) {
  const ConfigNode* n = &root;
  for (const char* key : path) {
    if (!n->is_map() || !(n = n->find(key))) return "";
  }
  return n->is_scalar() ? n->text() : "";
}

// A preset whose schedules end with its run (total_steps == train.steps in the files) keeps
// them ending with the run when --steps or --set train.steps changes its length; without this
// a longer run sat at the schedule's floor after the preset's length.
void schedules_follow_steps(const CommonOptions& common, ConfigNode& tree) {
  CommonOptions files_only = common;
  files_only.sets.clear();
  const ConfigNode base = resolve_config(files_only);
  const std::string base_steps = scalar_at(base, {"train", "steps"});
  const std::string steps = scalar_at(tree, {"train", "steps"});
  if (base_steps.empty() || steps.empty() || steps == base_steps) return;
  const long long run = std::strtoll(steps.c_str(), nullptr, 10);
  for (const char* schedule : {"schedule", "disc_schedule"}) {
    if (scalar_at(base, {"train", schedule, "total_steps"}) != base_steps ||
        scalar_at(tree, {"train", schedule, "total_steps"}) != base_steps)
      continue;  // not pinned to the preset's length, or set explicitly: left alone
    // A run no longer than the warm-up never reaches the decay: the schedule is left as it is
    // (a decay needs total_steps > warmup_steps).
    const std::string warmup = scalar_at(tree, {"train", schedule, "warmup_steps"});
    if (run <= std::strtoll(warmup.c_str(), nullptr, 10)) continue;
    apply_override(tree, std::string("train.") + schedule + ".total_steps=" + steps);
    log::info("train.", schedule, ".total_steps follows train.steps: ", base_steps, " -> ", steps);
  }
}

}  // namespace

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
      ->check(at_least(0));
  CLI::App* sub = &app;
  return [&common, flags, sub] {
    apply_common_options(common);
    ConfigNode tree = resolve_config(common);
    if (!flags->run_dir.empty()) apply_override(tree, "run_dir='" + flags->run_dir + "'");
    if (!flags->resume.empty()) apply_override(tree, "resume='" + flags->resume + "'");
    if (flags->steps >= 0) apply_override(tree, "train.steps=" + std::to_string(flags->steps));
    schedules_follow_steps(common, tree);
    if (common.seed) apply_override(tree, "train.seed=" + std::to_string(*common.seed));
    if (sub->count("--device")) apply_override(tree, "train.device=" + common.device);
    const auto run = bind_config<train::RunConfig>(tree);
    const train::TrainResult result = train::train(run);
    log::info("finished at step ", result.step, " (", result.skipped_steps, " skipped)");
    return result.exit_code();
  };
}

}  // namespace mudit::cli
