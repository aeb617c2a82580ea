#pragma once
// Pitch analysis of one recorded syllable for the sung vocal: a YIN fundamental-frequency track,
// the voiced runs, and pitch marks (one per glottal period) for PSOLA (psola.h).
#include <cstddef>
#include <vector>

namespace mudit::data::synth::vocal {

struct F0Track {
  int sample_rate = 0;
  size_t hop = 0;         // samples between frames
  size_t window = 0;      // samples per frame; frame i covers [i*hop, i*hop + window)
  std::vector<float> f0;  // Hz per frame; 0 where unvoiced
  /// Centre of frame i in samples.
  double centre(size_t i) const { return double(i * hop) + 0.5 * double(window); }
  /// F0 at sample position t, interpolated between voiced frames (0 when unvoiced there).
  double at(double t) const;
  /// Median of the voiced frames (0 when none).
  double median() const;
};

/// YIN (de Cheveigné & Kawahara 2002): cumulative-mean-normalised difference, absolute
/// threshold 0.15, parabolic refinement. Frames quieter than 35 dB under the loudest are
/// unvoiced. Octave jumps against the track's median are folded back and isolated voiced frames
/// dropped, which suits one short syllable from one speaker.
F0Track estimate_f0(const float* x, size_t n, int sample_rate, double fmin, double fmax,
                    double hop_seconds = 0.005);

/// A pitch mark: a sample position at the same phase of each glottal cycle, and the local
/// period in samples.
struct PitchMark {
  double pos = 0;
  double period = 0;
};

/// A voiced stretch [begin, end) in samples.
struct Span {
  double begin = 0;
  double end = 0;
};

/// Voiced spans of a track (in samples), merging runs of voiced frames.
std::vector<Span> voiced_spans(const F0Track& track, size_t n);

/// Pitch marks over the voiced spans, on the peaks of the band-passed fundamental: the first at
/// the highest peak of the first period, each next one period on, refined to the highest peak
/// within ±25 % of a period.
std::vector<PitchMark> pitch_marks(const float* x, size_t n, const F0Track& track,
                                   const std::vector<Span>& voiced);

}  // namespace mudit::data::synth::vocal
