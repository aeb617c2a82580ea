#pragma once

// Control accuracy: does a generated song have the tempo, key and mode its prompt asked for?
// The song is analysed (audio/analysis.h: onset-autocorrelation tempo, Krumhansl-Schmuckler
// key) and compared with the target labels of the song whose description made the prompt.

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mudit::eval {

/// What a prompt asked for (from a synthetic manifest's `meta`: bpm, meter, tonic, mode).
struct ControlTarget {
  double beat_bpm = 0;  ///< felt beats per minute: bpm, or bpm / 1.5 in 6/8 (dotted quarters)
  int tonic = -1;       ///< pitch class 0 (C) .. 11 (B); -1 when unknown
  std::string mode;     ///< "major", "minor", or another (pentatonic) mode name
  std::vector<std::string> families;  ///< instrument families of `meta.instruments`, sorted
  /// Reads a manifest entry's `meta` JSON; std::nullopt when it has no bpm.
  static std::optional<ControlTarget> from_meta(std::string_view meta_json);
};

/// The analysis of one song: tempo and the best key.
struct ControlEstimate {
  double bpm = 0;
  int tonic = 0;
  bool minor = false;
  /// Instrument families detected, and those the probe can judge (both empty without one).
  std::vector<std::string> instruments, judged;
  /// Analyses mono audio [T] at `sample_rate` (resampled to 22050 Hz first, as mudit analyze).
  static ControlEstimate analyse(const at::Tensor& mono, int64_t sample_rate);
};

/// Hits of one song (each false when the target does not say; see `has_key`).
struct ControlHits {
  bool tempo_4 = false;          ///< estimate within 4 % of the target beat tempo
  bool tempo_8 = false;          ///< within 8 %
  bool tempo_class = false;      ///< fast (target >= 120, estimate >= 105) or slow on both sides
  bool has_tempo_class = false;  ///< the target is fast (>= 120) or slow (< 90)
  bool has_key = false;          ///< the target is a major or minor key
  bool key = false;              ///< same tonic and mode
  bool relative_key = false;     ///< the relative key (C major / A minor)
  bool parallel_key = false;     ///< same tonic, other mode
  bool mode = false;             ///< same mode (any tonic)
  /// Instrument presence over the families the probe judges: of the target's families, how
  /// many and how many detected; of the others, how many and how many detected anyway.
  int64_t instrument_targets = 0, instrument_found = 0, instrument_others = 0, instrument_false = 0;
};
ControlHits control_hits(const ControlTarget& target, const ControlEstimate& estimate);

/// Shares of hits over a group of songs (keys over the songs with a major / minor target,
/// the tempo class over those with a fast or slow target).
struct ControlSummary {
  int64_t songs = 0, key_songs = 0, class_songs = 0;
  double tempo_4 = 0, tempo_8 = 0, tempo_class = 0, key = 0, relative_key = 0, parallel_key = 0,
         mode = 0;
  /// Instrument presence (when a probe judged): the share of the prompted families detected,
  /// the share of the others detected, and the share of right present/absent decisions.
  int64_t instrument_targets = 0, instrument_others = 0;
  double instrument_recall = 0, instrument_false_positive = 0, instrument_accuracy = 0;
  void add(const ControlHits& h);
  /// Turns the counts into shares; call once, after the last add().
  void finish();
  std::map<std::string, double> to_map() const;
};

/// Pitch class of a note name ("C", "F#", "Bb", "Eb"); -1 for anything else.
int pitch_class(std::string_view name);

}  // namespace mudit::eval
