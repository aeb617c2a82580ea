#pragma once

// Where a song's musical plan comes from (mudit/generation/plan.h), besides a request or a
// description (mudit/pipeline/generate.h):
//   labels  the synthetic corpus's exact beats, bars, chords and key (labels.json beside the
//           song's audio: eval::plan_from_labels_beside)
//   audio   analysis of the song itself, for songs without labels (MuChin, folder imports):
//           eval::plan_from_audio, the same estimator that scores generated songs
//   head    tempo, meter and key from a description's embedding (mudit/generation/plan_head.h),
//           fitted and scored on labelled songs' descriptions here
// `mudit prepare` stores the plan of every song with its latents; `mudit plan` prints one.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mudit/eval/plan_scores.h"
#include "mudit/generation/plan.h"
#include "mudit/generation/plan_head.h"
#include "mudit/models/chinmu.h"

namespace mudit::pipeline {

/// How `mudit prepare` picks: "auto" (labels when beside the audio, else audio), "labels"
/// (refuses a song without), "audio", "none" (no plan field).
generation::MusicalPlan song_plan(const std::string& mode, const std::filesystem::path& audio_file,
                                  const at::Tensor& audio, int64_t sample_rate);

/// The audio source scored against the labels (mudit/eval/plan_scores.h) over the synthetic
/// songs of `manifest` (split "all" or one; at most `max_songs`, 0: all; songs without a
/// labels.json beside their audio are skipped and counted): `audio` is the estimators on the
/// songs themselves, `round_trip` (with a codec file, else empty) on the songs encoded and
/// decoded by it — the ceiling a generator through that codec can reach.
struct PlanSourceScores {
  std::map<std::string, double> audio, round_trip;
  /// With a mel VAE codec: the key read off the song's log-mel and off the mel the VAE decodes
  /// (eval::key_from_mel; no vocoder), as `key` / `key_weighted` / `key_songs`.
  std::map<std::string, double> mel, round_trip_mel;
  int64_t skipped = 0;  ///< songs without labels
};
PlanSourceScores score_plan_sources(const std::filesystem::path& manifest, const std::string& split,
                                    int64_t max_songs, const std::filesystem::path& codec = {},
                                    const std::function<void(int64_t, int64_t)>& progress = {});

/// Every description of the songs of a manifest whose `meta` has a tempo, meter and key (the
/// synthetic corpus's; others are skipped and counted), with its song's facts: what the plan
/// head is fitted and scored on.
struct DescribedSongs {
  std::vector<std::string> texts;
  std::vector<std::string> registers;        ///< "amateur" | "professional"
  std::vector<generation::PlanFacts> facts;  ///< the song's, one per description
  std::vector<int64_t> songs;                ///< the song's index in `ids`, one per description
  std::vector<std::string> ids;
  int64_t skipped = 0;  ///< songs without the facts in their meta
};
DescribedSongs read_described_songs(const std::filesystem::path& manifest, int64_t max_songs = 0);

/// How well descriptions give a song's tempo, meter and key, in one register, when the plan is
/// built as `mudit sample` builds it (request_plan: the facts a description states, then the
/// head's). Shares over the descriptions; the tempo is the felt beat (6/8: dotted quarters).
struct DescriptionPlanScores {
  int64_t descriptions = 0;
  double tempo = 0;         ///< felt tempo within 8 % (no tempo: wrong)
  int64_t class_items = 0;  ///< descriptions of songs whose felt tempo is < 90 or >= 120
  double tempo_class = 0;   ///< of those, fast (>= 105) / slow called right
  double key_weighted = 0;  ///< MIREX weighted key score (no key: 0)
  double key_exact = 0, mode = 0, meter = 0;
  double tempo_stated = 0;  ///< share whose tempo the description states
  double key_given = 0;     ///< share with a key at all (stated, or the head confident)
};
/// Scores per register ("amateur", "professional", "all"); `guesses` (one per description, or
/// empty: the text alone) are the head's.
std::map<std::string, DescriptionPlanScores> score_description_plans(
    const DescribedSongs& songs, const std::vector<generation::PlanFacts>& guesses = {});

}  // namespace mudit::pipeline
