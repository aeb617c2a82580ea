#pragma once

// How well one musical plan matches another: the estimators of the audio source against a
// synthetic song's labels, a generated song's analysed plan against the plan it was asked for,
// a codec round trip against the original. The usual MIR measures:
//   beats    F-measure at ±70 ms (each reference beat matched once), tempo within 8 %
//   chords   per bar: the estimated chord at the middle of every reference bar has the
//            reference's root and, where the reference is a major or minor triad (a third of 3
//            or 4 semitones), the same third
//   key      exact, and MIREX's weighted score (1 same, 0.5 a fifth away in the same mode, 0.3
//            relative, 0.2 parallel)

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mudit/audio/features.h"
#include "mudit/generation/plan.h"

namespace mudit::eval {

/// Beat F-measure of `estimate` against `reference` (seconds) at ±`tolerance`.
double beat_f_measure(const std::vector<double>& reference, const std::vector<double>& estimate,
                      double tolerance = 0.07);

/// MIREX's weighted key score of an estimate.
double weighted_key_score(const generation::PlanKey& reference,
                          const generation::PlanKey& estimate);

struct PlanScores {
  bool has_beats = false;  ///< the reference has beats and so the beat scores count
  double beat_f = 0;
  bool tempo_8 = false;
  int64_t bars = 0, bars_right = 0;  ///< reference bars scored, and with the right chord
  bool has_key = false;
  bool key = false;
  double key_weighted = 0;
};
PlanScores score_plan(const generation::MusicalPlan& reference,
                      const generation::MusicalPlan& estimate);

/// Means over songs (beats over songs with beats, chords over bars, key over songs with a key).
struct PlanScoreSummary {
  int64_t songs = 0, beat_songs = 0, bars = 0, key_songs = 0;
  double beat_f = 0, tempo_8 = 0, chord_bar_accuracy = 0, key = 0, key_weighted = 0;
  void add(const PlanScores& s);
  void finish();
  std::map<std::string, double> to_map() const;
};

/// The estimator: the plan of audio [C, T] or [T] at `sample_rate` (source "audio" for every
/// group): tempo and beat phase (estimate_beats) and a grid from them, bars of `beats_per_bar`
/// with the downbeat the low-frequency onsets point at, one chord per bar by chroma templates,
/// the key by Krumhansl–Schmuckler with Albrecht–Shanahan profiles. Songs
/// shorter than kMinPlanSeconds get no beats or chords, only a key.
generation::MusicalPlan plan_from_audio(const at::Tensor& audio, int64_t sample_rate,
                                        int beats_per_bar = 4);

/// The key of a log-mel spectrogram [n_mels, N] made by `cfg` (a mel VAE's input or output),
/// without a vocoder: the linear magnitude from the filterbank's pseudo-inverse (clamped at 0),
/// folded by chroma_filterbank() (220-1500 Hz: the mel's 1024-point frames do not resolve
/// semitones lower down), summed over time, Krumhansl–Schmuckler with
/// Albrecht–Shanahan profiles. Measures what key the mel itself still carries.
generation::PlanKey key_from_mel(const at::Tensor& log_mel, const MelConfig& cfg);

/// Songs shorter than this get no beat grid from audio (too few beats to estimate a tempo).
constexpr double kMinPlanSeconds = 2.5;

/// The plan of a synthetic song from the labels.json beside its audio file (source "labels"),
/// or nullopt when there is none. Throws DataError for a labels.json that does not parse.
std::optional<generation::MusicalPlan> plan_from_labels_beside(const std::filesystem::path& audio);

}  // namespace mudit::eval
