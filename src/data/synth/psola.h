#pragma once
// Time-domain pitch-synchronous overlap-add (TD-PSOLA) for the sung vocal: one analysed
// syllable recording re-timed onto a note and re-pitched onto an arbitrary F0 curve.
//
// Output pitch marks are laid one target period apart; each takes the two-period Hann-windowed
// grain around the input pitch mark nearest to where the time map points, scaled by
// sqrt(P_out / P_in) so loudness stays put when grains overlap more or less. The grains keep
// the recording's spectral envelope, so formants stay where the speaker had them, and the
// output F0 is exactly the target curve: the spoken tone contour is flattened away (the tone's
// vowel colour and timing remain). Unvoiced stretches (consonants) are copied by plain
// overlap-add of 4 ms grains, which at a time ratio of 1 reproduces the input exactly.
#include <cstddef>
#include <vector>

#include "data/synth/pitch.h"

namespace mudit::data::synth::vocal {

/// A recording ready to sing from: trimmed samples at the output rate and their analysis.
struct SourceUnit {
  std::vector<float> samples;
  int sample_rate = 0;
  std::vector<Span> voiced;
  std::vector<PitchMark> marks;
  double median_f0 = 0;
  /// Samples [0, voiced_begin) are the onset consonant; [voiced_begin, voiced_end) the voiced
  /// body (equal to the whole unit when nothing is voiced).
  double voiced_begin = 0;
  double voiced_end = 0;
};

/// Trims leading and trailing silence (frames 40 dB under the loudest, keeping 5 ms), scales
/// the unit to a voiced RMS of -20 dBFS, and analyses it with F0 limits [fmin, fmax].
/// `vowel_body` is for Mandarin syllables, which end in their vowel or a voiced nasal: what
/// follows the last voiced frame by more than 30 ms (breath, creak) is cut off, and unvoiced
/// gaps inside the body (creaky stretches of a third tone) are sung from the nearest marks.
SourceUnit analyse_unit(std::vector<float> samples, int sample_rate, double fmin, double fmax,
                        bool vowel_body);

/// Whether a unit has enough clear pitch to sing from: 60 ms voiced and six pitch marks.
bool singable(const SourceUnit& unit);

/// Monotonic piecewise-linear map from output samples to input samples.
struct TimeMap {
  std::vector<double> out, in;  // knots, increasing
  double operator()(double t) const;
};

/// How a unit of `in_len` samples with its voiced body at [vb, ve) spreads over `out_len`
/// samples: the onset consonant keeps its speed (up to 35 % of the note), the first 50 ms and
/// last 80 ms of the voiced body keep theirs when the note is long enough, and the middle of the
/// vowel stretches; a note shorter than the unit compresses everything after the consonant.
TimeMap sung_time_map(double in_len, double vb, double ve, double out_len, int sample_rate);

/// Renders `unit` over f0.size() output samples following `map`, at F0 f0[t] (Hz) wherever the
/// mapped input position is voiced.
std::vector<float> psola(const SourceUnit& unit, const TimeMap& map, const std::vector<float>& f0);

}  // namespace mudit::data::synth::vocal
