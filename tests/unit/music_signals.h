// Synthesised test music with known tempo and key: click tracks, drum patterns, chord
// progressions and scales built from harmonic tones (float64, deterministic).
#pragma once

#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace mudit::test {

constexpr double kTwoPi = 6.28318530717958647692;

inline double midi_to_hz(double midi) {
  return 440.0 * std::pow(2.0, (midi - 69.0) / 12.0);
}

/// Adds `burst` [L] into `out` [T] starting at sample `at` (clipped at the end).
inline void add_at(torch::Tensor& out, const torch::Tensor& burst, int64_t at) {
  const int64_t n = std::min(burst.size(0), out.size(0) - at);
  if (n > 0 && at >= 0) out.narrow(0, at, n).add_(burst.narrow(0, 0, n));
}

/// A tone with `harmonics` partials of amplitude 1/h and an attack/decay envelope: [L].
inline torch::Tensor harmonic_tone(double hz, double seconds, double sr, int harmonics = 6,
                                   double decay = 1.5) {
  const int64_t len = static_cast<int64_t>(seconds * sr);
  const torch::Tensor t = torch::arange(len, torch::kFloat64) / sr;  // [L]
  torch::Tensor tone = torch::zeros({len}, torch::kFloat64);
  for (int h = 1; h <= harmonics; ++h) {
    if (h * hz >= sr / 2) break;
    tone += torch::sin(kTwoPi * h * hz * t) / h;
  }
  const torch::Tensor attack = torch::clamp_max(t / 0.01, 1.0);
  const torch::Tensor release = torch::clamp_max((seconds - t) / 0.02, 1.0);
  return tone * attack * release * torch::exp(-t / decay);  // [L]
}

/// A click track: a 20 ms decaying 1.5 kHz click on every beat, the first of each bar of
/// `meter` beats twice as loud: [T].
inline torch::Tensor click_track(double bpm, double seconds, double sr, int meter = 4) {
  const int64_t len = static_cast<int64_t>(seconds * sr);
  torch::Tensor out = torch::zeros({len}, torch::kFloat64);
  const torch::Tensor t = torch::arange(static_cast<int64_t>(0.02 * sr), torch::kFloat64) / sr;
  const torch::Tensor click = torch::sin(kTwoPi * 1500.0 * t) * torch::exp(-t / 0.004);
  const double beat = 60.0 / bpm;
  for (int64_t i = 0; i * beat + 0.1 < seconds; ++i) {
    add_at(out, click * (i % meter == 0 ? 0.8 : 0.4),
           static_cast<int64_t>(std::llround((0.1 + i * beat) * sr)));
  }
  return out;
}

/// A band-like track: kick on beats 1 and 3, snare on 2 and 4, soft hi-hats on every eighth,
/// a bass note and a sustained triad per bar (I-vi-IV-V in C major). Seeded noise: [T].
inline torch::Tensor drum_chord_track(double bpm, double seconds, double sr, uint64_t seed = 3) {
  torch::manual_seed(seed);
  const int64_t len = static_cast<int64_t>(seconds * sr);
  torch::Tensor out = torch::zeros({len}, torch::kFloat64);
  const double beat = 60.0 / bpm;
  const torch::Tensor tk = torch::arange(static_cast<int64_t>(0.25 * sr), torch::kFloat64) / sr;
  // Kick: a sine falling from 120 to 50 Hz.
  const torch::Tensor kick_phase =
      kTwoPi * (50.0 * tk + 70.0 * 0.03 * (1 - torch::exp(-tk / 0.03)));
  const torch::Tensor kick = 0.9 * torch::sin(kick_phase) * torch::exp(-tk / 0.12);
  const torch::Tensor ts = torch::arange(static_cast<int64_t>(0.15 * sr), torch::kFloat64) / sr;
  const torch::Tensor snare =
      0.35 * torch::randn({ts.size(0)}, torch::kFloat64) * torch::exp(-ts / 0.05);
  const torch::Tensor th = torch::arange(static_cast<int64_t>(0.05 * sr), torch::kFloat64) / sr;
  torch::Tensor hat = torch::randn({th.size(0) + 1}, torch::kFloat64);
  hat = 0.12 * (hat.slice(0, 1) - hat.slice(0, 0, -1)) * torch::exp(-th / 0.01);
  const std::vector<std::vector<int>> chords = {
      {60, 64, 67}, {57, 60, 64}, {53, 57, 60}, {55, 59, 62}};
  const double start = 0.1;
  for (int64_t i = 0; i * beat + start < seconds; ++i) {
    const int64_t at = std::llround((start + i * beat) * sr);
    add_at(out, (i % 2 == 0) ? kick : snare, at);
    add_at(out, hat, at);
    add_at(out, 0.5 * hat, std::llround((start + (i + 0.5) * beat) * sr));
    if (i % 4 == 0) {
      const auto& chord = chords[static_cast<size_t>((i / 4) % 4)];
      for (int note : chord) add_at(out, 0.06 * harmonic_tone(midi_to_hz(note), 4 * beat, sr), at);
      add_at(out, 0.15 * harmonic_tone(midi_to_hz(chord[0] - 24), 4 * beat, sr, 4), at);
    }
  }
  return out;
}

/// Music in a key: a chord progression (I-IV-V-I in major, i-iv-V-i in harmonic minor, one
/// chord a bar, root-position triads around MIDI 55-70 plus a bass note) under a melody walking
/// the scale (natural minor for minor keys) in eighth notes: [T].
inline torch::Tensor key_track(int tonic, bool minor, double seconds, double sr,
                               double bpm = 100.0) {
  const int64_t len = static_cast<int64_t>(seconds * sr);
  torch::Tensor out = torch::zeros({len}, torch::kFloat64);
  const double beat = 60.0 / bpm;
  const std::vector<int> major_scale = {0, 2, 4, 5, 7, 9, 11, 12};
  const std::vector<int> minor_scale = {0, 2, 3, 5, 7, 8, 10, 12};
  const std::vector<int>& scale = minor ? minor_scale : major_scale;
  // Triads as semitone offsets from the tonic: I/i, IV/iv, V (major in both modes), I/i.
  const std::vector<std::vector<int>> chords =
      minor ? std::vector<std::vector<int>>{{0, 3, 7}, {5, 8, 12}, {7, 11, 14}, {0, 3, 7}}
            : std::vector<std::vector<int>>{{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {0, 4, 7}};
  const int base = 55 + ((tonic - 55 % 12) % 12 + 12) % 12;  // the tonic's MIDI note in 55..66
  int64_t bar = 0;
  for (double t0 = 0.0; t0 < seconds; t0 += 4 * beat, ++bar) {
    const auto& chord = chords[static_cast<size_t>(bar % 4)];
    const int64_t at = std::llround(t0 * sr);
    for (int off : chord)
      add_at(out, 0.08 * harmonic_tone(midi_to_hz(base + off), 4 * beat, sr), at);
    add_at(out, 0.12 * harmonic_tone(midi_to_hz(base + chord[0] - 12), 4 * beat, sr, 4), at);
    for (int e = 0; e < 8; ++e) {
      const int degree = (bar % 2 == 0) ? e : 7 - e;  // up, then down the scale
      const int64_t when = std::llround((t0 + e * beat / 2) * sr);
      add_at(out,
             0.1 * harmonic_tone(midi_to_hz(base + 12 + scale[static_cast<size_t>(degree)]),
                                 beat / 2, sr, 5, 0.5),
             when);
    }
  }
  return out;
}

}  // namespace mudit::test
