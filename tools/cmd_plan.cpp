// mudit plan: a musical plan (mudit/generation/plan.h) from a description, a request line, an
// audio file or a synthetic song's labels; printed readably, written as a plan file.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/codec_options.h"
#include "commands.h"
#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/data/synth.h"
#include "mudit/generation/plan_file.h"
#include "mudit/pipeline/generate.h"
#include "mudit/pipeline/plan_sources.h"
#include "mudit/train/progress.h"

namespace mudit::cli {

Runner setup_plan(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string description, request, audio, labels, out, score, split = "all", codec;
    double duration = 30, latent_rate = 0;
    int64_t max_songs = 0;
  };
  auto f = std::make_shared<Flags>();
  auto* src = app.add_option_group("source", "where the plan comes from (exactly one)");
  src->add_option("--description", f->description,
                  "the facts a description states: tempo, meter, key")
      ->type_name("TEXT");
  src->add_option("--request", f->request,
                  "a mudit sample line: bpm, key, meter, chords, plan, description")
      ->type_name("JSON");
  src->add_option("--audio", f->audio, "analyse an audio file: beats, bars, chords, key")
      ->type_name("FILE");
  src->add_option("--labels", f->labels, "a synthetic song's labels.json: its exact plan")
      ->type_name("FILE");
  src->add_option("--score", f->score,
                  "score the audio source against the labels of a synthetic manifest's songs "
                  "(beat F, tempo, chord per bar, key; with --codec also their round trip)")
      ->type_name("MANIFEST");
  src->require_option(1);
  app.add_option("--split", f->split, "--score: the manifest split (default all)");
  app.add_option("--max-songs", f->max_songs, "--score: at most this many songs (0: all)");
  app.add_option("--codec", f->codec, "--score: also score songs through this codec")
      ->type_name("PATH");
  app.add_option("--duration", f->duration, "seconds, for a description or request (default 30)");
  app.add_option("--latent-rate", f->latent_rate,
                 "the codec's latent frames per second the plan is for (default: any)");
  app.add_option("--out", f->out, "write the plan file (JSON) here")->type_name("FILE");
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    MUDIT_CHECK(f->duration > 0 && f->duration <= 3600, DataError,
                "--duration must be in (0, 3600] seconds");
    if (!f->score.empty()) {
      MUDIT_CHECK(f->max_songs >= 0, DataError, "--max-songs must be >= 0");
      std::unique_ptr<train::ProgressBar> bar;
      const auto s = pipeline::score_plan_sources(f->score, f->split, f->max_songs, f->codec,
                                                  chunk_progress(bar, "plan"));
      bar.reset();
      nlohmann::ordered_json j;
      j["audio"] = s.audio;
      if (!s.round_trip.empty()) j["round_trip"] = s.round_trip;
      if (!s.mel.empty()) j["mel_key"] = s.mel;
      if (!s.round_trip_mel.empty()) j["round_trip_mel_key"] = s.round_trip_mel;
      j["skipped_without_labels"] = s.skipped;
      std::cout << j.dump(1) << "\n";
      return kOk;
    }
    generation::MusicalPlan plan;
    if (!f->description.empty() || !f->request.empty()) {
      pipeline::SongRequest r;
      if (!f->request.empty()) {
        r = pipeline::SongRequest::from_json(f->request, "--request");
      } else {
        r.description = f->description;
        r = pipeline::SongRequest::from_json(r.to_json(), "--description");
      }
      plan =
          pipeline::request_plan(r, f->request.empty() ? f->duration : r.duration, f->latent_rate);
    } else if (!f->audio.empty()) {
      const audio::Audio a = audio::read_audio(f->audio, {});
      MUDIT_CHECK(a.frames() > 0, DataError, f->audio, ": no samples");
      plan = eval::plan_from_audio(a.samples, a.sample_rate);
    } else {
      plan = with_context(f->labels, [&] {
        return data::synth::song_plan(data::synth::labels_from_json(read_file(f->labels)));
      });
    }
    std::cout << generation::describe_plan(plan);
    if (!f->out.empty()) {
      write_file_atomic(f->out, generation::plan_to_json(plan, f->latent_rate) + "\n");
      log::info("plan -> ", f->out);
    }
    return kOk;
  };
}

}  // namespace mudit::cli
