#pragma once
// English (and fallback) speech from libespeak-ng, for the sung vocal.
//
// espeak-ng keeps one global synthesizer (voice, parameters, callback): every call here holds
// one process-wide mutex, so songs singing in parallel take turns at espeak (a word takes a few
// milliseconds, and sing() caches what it gets). Built without libespeak-ng
// (MUDIT_HAVE_ESPEAK unset), espeak_available() is false and the formant voice sings instead.
#include <string>
#include <vector>

namespace mudit::data::synth::vocal {

/// Whether libespeak-ng is compiled in and initialises (its data folder present).
bool espeak_available();

/// Speaks `text` (UTF-8) with `voice` ("en-us+f5", "en-us+m3", "cmn-latn-pinyin") at a slow
/// rate, synchronously; returns mono samples in [-1, 1] and sets `sample_rate` (22050).
/// Returns nothing when espeak is unavailable or fails.
std::vector<float> espeak_speak(const std::string& text, const std::string& voice,
                                int& sample_rate);

}  // namespace mudit::data::synth::vocal
