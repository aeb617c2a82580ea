// mudit fit-plan-head: the plan head (mudit/generation/plan_head.h) from labelled songs'
// descriptions, scored per register on the fitting songs and on --valid: the text alone
// (parse_plan_hints), then the text with the head, as mudit sample builds a plan.
#include <torch/csrc/autograd/grad_mode.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/generation/plan_head.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/plan_sources.h"

namespace mudit::cli {

namespace {
void print_scores(const char* split, const char* source,
                  const std::map<std::string, pipeline::DescriptionPlanScores>& scores) {
  for (const auto& [reg, s] : scores) {
    std::printf("%-6s %-12s %-11s %6lld %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f\n", split,
                reg.c_str(), source, static_cast<long long>(s.descriptions), s.tempo_stated,
                s.tempo, s.tempo_class, s.meter, s.key_given, s.key_exact, s.key_weighted, s.mode);
  }
}
void print_header() {
  std::printf("%-6s %-12s %-11s %6s %7s %7s %7s %7s %7s %7s %7s %7s\n", "split", "register",
              "source", "descs", "stated", "tempo8", "class", "meter", "key?", "key", "keyw",
              "mode");
}
}  // namespace

Runner setup_fit_plan_head(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string manifest, valid, chinmu, out;
    int64_t max_songs = 0;
    generation::PlanHeadFitOptions fit;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--manifest", f->manifest, "songs with meta bpm, meter and key (mudit synth)")
      ->required()
      ->type_name("JSONL");
  app.add_option("--chinmu", f->chinmu, "ChinMu run or model file (the bundle's)")->required();
  app.add_option("--valid", f->valid, "held-out songs to score the head on")->type_name("JSONL");
  app.add_option("--out", f->out, "the head's model file")->required()->type_name("FILE");
  app.add_option("--max-songs", f->max_songs, "fit on at most this many songs (0: all)");
  app.add_option("--l2", f->fit.l2, "weight decay on the standardised embedding (default 1e-3)");
  app.add_option("--key-confidence", f->fit.key_confidence,
                 "a key is given from this probability on (default 0.5)");
  add_common_options(app, common);
  app.footer(
      "Prints per split and register, for the text alone and the text with the head: the share "
      "of descriptions whose tempo is stated, tempo within 8 %, tempo class (fast / slow), "
      "meter, a key given, key exact, MIREX weighted key, mode. mudit bundle --plan-head FILE "
      "puts the head in a bundle.");
  return [&common, f] {
    apply_common_options(common);
    MUDIT_CHECK(f->fit.l2 >= 0, ConfigError, "--l2 must be >= 0");
    MUDIT_CHECK(f->fit.key_confidence > 0 && f->fit.key_confidence <= 1, ConfigError,
                "--key-confidence must be in (0, 1]");
    torch::NoGradGuard no_grad;
    // The manifests first: a bad one is named before ChinMu loads.
    const pipeline::DescribedSongs train =
        pipeline::read_described_songs(f->manifest, f->max_songs);
    std::optional<pipeline::DescribedSongs> valid;
    if (!f->valid.empty()) valid = pipeline::read_described_songs(f->valid);
    ChinMu chinmu = load_chinmu(resolve_model_file(f->chinmu));
    chinmu->eval();
    if (train.skipped > 0)
      log::warn(f->manifest, ": ", train.skipped, " songs without tempo, meter and key left out");
    log::info("plan head: embedding ", train.texts.size(), " descriptions of ", train.ids.size(),
              " songs");
    const at::Tensor x = chinmu->embed_texts(train.texts, 256).cpu();
    generation::PlanHead head = generation::fit_plan_head(x, train.facts, f->fit);
    print_header();
    print_scores("fit", "text", pipeline::score_description_plans(train));
    print_scores("fit", "text+head", pipeline::score_description_plans(train, head->read(x)));
    if (valid) {
      const pipeline::DescribedSongs& v = *valid;
      const at::Tensor xv = chinmu->embed_texts(v.texts, 256).cpu();
      print_scores("valid", "text", pipeline::score_description_plans(v));
      print_scores("valid", "text+head", pipeline::score_description_plans(v, head->read(xv)));
    }
    generation::save_plan_head(f->out, head);
    log::info("fit-plan-head: wrote ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
