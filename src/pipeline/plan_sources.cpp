#include "mudit/pipeline/plan_sources.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "mudit/audio/analysis.h"
#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/data/manifest.h"
#include "mudit/data/synth.h"
#include "mudit/eval/plan_scores.h"
#include "mudit/models/model_files.h"

namespace mudit::pipeline {

namespace fs = std::filesystem;
using generation::MusicalPlan;

MusicalPlan plan_from_audio(const at::Tensor& audio, int64_t sample_rate, int beats_per_bar) {
  MUDIT_CHECK(audio.dim() == 1 || audio.dim() == 2, ShapeError,
              "plan: expected audio [C, T] or [T], got ", audio.sizes());
  const at::Tensor mono = (audio.dim() == 2 ? audio.mean(0) : audio).to(at::kFloat).cpu();  // [T]
  MusicalPlan p;
  p.duration = static_cast<double>(mono.size(0)) / static_cast<double>(sample_rate);
  if (p.duration >= kMinPlanSeconds) {
    const BeatEstimate beat = estimate_beats(mono, sample_rate)[0];
    generation::set_beat_grid(p, beat.bpm, beats_per_bar, beat.first_beat);
    p.first_downbeat = estimate_downbeat_offset(mono, sample_rate, p.beats, beats_per_bar);
    // One chord per bar, bars from the first downbeat (the beats before it: one more span).
    std::vector<double> bounds;
    if (p.first_downbeat > 0) bounds.push_back(p.beats.front());
    for (size_t k = static_cast<size_t>(p.first_downbeat); k < p.beats.size();
         k += static_cast<size_t>(beats_per_bar))
      bounds.push_back(p.beats[k]);
    bounds.push_back(p.duration);
    const std::vector<ChordEstimate> chords = estimate_chords(mono, sample_rate, bounds);
    for (size_t i = 0; i < chords.size(); ++i) {
      generation::PlanChord c;
      c.root = chords[i].root;
      if (c.root >= 0)
        for (int iv : {0, chords[i].minor ? 3 : 4, 7})
          c.tones[static_cast<size_t>((c.root + iv) % 12)] = true;
      c.symbol = generation::chord_symbol(c);
      c.start = bounds[i];
      p.chords.push_back(c);
    }
    p.chords_end = p.duration;
    p.meter = beats_per_bar == 4 ? "4/4" : beats_per_bar == 3 ? "3/4" : "";
    p.source[0] = p.source[1] = "audio";
  }
  const KeyEstimate key = estimate_key(mono, sample_rate)[0];
  p.has_key = true;
  p.key = {key.tonic, key.minor};
  p.source[2] = "audio";
  return p;
}

std::optional<MusicalPlan> plan_from_labels_beside(const fs::path& audio) {
  const fs::path labels = audio.parent_path() / "labels.json";
  if (!fs::exists(labels)) return std::nullopt;
  return with_context("reading '" + labels.string() + "'", [&] {
    return data::synth::song_plan(data::synth::labels_from_json(read_file(labels)));
  });
}

MusicalPlan song_plan(const std::string& mode, const fs::path& audio_file, const at::Tensor& audio,
                      int64_t sample_rate) {
  MUDIT_CHECK(mode == "auto" || mode == "labels" || mode == "audio", ConfigError,
              "plan source must be auto, labels, audio or none, got '", mode, "'");
  if (mode != "audio") {
    if (auto p = plan_from_labels_beside(audio_file)) return *p;
    MUDIT_CHECK(
        mode == "auto", DataError, audio_file.string(),
        ": no labels.json beside it (plan source 'labels'); use --plan-source auto or audio");
  }
  return plan_from_audio(audio, sample_rate);
}

PlanSourceScores score_plan_sources(const fs::path& manifest, const std::string& split,
                                    int64_t max_songs, const fs::path& codec_file,
                                    const std::function<void(int64_t, int64_t)>& progress) {
  torch::NoGradGuard no_grad;
  Codec codec{nullptr};
  if (!codec_file.empty()) {
    codec = load_codec(resolve_model_file(codec_file));
    codec->eval();
  }
  std::vector<data::ManifestEntry> songs;
  for (auto& e : data::read_manifest(manifest))
    if (split == "all" || e.split == split) songs.push_back(std::move(e));
  if (max_songs > 0 && static_cast<int64_t>(songs.size()) > max_songs)
    songs.resize(static_cast<size_t>(max_songs));
  MUDIT_CHECK(!songs.empty(), DataError, manifest.string(), ": no songs in split '", split, "'");
  PlanSourceScores out;
  eval::PlanScoreSummary audio, round_trip;
  int64_t done = 0;
  for (const auto& e : songs) {
    const fs::path file = data::resolve_audio(e, manifest);
    const auto reference = plan_from_labels_beside(file);
    if (!reference) {
      ++out.skipped;
    } else {
      audio::AudioReadOptions ro;
      if (codec) {
        ro.sample_rate = static_cast<int>(codec->sample_rate());
        ro.channels = static_cast<int>(codec->channels());
      }
      const audio::Audio a = audio::read_audio(file, ro);
      audio.add(eval::score_plan(*reference, plan_from_audio(a.samples, a.sample_rate)));
      if (codec) {
        const at::Tensor z = encode_chunked(*codec, a.samples);  // [T', D]
        at::Tensor back = decode_chunked(*codec, z);             // [C, T'']
        back = back.narrow(-1, 0, std::min(back.size(-1), a.samples.size(-1)));
        round_trip.add(eval::score_plan(*reference, plan_from_audio(back, a.sample_rate)));
      }
    }
    if (progress) progress(++done, static_cast<int64_t>(songs.size()));
  }
  audio.finish();
  out.audio = audio.to_map();
  if (codec) {
    round_trip.finish();
    out.round_trip = round_trip.to_map();
  }
  return out;
}

}  // namespace mudit::pipeline
