#pragma once

// Description + lyrics -> song, and the bundle it runs from. A bundle is a folder:
//   pipeline.yaml        {codec: codec.safetensors, chinmu: chinmu.safetensors,
//                         generator: generator.safetensors, phonemes: phonemes.txt,
//                         plan_head: plan_head.safetensors (or "")}
//   codec.safetensors    a codec file with latent statistics (mudit convert codec)
//   chinmu.safetensors   ChinMu (embeds the description)
//   generator.safetensors a generator model file (task `generator`)
//   phonemes.txt         the phoneme vocabulary the generator was trained with
//   plan_head.safetensors optional: tempo, meter and key from the description's embedding
//                         (mudit fit-plan-head), for descriptions that state none
// `mudit bundle` assembles one; `mudit sample` generates from it.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "mudit/generation/plan.h"
#include "mudit/generation/plan_head.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/codec.h"
#include "mudit/models/generator.h"
#include "mudit/text/g2p.h"

namespace mudit::pipeline {

/// One song to generate: a line of `mudit sample --input` (JSON; every key but `description`
/// optional).
struct SongRequest {
  std::string id;           ///< output name; default: the line number
  std::string description;  ///< amateur or professional, Chinese or English
  /// An audio file whose ChinMu audio embedding is the condition in place of the description
  /// ("a song like this one"; what a stage-2 generator was trained on). Exclusive with
  /// `description`.
  std::string style;
  std::string lyrics;    ///< structure-tagged lyrics ("" : instrumental / none)
  double duration = 30;  ///< seconds
  uint64_t seed = 0;
  int64_t steps = 0;       ///< 0: the sampler's default (50; dopri5 adapts)
  std::string sampler;     ///< euler | heun | dopri5 | sde-euler | sde-heun (MuSiT); ddim | ddpm
                           ///< (MuDiT); "": heun / ddim
  double cfg = 3.0;        ///< description guidance scale
  double lyric_cfg = 3.0;  ///< lyric guidance scale (independent of cfg)
  double plan_cfg = 3.0;   ///< musical plan guidance scale (independent of cfg)
  double cfg_rescale = 0;
  // The musical plan (mudit/generation/plan.h). Each group comes from the request when given,
  // else from an edit's reference audio, else from what the description states
  // (parse_plan_hints), else from the bundle's plan head, else it is left to the model.
  double bpm = 0;                   ///< quarter-note BPM, 30-300 (6/8: the eighths' quarter)
  std::string key;                  ///< "A minor", "Bb major", "降B大调", "F#m"
  std::string meter;                ///< "4/4", "3/4", "6/8", ... (default 4/4 with a tempo)
  std::vector<std::string> chords;  ///< one symbol per bar ("Am", "F", "N"), cycled; needs a tempo
  std::string plan;                 ///< a plan file (mudit plan --out); excludes the four above
  /// Editing: "" | "repaint" (regenerate [edit_start, edit_end) of `reference`, keep the rest)
  /// | "extend" (continue `reference` to `duration`) | "audio2audio" (start from `reference`
  /// noised to `strength`).
  std::string edit;
  std::string reference;  ///< audio file
  double edit_start = 0, edit_end = 0;
  double strength = 0.6;

  /// Parses and checks one JSON line (DataError naming `where` and the field on a bad one: a
  /// tempo outside 30-300, an unknown key, meter or chord symbol, a plan file that does not
  /// read).
  static SongRequest from_json(const std::string& line, const std::string& where);
  std::string to_json() const;
};

/// The musical plan of a request for a song of `duration` seconds. Per fact, the first that
/// gives it: the request's fields or plan file (source "request"), an edit's `reference` plan
/// (its beats continued at its tempo, its chords and key: "reference"), what the description
/// states ("description"), what the plan head read from the description's embedding (`guess`:
/// "head"). Groups nobody gives are absent. `latent_rate` > 0 checks a plan file's rate
/// (DataError).
generation::MusicalPlan request_plan(const SongRequest& request, double duration,
                                     double latent_rate = 0,
                                     const generation::PlanFacts* guess = nullptr,
                                     const generation::MusicalPlan* reference = nullptr);

struct Bundle {
  std::filesystem::path dir;
  Codec codec{nullptr};
  ChinMu chinmu{nullptr};
  Generator generator;
  generation::PlanHead plan_head{nullptr};  ///< optional (plan_head.safetensors)
  text::PhonemeVocab vocab;
  text::G2P g2p;
};

/// Loads a bundle folder (IoError / CheckpointError naming the missing or wrong piece; a codec
/// without statistics or a ChinMu whose space differs from the generator's condition is a
/// ConfigError).
Bundle load_bundle(const std::filesystem::path& dir, c10::Device device = c10::kCPU);

/// Copies the pieces into `out` and writes pipeline.yaml last. Refuses an existing bundle.
void make_bundle(const std::filesystem::path& codec, const std::filesystem::path& chinmu,
                 const std::filesystem::path& generator, const std::filesystem::path& out,
                 const std::filesystem::path& plan_head = {});

struct Song {
  at::Tensor audio;    ///< [C, T] at the codec's rate
  at::Tensor latents;  ///< [T', D], denormalised
  int64_t frames = 0;
  int64_t evaluations = 0;       ///< network rows evaluated (branches x steps)
  std::string sampler;           ///< the sampler used (the request's or the default)
  int64_t steps = 0;             ///< grid steps used (dopri5: adaptive, reported as requested)
  generation::MusicalPlan plan;  ///< the plan the song was generated from (with its sources)
};

/// Checks what needs the bundle (a plan file's latent rate against the codec's) for every
/// request before anything is generated; DataError naming `where`.
void check_request(const Bundle& bundle, const SongRequest& request, const std::string& where);

/// Generates one song. The same request and bundle give the same song.
Song generate(Bundle& bundle, const SongRequest& request);

}  // namespace mudit::pipeline
