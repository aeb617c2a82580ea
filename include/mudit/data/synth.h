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
#include <functional>
#include <string>
#include <vector>

#include "mudit/audio/io.h"
#include "mudit/data/manifest.h"
#include "mudit/generation/plan.h"
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
/// The General MIDI name ("Acoustic Grand Piano") and family ("piano") of a program 0..127.
const char* gm_program_name(int program);
const char* gm_family_name(int program);
/// The pitch class of the major scale that holds the mode's notes: the tonic for major and
/// gong, the relative major for minor and yu, and the gong of shang, jue and zhi (tonic - 2,
/// - 4, - 7 semitones). Key estimates are scored against it (see README "Synthetic corpus").
int parent_major_pc(int tonic_pc, Mode mode);

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
  int program = 0;     // General MIDI program 0..127; for drums (channel 10) the kit preset of
                       // bank 128 (0 standard, 8 room, 16 power, 24 electronic, 25 TR-808,
                       // 32 jazz, 40 brush), falling back to 0 where a soundfont lacks it
  int channel = 0;     // MIDI channel 0..15 (9 = drums)
  std::string name;    // GM name: "Acoustic Grand Piano"
  std::string family;  // GM family: "piano", "strings", "guitar", "bass", "drums", ...
  std::vector<Note> notes;
  float gain_db = 0;  // mix gain
  /// The instrument a General MIDI substitute stands for ("guzheng" for Koto, "erhu" for
  /// Fiddle in the Chinese traditional style); empty when the GM instrument is meant as itself.
  std::string stands_for;
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

/// Quarter notes per bar (4, 3, and 3 for 6/8) and the felt beat in BPM: `bpm` for 4/4 and 3/4,
/// the dotted quarter (bpm / 1.5) for 6/8. Tempo estimates are scored against beat_bpm().
double quarters_per_bar(Meter meter);
double beat_bpm(const SongLabels& song);

/// The song's musical plan from its labels (source "labels"): felt beats from 0 at beat_bpm()
/// (quarters, or dotted quarters in 6/8), a bar's first beat a downbeat; each bar's chord with
/// the pitch classes of its voicing as tones; the key as tonic and mode — major and gong
/// major, minor and yu minor, and shang, jue and zhi as their parent major key (the pitch-class
/// set a key estimate can tell apart).
generation::MusicalPlan song_plan(const SongLabels& song);

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

// --- Rendering --------------------------------------------------------------------------------

/// Renders songs with FluidSynth, offline (no audio driver). The existing soundfonts of
/// config.soundfonts are loaded once per process (shared by every renderer alive); each song is
/// played on a fresh synthesizer that takes its soundfont from FluidSynth's sample cache, so a
/// song's audio never depends on what was rendered before it or on which thread. One renderer
/// per thread (it is not thread-safe).
class SongRenderer {
 public:
  /// Loads the soundfonts. Throws IoError when none of config.soundfonts can be loaded.
  explicit SongRenderer(const SynthConfig& config);
  ~SongRenderer();
  SongRenderer(const SongRenderer&) = delete;
  SongRenderer& operator=(const SongRenderer&) = delete;

  /// The instruments of `song` (every part; the melody itself is the vocal's) plus `vocal`
  /// (mono at song.sample_rate, may be empty), mixed in stereo with the vocal above the band,
  /// normalised to config.target_lufs and limited so |x| <= 0.99. The soundfont is drawn from
  /// `seed`; sets song.soundfont, song.loudness_lufs and song.peak_dbfs. Returns [2, T] float32,
  /// T = round(song.duration_s * song.sample_rate). compose_song() puts every note time on
  /// FluidSynth's 64-sample block grid, where FluidSynth applies events, so notes sound exactly
  /// at their label times.
  audio::Audio render(SongLabels& song, const std::vector<float>& vocal, uint64_t seed);

  /// File names of the loaded soundfonts, in config order.
  std::vector<std::string> soundfonts() const;

 private:
  struct Impl;
  Impl* impl_;
};

/// sing() (when config.vocals) and SongRenderer::render() with a renderer kept per thread.
audio::Audio render_song(SongLabels& song, const SynthConfig& config, uint64_t seed);

// --- The corpus ---------------------------------------------------------------------------------

/// "synth_000042" for index 42.
std::string song_id(int64_t index);

/// The seed of one step of one song: derive_seed(song_seed, step). Steps: 0 compose, 1 lyrics,
/// 2 sing, 3 render, 4 describe.
uint64_t step_seed(uint64_t song_seed, int step);

/// One song made in memory: composed, lyrics written, sung, rendered and described.
struct Song {
  SongLabels labels;
  audio::Audio audio;  // [2, T]
  SongDescriptions descriptions;
};
Song make_song(const SynthConfig& config, int64_t index, SongRenderer& renderer);

/// The lyrics file: structure tags for every section (instrumental ones too) and one
/// "[mm:ss.xx]line" per lyric line.
std::string lyrics_text(const SongLabels& song);

/// The manifest's `meta` for a song: key, mode, tempo, meter, style, instruments, soundfont,
/// voice (a compact JSON object).
std::string song_meta_json(const SongLabels& song);

/// The manifest line of a song whose files lie in `songs/<id>/` next to the manifest.
ManifestEntry manifest_entry(const Song& song, const SynthConfig& config);

/// Writes songs/<id>/{audio.wav,song.mid,labels.json,lyrics.txt} under `out_dir`, each atomically.
void write_song_files(const Song& song, const std::filesystem::path& out_dir);

struct CorpusStats {
  int64_t songs = 0;
  double audio_seconds = 0;  // total length of the audio made
  double wall_seconds = 0;
  int64_t threads = 0;
  double songs_per_second() const { return wall_seconds > 0 ? songs / wall_seconds : 0; }
  double realtime_factor() const { return wall_seconds > 0 ? audio_seconds / wall_seconds : 0; }
};

/// Makes songs 0..songs-1 (song i seeded with derive_seed(config.seed, i)) in parallel over
/// config.threads threads (0: every core; the output does not depend on the count), writing
/// out_dir/songs/<id>/..., out_dir/manifest.jsonl (written last, atomically: a failed run leaves
/// none) and the resolved config out_dir/synth.yaml. `progress` (may be empty) is called from
/// the calling thread with the number of songs done. Throws ConfigError for a bad config or no
/// usable soundfont, IoError when out_dir cannot be written.
CorpusStats synthesize_corpus(const SynthConfig& config, const std::filesystem::path& out_dir,
                              const std::function<void(int64_t done)>& progress = {});

/// A readable summary of a song folder written by synthesize_corpus(): its labels.json, and its
/// line of ../../manifest.jsonl (descriptions, tags, split) when present.
std::string describe_song_dir(const std::filesystem::path& song_dir);

}  // namespace mudit::data::synth
