// A small synthetic corpus for the training tests (they skip without a General MIDI soundfont).
#pragma once

#include <filesystem>

#include "mudit/data/synth.h"

namespace mudit::test {

inline bool have_soundfont() {
  for (const auto& f : data::synth::SynthConfig{}.soundfonts) {
    if (std::filesystem::exists(f)) return true;
  }
  return false;
}

/// `songs` sung, described songs of `seconds` in `dir` (manifest.jsonl, songs/), a share of
/// them in the valid split and none in test.
inline void make_corpus(const std::filesystem::path& dir, int64_t songs, double seconds,
                        uint64_t seed, double valid_fraction) {
  data::synth::SynthConfig c;
  c.songs = songs;
  c.seconds = seconds;
  c.seed = seed;
  c.valid_fraction = valid_fraction;
  c.test_fraction = 0;
  c.soundfonts = {"/usr/share/sounds/sf2/FluidR3_GM.sf2"};
  data::synth::synthesize_corpus(c, dir);
}

}  // namespace mudit::test
