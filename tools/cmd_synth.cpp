// mudit synth: the synthetic corpus (procedurally composed, FluidSynth-rendered, described songs).
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "mudit/core/log.h"
#include "mudit/data/synth.h"
#include "mudit/train/progress.h"

namespace mudit::cli {

Runner setup_synth(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string out, describe;
    std::optional<int64_t> songs, sample_rate;
    std::optional<double> seconds;
    bool no_vocals = false;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--out", f->out, "output folder (songs/, manifest.jsonl, synth.yaml)")
      ->type_name("DIR");
  app.add_option("--songs", f->songs, "number of songs (synth.songs)")->type_name("N");
  app.add_option("--seconds", f->seconds, "target length of each song (synth.seconds)")
      ->type_name("S");
  app.add_option("--sample-rate", f->sample_rate, "Hz (synth.sample_rate)")->type_name("R");
  app.add_flag("--no-vocals", f->no_vocals, "instruments only (synth.vocals=false)");
  app.add_option("--describe", f->describe, "print a song folder's labels and descriptions")
      ->type_name("SONG_DIR");
  add_common_options(app, common);
  CLI::Option* threads = app.get_option("--threads");
  return [&common, f, threads] {
    apply_common_options(common);
    if (!f->describe.empty()) {
      std::cout << data::synth::describe_song_dir(f->describe);
      return kOk;
    }
    MUDIT_CHECK(!f->out.empty(), ConfigError, "--out DIR is required (or --describe SONG_DIR)");
    auto cfg = bind_config<data::synth::SynthConfig>(resolve_config(common), "synth");
    if (f->songs) cfg.songs = *f->songs;
    if (f->seconds) cfg.seconds = *f->seconds;
    if (f->sample_rate) cfg.sample_rate = *f->sample_rate;
    if (common.seed) cfg.seed = *common.seed;
    if (threads->count() > 0) cfg.threads = common.threads;
    if (f->no_vocals) cfg.vocals = false;
    cfg.validate();
    train::ProgressBar bar({"synth", cfg.songs});
    const auto stats =
        data::synth::synthesize_corpus(cfg, f->out, [&bar](int64_t done) { bar.update(done); });
    bar.finish();
    log::info("synth: ", stats.songs, " songs (", stats.audio_seconds, " s of audio) in ",
              stats.wall_seconds, " s on ", stats.threads, " threads: ", stats.songs_per_second(),
              " songs/s, ", stats.realtime_factor(), "x real time; manifest ", f->out,
              "/manifest.jsonl");
    return kOk;
  };
}

}  // namespace mudit::cli
