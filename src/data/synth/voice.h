#pragma once
// The sung vocal (sing() in mudit/data/synth.h) with its counts, for tests and logs.
#include <cstdint>
#include <string>
#include <vector>

#include "mudit/data/synth.h"

namespace mudit::data::synth::vocal {

/// What sang each syllable of one song.
struct SingStats {
  int syllables = 0;
  int gcin = 0;               // from a gcin-voice recording
  int tone_fallbacks = 0;     //   of which in another tone than the lyric's (that one missing)
  int espeak = 0;             // from espeak-ng (English)
  int formant = 0;            // the formant voice
  int formant_fallbacks = 0;  //   of which because a wanted recording or voice was missing
};

/// sing(), also reporting the counts in `stats` (when not null).
std::vector<float> sing_with_stats(SongLabels& song, const SynthConfig& config, uint64_t seed,
                                   SingStats* stats);

/// The gcin-voice speaker file for a voice gender: "5.ogg" (a female speaker, median F0 about
/// 310 Hz over the syllables) for "female", else "3.ogg" (a male speaker, about 105 Hz).
const char* gcin_speaker_file(const std::string& gender);

}  // namespace mudit::data::synth::vocal
