// mudit fit-instruments: an instrument-presence probe from labelled songs
// (mudit/eval/instruments.h), scored per family on the fitting songs and on --valid.
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/eval/instruments.h"

namespace mudit::cli {

namespace {
void print_scores(const char* split, const std::vector<eval::FamilyScore>& scores) {
  std::printf("%-22s %-6s %5s %5s %7s %7s %9s\n", "family", "split", "with", "w/o", "recall",
              "false+", "bal. acc");
  double sum = 0;
  for (const auto& s : scores) {
    std::printf("%-22s %-6s %5lld %5lld %7.3f %7.3f %9.3f\n", s.family.c_str(), split,
                static_cast<long long>(s.positives), static_cast<long long>(s.negatives), s.recall,
                s.false_positive, s.balanced_accuracy);
    sum += s.balanced_accuracy;
  }
  std::printf("%-22s %-6s %5s %5s %7s %7s %9.3f\n", "mean", split, "", "", "", "",
              scores.empty() ? 0.0 : sum / static_cast<double>(scores.size()));
}
}  // namespace

Runner setup_fit_instruments(CLI::App& app, CommonOptions& common) {
  auto manifest = std::make_shared<std::string>();
  auto valid = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto max_songs = std::make_shared<int64_t>(0);
  auto opts = std::make_shared<eval::InstrumentFitOptions>();
  app.add_option("--manifest", *manifest, "songs with meta.instruments (mudit synth)")
      ->required()
      ->type_name("JSONL");
  app.add_option("--valid", *valid, "held-out songs to score the probe on")->type_name("JSONL");
  app.add_option("--out", *out, "the probe's model file")->required()->type_name("FILE");
  app.add_option("--max-songs", *max_songs, "fit on at most this many songs (0: all)");
  app.add_option("--l2", opts->l2, "weight decay on the standardised features (default 0.3)");
  app.add_option("--min-songs", opts->min_songs,
                 "songs a family needs with it and without it to be fitted (default 8)");
  add_common_options(app, common);
  app.footer(
      "Prints per family the songs with and without it, recall, false-positive rate and "
      "balanced accuracy; mudit eval --instruments FILE scores instrument presence with it.");
  return [&common, manifest, valid, out, max_songs, opts] {
    apply_common_options(common);
    const eval::LabelledSongs train = eval::read_labelled_songs(*manifest, *max_songs);
    eval::InstrumentProbe probe = eval::fit_instrument_probe(train.features, train.families, *opts);
    print_scores("fit", eval::score_instrument_probe(probe, train.features, train.families));
    if (!valid->empty()) {
      const eval::LabelledSongs v = eval::read_labelled_songs(*valid);
      print_scores("valid", eval::score_instrument_probe(probe, v.features, v.families));
    }
    eval::save_instrument_probe(*out, probe);
    log::info("fit-instruments: wrote ", *out);
    return kOk;
  };
}

}  // namespace mudit::cli
