#pragma once

// The musical plan: what a song should do, frame by frame — where its beats and downbeats fall,
// which chord sounds, which key it is in — as a symbolic record (MusicalPlan) and as the tensor
// the generator reads (plan_tensor(), [T, F] per latent frame). One function builds the tensor
// for `mudit prepare`, training and `mudit sample` alike, so the three cannot drift apart;
// decode_plan() reads a plan back out of it (the round-trip test, and `mudit plan` on a tensor).
//
// Why per frame: a global vector says "120 BPM" but not where the beats fall, so a denoiser that
// cannot tell the phase averages over it and ignores the vector (README "Control accuracy"); a
// frame-aligned plan carries the phase (JASCO, MusiConGen, Mustango feed the same kind).
//
// Layout of one frame (S = slots, default 16; a latent frame of the mel VAE is 170.7 ms, one
// slot 10.7 ms, finer than the 70 ms beat tolerance):
//   beats   [0, S)            beat activations at the centres of S equal parts of the frame:
//                             a Gaussian bump (σ = kBeatSigma) on every beat, so a beat's time
//                             within the frame survives (decode: peak + parabola on the log)
//           [S, 2S)           the same for downbeats (the first beat of each bar)
//           2S + 0, 1         sin, cos of 2π × beat phase at the frame's centre
//           2S + 2, 3         sin, cos of 2π × bar phase at the frame's centre
//           2S + 4            log2(BPM / 120)
//   chord   +0 .. +11         chord-tone chroma (1 on every pitch class of the chord, C = 0)
//           +12 .. +24        root one-hot: 12 pitch classes, then "no chord" (N)
//   key     +0 .. +11         tonic one-hot
//           +12               1 for minor, 0 for major
//   present +0, +1, +2        1 where the beat, chord, key group is given at this frame
// An absent group is all zeros, presence flag included, so dropping a group in training and
// leaving it out of a request are the same input.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mudit::generation {

/// The plan's three groups.
enum class PlanGroup { kBeats = 0, kChords = 1, kKey = 2 };
constexpr int kPlanGroups = 3;
const char* plan_group_name(PlanGroup group);  // "beats", "chords", "key"

/// Width of a beat bump, seconds (the beat tolerance of beat F-measure is 70 ms).
constexpr double kBeatSigma = 0.02;
/// Tempo of log2(BPM / kTempoReference) = 0.
constexpr double kTempoReference = 120.0;

/// One chord, sounding from `start` until the next chord (or the end of the chord span).
struct PlanChord {
  double start = 0;              ///< seconds
  int root = -1;                 ///< pitch class 0..11 (C = 0); -1 = no chord
  std::array<bool, 12> tones{};  ///< chord tones by pitch class
  std::string symbol;            ///< "Am7", "N" (for reading; tensors carry root and tones)
};

/// A key: tonic pitch class and mode (major / minor).
struct PlanKey {
  int tonic = 0;
  bool minor = false;
  std::string name() const;  ///< "A minor", "Bb major"
};

/// A plan in symbols. Any group may be absent; beats and chords may cover part of the song.
struct MusicalPlan {
  double duration = 0;  ///< seconds

  // Beats: ascending times; `beats_per_bar` felt beats to a bar, the first bar starting at
  // beats[first_downbeat]. Present where the beat list reaches (half a beat beyond its ends).
  std::vector<double> beats;
  double bpm = 0;  ///< felt beats per minute (6/8: dotted quarters)
  int beats_per_bar = 4;
  int first_downbeat = 0;
  std::string meter;  ///< "4/4", "3/4", "6/8" (or "" when unknown)

  // Chords: ascending starts; present from the first start to `chords_end`.
  std::vector<PlanChord> chords;
  double chords_end = 0;

  // Key: present everywhere when set.
  bool has_key = false;
  PlanKey key;

  /// Where each group came from: "labels", "audio", "request", "description", "head" ("" when
  /// absent), indexed by PlanGroup.
  std::array<std::string, kPlanGroups> source;

  bool has_beats() const { return !beats.empty(); }
  bool has_chords() const { return !chords.empty(); }
  bool has(PlanGroup g) const;
  /// The bar of every beat: which beats are downbeats.
  bool is_downbeat(size_t beat) const;
  /// The chord sounding at `time` (nullptr outside the chord span).
  const PlanChord* chord_at(double time) const;
};

/// The column layout of the plan tensor for `slots` beat slots per frame.
struct PlanLayout {
  int64_t slots = 16;

  int64_t beat_begin() const { return 0; }
  int64_t downbeat_begin() const { return slots; }
  int64_t beat_phase() const { return 2 * slots; }     ///< sin, cos
  int64_t bar_phase() const { return 2 * slots + 2; }  ///< sin, cos
  int64_t log_tempo() const { return 2 * slots + 4; }
  int64_t chord_tones() const { return 2 * slots + 5; }
  int64_t chord_root() const { return chord_tones() + 12; }  ///< 13 columns, the last = N
  int64_t key_tonic() const { return chord_root() + 13; }
  int64_t key_minor() const { return key_tonic() + 12; }
  int64_t presence() const { return key_minor() + 1; }  ///< + PlanGroup
  int64_t dim() const { return presence() + kPlanGroups; }
  /// The columns [begin, end) of a group, its presence flag aside.
  std::pair<int64_t, int64_t> columns(PlanGroup g) const;
  /// [dim] bool: the columns of a group, its presence flag included (what dropping it zeroes).
  at::Tensor group_mask(PlanGroup g) const;
};

/// The plan tensor of `frames` latent frames at `latent_rate` frames per second: [frames,
/// layout.dim()] float32. Frame i covers [i / rate, (i + 1) / rate); slot j of it is sampled at
/// (i + (j + 0.5) / S) / rate.
at::Tensor plan_tensor(const MusicalPlan& plan, int64_t frames, double latent_rate,
                       const PlanLayout& layout = {});

/// A plan read back from its tensor [T, F] (sources left empty, duration T / rate): beat and
/// downbeat times from the slot peaks (over 0.5, refined by a parabola through the log of the
/// peak and its neighbours), BPM from the log-tempo column (median over present frames), the
/// chord of every run of frames with one root and tone set, and the key by majority.
MusicalPlan decode_plan(const at::Tensor& plan, double latent_rate, const PlanLayout& layout = {});

// --- Plan tensors in training and its diagnostics ([B, T, F] batches) -------------------------

/// The plan with groups dropped: `keep` [B, kPlanGroups] bool; a dropped group's columns and its
/// presence flag become zero (the same input as a plan without that group).
at::Tensor drop_plan_groups(const at::Tensor& plan, const at::Tensor& keep,
                            const PlanLayout& layout = {});

/// Chords and key moved by `semitones` (chord tones, root and tonic rotated; no-chord and mode
/// kept): the "wrong harmony" the validation compares against.
at::Tensor transpose_plan(const at::Tensor& plan, int semitones, const PlanLayout& layout = {});

/// Beats moved half a beat later (the "wrong beat phase" of the validation): beat and downbeat
/// slots shifted by 30 / BPM seconds (rounded to a slot; BPM from the log-tempo column), beat
/// phase + 1/2, bar phase + 1 / (2 beats per bar) (beats per bar from the ratio of beat to
/// downbeat activation), per song. Songs without beats are unchanged.
at::Tensor shift_plan_beats(const at::Tensor& plan, double latent_rate,
                            const PlanLayout& layout = {});

/// A regular grid of beats: `bpm` felt beats per minute, the first at `first_beat` seconds, up
/// to `duration`; `beats_per_bar` beats to a bar, the first beat a downbeat. Every source that
/// knows a tempo but not the beats (a request, a description, the tempo head) builds its beats
/// here.
void set_beat_grid(MusicalPlan& plan, double bpm, int beats_per_bar, double first_beat = 0);

/// Chords one per bar (`symbols`, cycled to the end of the song; "N" for no chord) on the plan's
/// downbeats. Needs beats. Throws DataError naming the bad symbol.
void set_chords_per_bar(MusicalPlan& plan, const std::vector<std::string>& symbols);

/// The chords a key implies when a request or description gives a key but no chords, one per
/// bar: I–V–vi–IV in major, i–VI–III–VII in minor (the commonest four-bar loops of pop and of
/// the synthetic corpus's styles). A key without harmony is followed weakly — the tiny MuSiT's
/// songs from key-only plans reached 0.537 weighted key against 0.812 with chords (README
/// "Control accuracy") — because chords are what make a key heard.
std::vector<std::string> key_progression(const PlanKey& key);

/// A chord symbol: root (C, C#, Db, ..., B), quality (""
/// major, m / min minor, dim, aug / +, sus2, sus4, 5, 6, m6, 7, maj7 / M7, m7 / min7, m7b5,
/// dim7, 9, add9), optional "/bass" (added to the tones); "N" = no chord. Throws DataError.
PlanChord parse_chord(const std::string& symbol);

/// The symbol of a chord from its root and tones ("Am7", "N"; "C(+2+5)" for a set no quality
/// names).
std::string chord_symbol(const PlanChord& chord);

/// A key: "A minor", "Am", "Bb major", "F#", "c# minor", "降B大调", "A小调", "升F小调", "C大调",
/// "D宫" (宫 major, 羽 minor). Throws DataError.
PlanKey parse_key(const std::string& text);

/// Felt beats per bar of a meter: "4/4" 4, "3/4" 3, "2/4" 2, "6/8" 2 (dotted quarters), "12/8"
/// 4. Throws DataError for others.
int beats_per_bar(const std::string& meter);

/// A readable summary: BPM, meter, key, chords per bar, the first beat times.
std::string describe_plan(const MusicalPlan& plan);

}  // namespace mudit::generation
