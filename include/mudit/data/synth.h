#pragma once
// The synthetic MuChin-style corpus (`mudit synth`): procedurally composed songs rendered with
// General MIDI soundfonts, with lyrics sung from real Mandarin syllable recordings, and exact
// labels plus amateur and professional descriptions. DESIGN §6.
//
// One song is made in four steps, each a free function over SongLabels:
//   compose_song   key, mode, tempo, meter, style, instruments, form, chords, melody, bass, drums
//   write_lyrics   rhyming lines set syllable by syllable to the melody's phrases
//   render_song    instruments through FluidSynth + the sung vocal (sing), mixed and normalised
//   describe_song  amateur and professional descriptions and tags, Chinese and English
// Every step is deterministic in its seed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mudit/data/manifest.h"
#include "mudit/text/lyrics.h"

namespace mudit::data::synth {

// --- Labels ---------------------------------------------------------------------------------

/// Scale modes: Western major and natural minor, and the five Chinese pentatonic modes
/// (宫 gong, 商 shang, 角 jue, 徵 zhi, 羽 yu) built on the tonic.
enum class Mode { kMajor, kMinor, kGong, kShang, kJue, kZhi, kYu };
enum class Meter { k4_4, k3_4, k6_8 };
enum class Style { kBallad, kRock, kFolk, kElectronicDance, kJazz, kChineseTraditional };

const char* mode_name(Mode mode);     // "major", "minor", "gong", "shang", "jue", "zhi", "yu"
const char* meter_name(Meter meter);  // "4/4", "3/4", "6/8"
const char* style_name(Style style);  // "ballad", "rock", "folk", "edm", "jazz", "chinese"
/// Semitones above the tonic of each scale degree (7 for major/minor, 5 for pentatonic modes).
std::vector<int> mode_intervals(Mode mode);
/// "C", "C#", "D", ... "B" for pitch classes 0..11.
const char* pitch_class_name(int pitch_class);

/// A note of one part. Times in seconds from the song's start (sample-accurate when rendered).
struct Note {
  double start_s = 0;
  double end_s = 0;
  int pitch = 60;  // MIDI note number
  int velocity = 96;
};

/// One instrument of the arrangement, as rendered: a General MIDI program on a channel.
struct Part {
  std::string role;    // "melody_double", "chords", "bass", "drums", "pad", "lead"
  int program = 0;     // General MIDI program 0..127 (ignored for drums: channel 10)
  int channel = 0;     // MIDI channel 0..15 (9 = drums)
  std::string name;    // GM name: "Acoustic Grand Piano"
  std::string family;  // GM family: "piano", "strings", "guitar", "bass", "drums", ...
  std::vector<Note> notes;
  float gain_db = 0;  // mix gain
};

struct SectionSpan {
  text::SectionTag tag;  // intro / verse / prechorus / chorus / bridge / outro with ordinal
  int first_bar = 0;
  int bars = 0;
  double start_s = 0;
  double end_s = 0;
};

/// The chord of one bar.
struct BarChord {
  int bar = 0;
  double start_s = 0;
  int root_pc = 0;           // pitch class of the root, 0..11
  std::string quality;       // "maj", "min", "dim", "7", "maj7", "min7", "sus4", ...
  std::string symbol;        // "Am7"
  std::string roman;         // "vi7" relative to the key
  std::vector<int> pitches;  // the voicing as MIDI notes
};

/// A sung syllable: one melody note (or several tied, for a melisma).
struct Syllable {
  std::string text;   // "爱" or "love"
  std::string sound;  // toned pinyin "ai4" for Chinese; the English word or syllable for English
  double start_s = 0;
  double end_s = 0;
  int pitch = 60;  // MIDI note the syllable is sung on
};

/// A sung lyric line, set to one melody phrase.
struct LyricLine {
  std::string text;  // "你是我心中的光"
  std::string lang;  // "zh" or "en"
  text::SectionTag section;
  double start_s = 0;
  double end_s = 0;
  std::string rhyme;  // the rhyme group of its last syllable ("ang"), shared by rhyming lines
  std::vector<Syllable> syllables;
};

/// A melody phrase: consecutive melody notes that one lyric line is set to (one syllable each).
struct Phrase {
  int section_index = 0;  // index into SongLabels::sections
  int first_note = 0;     // index into SongLabels::melody
  int note_count = 0;
  double start_s = 0;
  double end_s = 0;
};

struct Voice {
  std::string gender;     // "female" or "male"
  std::string register_;  // "soprano", "alto", "tenor", "baritone"
  int low_pitch = 57;     // the melody stays within [low_pitch, high_pitch]
  int high_pitch = 76;
  std::string source;  // what sang: "gcin-voice", "espeak-ng", "formant" (set by render)
};

struct SongLabels {
  std::string id;
  uint64_t seed = 0;
  int sample_rate = 24000;
  double duration_s = 0;  // the audio's exact length
  int tonic_pc = 0;       // 0 = C ... 11 = B
  Mode mode = Mode::kMajor;
  double bpm = 120;  // quarter-note beats per minute (6/8: dotted quarter = bpm / 1.5 is felt)
  Meter meter = Meter::k4_4;
  Style style = Style::kBallad;
  std::vector<Part> parts;  // every instrument, drums included
  std::vector<SectionSpan> sections;
  std::vector<BarChord> chords;  // one per bar
  std::vector<Note> melody;      // the sung melody
  std::vector<Phrase> phrases;
  std::vector<LyricLine> lyrics;
  Voice voice;
  std::string soundfont;     // file name of the soundfont the instruments were rendered with
  double loudness_lufs = 0;  // integrated loudness after normalisation
  double peak_dbfs = 0;
};

/// Labels as one JSON object (the per-song labels.json) and back. Throws DataError on bad input.
std::string labels_to_json(const SongLabels& song);
SongLabels labels_from_json(const std::string& json);

// --- Configuration ----------------------------------------------------------------------------

struct SynthConfig {
  int64_t songs = 200;
  double seconds = 30;  // target length; the form is cut to whole bars near it
  int64_t sample_rate = 24000;
  uint64_t seed = 0;
  int64_t threads = 0;  // 0 = every core
  double valid_fraction = 0.05;
  double test_fraction = 0.05;
  double english_fraction = 0.15;  // share of songs with English lyric lines
  double target_lufs = -16;
  /// Soundfonts tried in turn per song (the choice is recorded); missing files are skipped.
  std::vector<std::string> soundfonts{"/usr/share/sounds/sf2/FluidR3_GM.sf2",
                                      "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
                                      "/usr/share/sounds/sf2/TimGM6mb.sf2"};
  std::string voice_dir = "/usr/share/gcin-voice/ogg";  // gcin-voice syllables
  bool vocals = true;
  template <class V>
  void visit(V& v) {
    v("songs", songs);
    v("seconds", seconds);
    v("sample_rate", sample_rate);
    v("seed", seed);
    v("threads", threads);
    v("valid_fraction", valid_fraction);
    v("test_fraction", test_fraction);
    v("english_fraction", english_fraction);
    v("target_lufs", target_lufs);
    v("soundfonts", soundfonts);
    v("voice_dir", voice_dir);
    v("vocals", vocals);
  }
  void validate() const;
};

// --- The steps ------------------------------------------------------------------------------

/// Composition: everything but lyrics, vocals and the rendering. Deterministic in `seed`.
SongLabels compose_song(const SynthConfig& config, const std::string& id, uint64_t seed);

/// Fills song.lyrics: one line per phrase, Chinese (or English with probability
/// config.english_fraction per song) from the built-in word lists, end-rhymed within sections,
/// one syllable per phrase note.
void write_lyrics(SongLabels& song, const SynthConfig& config, uint64_t seed);

/// The sung vocal alone: mono, song.sample_rate, song.duration_s long. Sets song.voice.source.
std::vector<float> sing(SongLabels& song, const SynthConfig& config, uint64_t seed);

/// A Standard MIDI File (format 1) of every part plus the melody, tempo and meter.
std::string to_midi(const SongLabels& song);

/// Descriptions and tags for the manifest.
struct SongDescriptions {
  std::vector<Description> amateur;       // several paraphrases; zh and en; short/medium/long
  std::vector<Description> professional;  // likewise
  TagMap amateur_tags;  // MuChin's amateur dimensions (特色感受, 快慢感受, 歌曲用途, ...)
  TagMap professional_tags;  // MuChin's professional dimensions (风格或流派, 速度与节奏, ...)
};
SongDescriptions describe_song(const SongLabels& song, uint64_t seed);

}  // namespace mudit::data::synth
