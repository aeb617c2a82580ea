#include "mudit/pipeline/plan_sources.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mudit/audio/analysis.h"
#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/data/manifest.h"
#include "mudit/data/synth.h"
#include "mudit/eval/plan_scores.h"
#include "mudit/generation/plan_text.h"
#include "mudit/models/mel_vae.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/generate.h"

namespace mudit::pipeline {

namespace fs = std::filesystem;
using generation::MusicalPlan;

MusicalPlan song_plan(const std::string& mode, const fs::path& audio_file, const at::Tensor& audio,
                      int64_t sample_rate) {
  MUDIT_CHECK(mode == "auto" || mode == "labels" || mode == "audio", ConfigError,
              "plan source must be auto, labels, audio or none, got '", mode, "'");
  if (mode != "audio") {
    if (auto p = eval::plan_from_labels_beside(audio_file)) return *p;
    MUDIT_CHECK(
        mode == "auto", DataError, audio_file.string(),
        ": no labels.json beside it (plan source 'labels'); use --plan-source auto or audio");
  }
  return eval::plan_from_audio(audio, sample_rate);
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
  eval::PlanScoreSummary audio, round_trip, mel, round_trip_mel;
  MelVAE mel_vae{nullptr};
  if (codec && codec->kind() == "mel_vae")
    mel_vae = std::dynamic_pointer_cast<MelVAECodecImpl>(codec.ptr())->vae();
  int64_t done = 0;
  for (const auto& e : songs) {
    const fs::path file = data::resolve_audio(e, manifest);
    const auto reference = eval::plan_from_labels_beside(file);
    if (!reference) {
      ++out.skipped;
    } else {
      audio::AudioReadOptions ro;
      if (codec) {
        ro.sample_rate = static_cast<int>(codec->sample_rate());
        ro.channels = static_cast<int>(codec->channels());
      }
      const audio::Audio a = audio::read_audio(file, ro);
      audio.add(eval::score_plan(*reference, eval::plan_from_audio(a.samples, a.sample_rate)));
      if (codec) {
        const at::Tensor z = encode_chunked(*codec, a.samples);  // [T', D]
        at::Tensor back = decode_chunked(*codec, z);             // [C, T'']
        back = back.narrow(-1, 0, std::min(back.size(-1), a.samples.size(-1)));
        round_trip.add(eval::score_plan(*reference, eval::plan_from_audio(back, a.sample_rate)));
        if (mel_vae) {
          // The key without the vocoder: on the song's mel and on the mel the VAE decodes.
          const MelConfig& mc = mel_vae->config().mel;
          const int64_t whole = a.samples.size(-1) / mc.hop_length * mc.hop_length;
          const at::Tensor logmel =
              mel_vae->mel_frames(a.samples.mean(0, true).narrow(-1, 0, whole))[0];  // [M, N]
          const at::Tensor decoded = mel_vae->decode(z.unsqueeze(0))[0];             // [M, N']
          generation::MusicalPlan key_only = *reference, est;
          key_only.beats.clear();
          key_only.chords.clear();
          est.has_key = true;
          est.key = eval::key_from_mel(logmel, mc);
          mel.add(eval::score_plan(key_only, est));
          est.key = eval::key_from_mel(decoded, mc);
          round_trip_mel.add(eval::score_plan(key_only, est));
        }
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
  if (mel_vae) {
    for (auto* m : {&mel, &round_trip_mel}) m->finish();
    for (const char* k : {"key", "key_weighted", "key_songs"}) {
      out.mel[k] = mel.to_map().at(k);
      out.round_trip_mel[k] = round_trip_mel.to_map().at(k);
    }
  }
  return out;
}

DescribedSongs read_described_songs(const fs::path& manifest, int64_t max_songs) {
  DescribedSongs out;
  for (const data::ManifestEntry& e : data::read_manifest(manifest)) {
    if (max_songs > 0 && static_cast<int64_t>(out.ids.size()) >= max_songs) break;
    const auto meta = nlohmann::json::parse(e.meta, nullptr, false);
    const bool labelled = meta.is_object() && meta.contains("bpm") && meta["bpm"].is_number() &&
                          meta.contains("meter") && meta["meter"].is_string() &&
                          meta.contains("key") && meta["key"].is_string();
    if (!labelled || (e.amateur.empty() && e.professional.empty())) {
      ++out.skipped;
      continue;
    }
    generation::PlanFacts f;
    with_context(manifest.string() + ": " + e.id + ": meta", [&] {
      f.bpm = meta["bpm"].get<double>();
      f.meter = meta["meter"].get<std::string>();
      generation::beats_per_bar(f.meter);  // DataError for a meter the plan cannot hold
      f.key = generation::parse_key(meta["key"].get<std::string>());
    });
    f.has_key = true;
    f.key_probability = 1;
    const auto song = static_cast<int64_t>(out.ids.size());
    out.ids.push_back(e.id);
    for (const auto& [reg, list] :
         {std::pair{"amateur", &e.amateur}, std::pair{"professional", &e.professional}}) {
      for (const data::Description& d : *list) {
        out.texts.push_back(d.text);
        out.registers.emplace_back(reg);
        out.facts.push_back(f);
        out.songs.push_back(song);
      }
    }
  }
  MUDIT_CHECK(!out.texts.empty(), DataError, manifest.string(),
              ": no described song has a tempo, meter and key in its meta");
  return out;
}

std::map<std::string, DescriptionPlanScores> score_description_plans(
    const DescribedSongs& songs, const std::vector<generation::PlanFacts>& guesses) {
  MUDIT_CHECK(guesses.empty() || guesses.size() == songs.texts.size(), ShapeError,
              "plan scores: ", guesses.size(), " guesses for ", songs.texts.size(),
              " descriptions");
  std::map<std::string, DescriptionPlanScores> out;
  for (size_t i = 0; i < songs.texts.size(); ++i) {
    SongRequest r;
    r.description = songs.texts[i];
    const generation::PlanFacts& truth = songs.facts[i];
    const double duration = 10;  // a grid's tempo and meter do not depend on it
    const MusicalPlan p = request_plan(r, duration, 0, guesses.empty() ? nullptr : &guesses[i]);
    const double felt = generation::felt_bpm(truth.bpm, truth.meter);
    const bool has_tempo = p.has_beats();
    const bool stated = !p.source[0].empty() && p.source[0] != "head";
    for (const std::string& reg : {songs.registers[i], std::string("all")}) {
      DescriptionPlanScores& s = out[reg];
      ++s.descriptions;
      s.tempo += has_tempo && std::abs(p.bpm - felt) <= 0.08 * felt;
      if (felt < 90 || felt >= 120) {
        ++s.class_items;
        s.tempo_class += has_tempo && ((p.bpm >= 105) == (felt >= 120));
      }
      s.meter += has_tempo && p.meter == truth.meter;
      s.tempo_stated += stated;
      if (p.has_key) {
        s.key_given += 1;
        s.key_weighted += eval::weighted_key_score(truth.key, p.key);
        s.key_exact += p.key.tonic == truth.key.tonic && p.key.minor == truth.key.minor;
        s.mode += p.key.minor == truth.key.minor;
      }
    }
  }
  for (auto& [reg, s] : out) {
    const auto n = static_cast<double>(s.descriptions);
    for (double* v : {&s.tempo, &s.key_weighted, &s.key_exact, &s.mode, &s.meter, &s.tempo_stated,
                      &s.key_given})
      *v /= n;
    if (s.class_items > 0) s.tempo_class /= static_cast<double>(s.class_items);
  }
  return out;
}

}  // namespace mudit::pipeline
