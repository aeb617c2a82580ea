#include "mudit/eval/plan_scores.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "mudit/audio/analysis.h"
#include "mudit/audio/griffin_lim.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/data/synth.h"

namespace mudit::eval {

namespace fs = std::filesystem;
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

PlanKey key_from_mel(const at::Tensor& log_mel, const MelConfig& cfg) {
  MUDIT_CHECK(log_mel.dim() == 2 && log_mel.size(0) == cfg.n_mels, ShapeError,
              "key from mel: want [", cfg.n_mels, ", N], got ", log_mel.sizes());
  const at::Tensor magnitude = mel_to_magnitude(log_mel.to(at::kDouble).cpu(), cfg);  // [F, N]
  // A 1024-point frame at 24 kHz (23 Hz bins) cannot tell semitones apart below about 400 Hz:
  // the fold starts at A3 (220 Hz), where a bin is under two semitones wide.
  ChromaConfig cc;
  cc.f_min = 220.0;
  const at::Tensor folded =
      at::matmul(chroma_filterbank(cfg.sample_rate, cfg.n_fft, cc, at::kDouble), magnitude);
  const at::Tensor corr = key_correlations(folded.sum(1), KeyProfile::kAlbrechtShanahan);  // [24]
  const int64_t best = corr.argmax().item<int64_t>();
  return {static_cast<int>(best % 12), best >= 12};
}

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

std::optional<MusicalPlan> plan_from_labels_beside(const std::filesystem::path& audio) {
  const fs::path labels = audio.parent_path() / "labels.json";
  if (!fs::exists(labels)) return std::nullopt;
  return with_context("reading '" + labels.string() + "'", [&] {
    return data::synth::song_plan(data::synth::labels_from_json(read_file(labels)));
  });
}

}  // namespace mudit::eval
