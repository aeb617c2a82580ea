#pragma once
// The built-in singer used when no recording is available (gcin-voice or espeak-ng absent, a
// syllable missing, config.voice_dir pointing nowhere): a source-filter voice. A band-limited
// glottal source (harmonics of F0 with a -12 dB/octave tilt) is shaped by three vowel formants
// that move through the syllable's vowel sequence (a pinyin final such as "iang" -> i, a, ng, or
// the vowel letters of an English syllable), after an onset consonant made of filtered noise
// (fricatives, aspiration, bursts) or a nasal/liquid murmur.
#include <cstdint>
#include <string>
#include <vector>

namespace mudit::data::synth::vocal {

/// Sings the syllable `sound` (toned pinyin for "zh", the syllable's spelling for "en") over
/// f0.size() samples at F0 f0[t] Hz. `female` raises the formants by 15 %. Deterministic in
/// `seed` (the noise).
std::vector<float> formant_syllable(const std::string& sound, const std::string& lang, bool female,
                                    const std::vector<float>& f0, int sample_rate, uint64_t seed);

}  // namespace mudit::data::synth::vocal
