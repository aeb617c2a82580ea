// TEMPORARY STAND-INS, to be deleted when the real write_lyrics / sing (lyrics.cpp, voice.cpp)
// and describe_song (describe.cpp) are merged. They only let the composition, rendering and
// corpus code build and run: "la" syllables, a silent vocal, one plain description per register.
#include <cmath>

#include "mudit/data/synth.h"

namespace mudit::data::synth {

void write_lyrics(SongLabels& song, const SynthConfig& config, uint64_t seed) {
  song.lyrics.clear();
  for (const Phrase& ph : song.phrases) {
    LyricLine line;
    line.lang = "en";
    line.section = song.sections[ph.section_index].tag;
    line.start_s = ph.start_s;
    line.end_s = ph.end_s;
    line.rhyme = "a";
    for (int k = 0; k < ph.note_count; ++k) {
      const Note& n = song.melody[ph.first_note + k];
      line.syllables.push_back({"la", "la", n.start_s, n.end_s, n.pitch});
      line.text += k == 0 ? "la" : " la";
    }
    song.lyrics.push_back(line);
  }
}

std::vector<float> sing(SongLabels& song, const SynthConfig& config, uint64_t seed) {
  song.voice.source = "stand-in (silent)";
  return std::vector<float>(static_cast<size_t>(std::llround(song.duration_s * song.sample_rate)),
                            0.0f);
}

SongDescriptions describe_song(const SongLabels& song, uint64_t seed) {
  SongDescriptions d;
  const std::string key = std::string(pitch_class_name(song.tonic_pc)) + " " + mode_name(song.mode);
  d.amateur.push_back({std::string("A ") + style_name(song.style) + " song.", "en", "short"});
  d.professional.push_back({std::string(style_name(song.style)) + ", " + key + ", " +
                                std::to_string(static_cast<int>(song.bpm)) + " BPM, " +
                                meter_name(song.meter) + ".",
                            "en", "short"});
  d.amateur_tags["style"] = {style_name(song.style)};
  d.professional_tags["key"] = {key};
  return d;
}

}  // namespace mudit::data::synth
