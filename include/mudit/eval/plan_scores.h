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

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

}  // namespace mudit::eval
