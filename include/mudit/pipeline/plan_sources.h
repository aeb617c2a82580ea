#pragma once

// Where a song's musical plan comes from (mudit/generation/plan.h), besides a request or a
// description (mudit/pipeline/generate.h):
//   labels  the synthetic corpus's exact beats, bars, chords and key (labels.json beside the
//           song's audio)
//   audio   analysis of the song itself, for songs without labels (MuChin, folder imports):
//           tempo and beat phase (estimate_beats), bars of the meter's beats with the downbeat
//           the low-frequency onsets point at, one chord per bar by chroma templates, the key
//           by Krumhansl–Schmuckler with Albrecht–Shanahan profiles
// `mudit prepare` stores the plan of every song with its latents; `mudit plan` prints one.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "mudit/generation/plan.h"

namespace mudit::pipeline {

/// The plan of audio [C, T] or [T] at `sample_rate` (source "audio" for every group). Songs
/// shorter than kMinPlanSeconds get no beats or chords, only a key.
generation::MusicalPlan plan_from_audio(const at::Tensor& audio, int64_t sample_rate,
                                        int beats_per_bar = 4);

/// Songs shorter than this get no beat grid from audio (too few beats to estimate a tempo).
constexpr double kMinPlanSeconds = 2.5;

/// The plan of a synthetic song from the labels.json beside its audio file (source "labels"),
/// or nullopt when there is none. Throws DataError for a labels.json that does not parse.
std::optional<generation::MusicalPlan> plan_from_labels_beside(const std::filesystem::path& audio);

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
  int64_t skipped = 0;  ///< songs without labels
};
PlanSourceScores score_plan_sources(const std::filesystem::path& manifest, const std::string& split,
                                    int64_t max_songs, const std::filesystem::path& codec = {},
                                    const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mudit::pipeline
