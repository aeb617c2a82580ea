#include "mudit/eval/plan_scores.h"

#include <cmath>

namespace mudit::eval {

using generation::MusicalPlan;
using generation::PlanChord;
using generation::PlanKey;

namespace {

// 1 major, -1 minor, 0 neither (sus, power chords, no chord).
int third(const PlanChord& c) {
  if (c.root < 0) return 0;
  const bool min3 = c.tones[static_cast<size_t>((c.root + 3) % 12)];
  const bool maj3 = c.tones[static_cast<size_t>((c.root + 4) % 12)];
  return maj3 ? 1 : min3 ? -1 : 0;
}

}  // namespace

double beat_f_measure(const std::vector<double>& reference, const std::vector<double>& estimate,
                      double tolerance) {
  if (reference.empty() || estimate.empty()) return 0.0;
  std::vector<bool> used(estimate.size(), false);
  int64_t hits = 0;
  for (double r : reference) {
    // The nearest unused estimate within the tolerance.
    int64_t best = -1;
    for (size_t j = 0; j < estimate.size(); ++j) {
      if (used[j] || std::abs(estimate[j] - r) > tolerance) continue;
      if (best < 0 || std::abs(estimate[j] - r) < std::abs(estimate[static_cast<size_t>(best)] - r))
        best = static_cast<int64_t>(j);
    }
    if (best >= 0) {
      used[static_cast<size_t>(best)] = true;
      ++hits;
    }
  }
  const double p = static_cast<double>(hits) / static_cast<double>(estimate.size());
  const double r = static_cast<double>(hits) / static_cast<double>(reference.size());
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double weighted_key_score(const PlanKey& ref, const PlanKey& est) {
  const int d = ((est.tonic - ref.tonic) % 12 + 12) % 12;
  if (ref.minor == est.minor) {
    if (d == 0) return 1.0;
    if (d == 7 || d == 5) return 0.5;  // a fifth above or below
    return 0.0;
  }
  // Relative: C major / A minor (the minor's tonic 3 semitones below the major's).
  if ((!ref.minor && d == 9) || (ref.minor && d == 3)) return 0.3;
  if (d == 0) return 0.2;  // parallel
  return 0.0;
}

PlanScores score_plan(const MusicalPlan& ref, const MusicalPlan& est) {
  PlanScores s;
  if (ref.has_beats()) {
    s.has_beats = true;
    s.beat_f = beat_f_measure(ref.beats, est.beats);
    s.tempo_8 = ref.bpm > 0 && est.bpm > 0 && std::abs(est.bpm / ref.bpm - 1.0) <= 0.08;
  }
  for (size_t i = 0; i < ref.chords.size(); ++i) {
    const double end = i + 1 < ref.chords.size() ? ref.chords[i + 1].start : ref.chords_end;
    const PlanChord& r = ref.chords[i];
    if (r.root < 0 || end <= r.start) continue;  // bars without a chord are not scored
    ++s.bars;
    const PlanChord* e = est.chord_at(0.5 * (r.start + end));
    if (!e || e->root != r.root) continue;
    const int t = third(r);
    if (t == 0 || third(*e) == t) ++s.bars_right;
  }
  s.has_key = ref.has_key;  // an estimate without a key scores 0
  if (ref.has_key && est.has_key) {
    s.key = ref.key.tonic == est.key.tonic && ref.key.minor == est.key.minor;
    s.key_weighted = weighted_key_score(ref.key, est.key);
  }
  return s;
}

void PlanScoreSummary::add(const PlanScores& s) {
  ++songs;
  if (s.has_beats) {
    ++beat_songs;
    beat_f += s.beat_f;
    tempo_8 += s.tempo_8 ? 1 : 0;
  }
  bars += s.bars;
  chord_bar_accuracy += static_cast<double>(s.bars_right);
  if (s.has_key) {
    ++key_songs;
    key += s.key ? 1 : 0;
    key_weighted += s.key_weighted;
  }
}

void PlanScoreSummary::finish() {
  if (beat_songs) {
    beat_f /= static_cast<double>(beat_songs);
    tempo_8 /= static_cast<double>(beat_songs);
  }
  if (bars) chord_bar_accuracy /= static_cast<double>(bars);
  if (key_songs) {
    key /= static_cast<double>(key_songs);
    key_weighted /= static_cast<double>(key_songs);
  }
}

std::map<std::string, double> PlanScoreSummary::to_map() const {
  return {{"songs", static_cast<double>(songs)},
          {"beat_songs", static_cast<double>(beat_songs)},
          {"beat_f", beat_f},
          {"tempo_within_8pct", tempo_8},
          {"bars", static_cast<double>(bars)},
          {"chord_bar_accuracy", chord_bar_accuracy},
          {"key_songs", static_cast<double>(key_songs)},
          {"key", key},
          {"key_weighted", key_weighted}};
}

}  // namespace mudit::eval
