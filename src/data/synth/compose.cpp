// compose_song: key, mode, tempo, meter, style, instruments, form, chords, melody, bass, drums.
#include <algorithm>
#include <cmath>
#include <map>

#include "compose_internal.h"
#include "mudit/core/error.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {

namespace detail {

std::vector<int> quality_intervals(const std::string& quality) {
  static const std::map<std::string, std::vector<int>> table = {
      {"maj", {0, 4, 7}},       {"min", {0, 3, 7}},      {"dim", {0, 3, 6}},
      {"7", {0, 4, 7, 10}},     {"maj7", {0, 4, 7, 11}}, {"min7", {0, 3, 7, 10}},
      {"m7b5", {0, 3, 6, 10}},  {"sus2", {0, 2, 7}},     {"sus4", {0, 5, 7}},
      {"min7(no5)", {0, 3, 10}}};
  const auto it = table.find(quality);
  MUDIT_CHECK(it != table.end(), DataError, "unknown chord quality '", quality, "'");
  return it->second;
}

}  // namespace detail

namespace {

using detail::Rng;

// A chord as written in a progression: semitones above the song's tonic, and its quality.
struct ChordSpec {
  int offset = 0;
  const char* quality = "maj";
};
using Progression = std::vector<ChordSpec>;

// Major-key degrees (offsets from the tonic).
const ChordSpec I{0, "maj"}, ii{2, "min"}, iii{4, "min"}, IV{5, "maj"}, V{7, "maj"}, vi{9, "min"};
// Natural-minor degrees.
const ChordSpec i_{0, "min"}, iv_{5, "min"}, v_{7, "min"}, V_{7, "maj"}, III_{3, "maj"},
    VI_{8, "maj"}, VII_{10, "maj"};

std::vector<Progression> progressions(Style style, Mode mode) {
  const bool minor = mode == Mode::kMinor;
  if (mode != Mode::kMajor && !minor) {
    // Pentatonic modes: chords built only from the five notes (triads, sus chords, a
    // fifthless minor seventh), written as offsets from the gong (parent) note, starting and
    // ending on the mode's tonic chord.
    const ChordSpec g_I{0, "maj"}, g_vi{9, "min"}, g_II{2, "sus4"}, g_V{7, "sus2"},
        g_iii{4, "min7(no5)"};
    std::vector<Progression> by_gong;
    switch (mode) {
      case Mode::kGong:
        by_gong = {{g_I, g_vi, g_II, g_I}, {g_I, g_V, g_vi, g_I}};
        break;
      case Mode::kShang:
        by_gong = {{g_II, g_vi, g_I, g_II}, {g_II, g_V, g_I, g_II}};
        break;
      case Mode::kJue:
        by_gong = {{g_iii, g_vi, g_I, g_iii}, {g_iii, g_II, g_I, g_iii}};
        break;
      case Mode::kZhi:
        by_gong = {{g_V, g_I, g_vi, g_V}, {g_V, g_II, g_I, g_V}};
        break;
      default:
        by_gong = {{g_vi, g_I, g_V, g_vi}, {g_vi, g_II, g_I, g_vi}, {g_vi, g_V, g_I, g_vi}};
    }
    // Offsets from the gong to offsets from the mode's tonic.
    const int gong_to_tonic = (12 - parent_major_pc(0, mode)) % 12;  // tonic - gong
    for (auto& p : by_gong) {
      for (auto& c : p) c.offset = ((c.offset - gong_to_tonic) % 12 + 12) % 12;
    }
    return by_gong;
  }
  switch (style) {
    case Style::kBallad:
      return minor ? std::vector<Progression>{{i_, VI_, III_, VII_},
                                              {i_, iv_, VII_, III_},
                                              {i_, VI_, iv_, V_}}
                   : std::vector<Progression>{{I, V, vi, IV}, {I, vi, IV, V}, {I, IV, vi, V}};
    case Style::kRock:
      return minor ? std::vector<Progression>{{i_, VII_, VI_, VII_},
                                              {i_, VI_, VII_, i_},
                                              {i_, iv_, v_, i_}}
                   : std::vector<Progression>{{I, IV, V, IV}, {I, IV, V, V}, {I, V, vi, IV}};
    case Style::kFolk:
      return minor ? std::vector<Progression>{{i_, VII_, VI_, VII_}, {i_, iv_, i_, v_}}
                   : std::vector<Progression>{{I, IV, I, V}, {I, V, vi, IV}, {I, IV, V, I}};
    case Style::kElectronicDance:
      return minor ? std::vector<Progression>{{i_, VI_, III_, VII_}, {i_, VII_, VI_, VII_}}
                   : std::vector<Progression>{{vi, IV, I, V}, {I, V, vi, IV}};
    case Style::kJazz:
      return minor ? std::vector<Progression>{{{2, "m7b5"}, {7, "7"}, {0, "min7"}, {0, "min7"}},
                                              {{0, "min7"}, {5, "min7"}, {10, "7"}, {3, "maj7"}}}
                   : std::vector<Progression>{{{2, "min7"}, {7, "7"}, {0, "maj7"}, {0, "maj7"}},
                                              {{0, "maj7"}, {9, "min7"}, {2, "min7"}, {7, "7"}},
                                              {{4, "min7"}, {9, "min7"}, {2, "min7"}, {7, "7"}}};
    case Style::kChineseTraditional:
      break;
  }
  return {{I, IV, V, I}};
}

ChordSpec home_chord(Style style, Mode mode, const std::vector<Progression>& pool) {
  if (mode == Mode::kMajor) return style == Style::kJazz ? ChordSpec{0, "maj7"} : I;
  if (mode == Mode::kMinor) return style == Style::kJazz ? ChordSpec{0, "min7"} : i_;
  return pool.front().front();
}

const char* symbol_suffix(const std::string& q) {
  static const std::map<std::string, const char*> table = {
      {"maj", ""},      {"min", "m"},
      {"dim", "dim"},   {"7", "7"},
      {"maj7", "maj7"}, {"min7", "m7"},
      {"m7b5", "m7b5"}, {"sus2", "sus2"},
      {"sus4", "sus4"}, {"min7(no5)", "m7(no5)"}};
  return table.at(q);
}

std::string roman(int offset, const std::string& quality, Mode mode) {
  static const char* numerals[] = {"I", "II", "III", "IV", "V", "VI", "VII"};
  std::string base;
  if (mode == Mode::kMajor || mode == Mode::kMinor) {
    const auto scale = mode_intervals(mode);
    const auto it = std::find(scale.begin(), scale.end(), offset);
    if (it != scale.end()) base = numerals[it - scale.begin()];
  }
  if (base.empty()) {
    // Relative to the major scale on the tonic, with accidentals.
    static const char* chromatic[] = {"I",   "bII", "II",  "bIII", "III",  "IV",
                                      "#IV", "V",   "bVI", "VI",   "bVII", "VII"};
    base = chromatic[offset];
  }
  const bool lower = quality == "min" || quality == "dim" || quality == "min7" ||
                     quality == "m7b5" || quality == "min7(no5)";
  if (lower) {
    for (char& ch : base) {
      if (ch == 'I' || ch == 'V') ch = static_cast<char>(ch - 'A' + 'a');
    }
  }
  if (quality == "dim") return base + "°";
  if (quality == "m7b5") return base + "ø7";
  if (quality == "min7" || quality == "7") return base + "7";
  if (quality == "maj7") return base + "maj7";
  if (quality == "sus2" || quality == "sus4") return base + quality;
  if (quality == "min7(no5)") return base + "7(no5)";
  return base;
}

// --- time grid ----------------------------------------------------------------------------

struct Grid {
  double bpm = 120;
  Meter meter = Meter::k4_4;
  bool swing = false;
  int slots_per_bar() const { return meter == Meter::k4_4 ? 8 : 6; }  // eighth notes
  double eighth() const { return 30.0 / bpm; }
  double bar_seconds() const { return slots_per_bar() * eighth(); }
  /// Time of eighth-note slot `slot` (may exceed a bar) from the start of `bar`. Swing delays
  /// the off-beat eighth to two thirds of the beat.
  double time(int bar, double slot) const {
    double t = bar * bar_seconds() + slot * eighth();
    const int whole = static_cast<int>(std::floor(slot));
    if (swing && meter != Meter::k6_8 && whole % 2 == 1 && slot == whole) {
      t += eighth() / 3.0;
    }
    return t;
  }
  bool is_beat(int slot) const {
    const int s = slot % slots_per_bar();
    return meter == Meter::k6_8 ? s % 3 == 0 : s % 2 == 0;
  }
  bool is_strong(int slot) const {
    const int s = slot % slots_per_bar();
    switch (meter) {
      case Meter::k4_4:
        return s == 0 || s == 4;
      case Meter::k3_4:
        return s == 0;
      case Meter::k6_8:
        return s == 0 || s == 3;
    }
    return false;
  }
};

int clamp_velocity(int v) {
  return std::clamp(v, 1, 127);
}

// --- instruments --------------------------------------------------------------------------

struct PartChoice {
  const char* role;
  std::vector<int> programs;
  const char* stands_for = "";
  double probability = 1.0;
  float gain_db = 0;
};

// Drum-kit presets (bank 128) by name.
struct Kit {
  int preset;
  const char* name;
};

std::vector<PartChoice> instrumentation(Style style) {
  switch (style) {
    case Style::kBallad:
      return {{"chords", {0, 4}, "", 1.0, 0},
              {"pad", {48, 49, 89}, "", 0.8, -7},
              {"bass", {32, 33}, "", 1.0, -6},
              {"melody_double", {73, 40, 71}, "", 0.6, -4}};
    case Style::kRock:
      return {{"chords", {29, 30}, "", 1.0, -2},
              {"bass", {33, 34}, "", 1.0, -5},
              {"melody_double", {27, 29}, "", 0.6, -4},
              {"pad", {18}, "", 0.3, -9}};
    case Style::kFolk:
      return {{"chords", {25, 24}, "", 1.0, 0},
              {"melody_double", {110, 73, 22}, "", 0.8, -4},
              {"bass", {32}, "", 1.0, -6}};
    case Style::kElectronicDance:
      return {{"pad", {88, 89, 90}, "", 1.0, -6},
              {"melody_double", {80, 81}, "", 0.9, -7},
              {"bass", {38, 39}, "", 1.0, -6},
              {"chords", {62, 5}, "", 0.5, -5}};
    case Style::kJazz:
      return {{"chords", {0, 11}, "", 1.0, 0},
              {"bass", {32}, "", 1.0, -4},
              {"melody_double", {65, 66, 59}, "", 0.8, -4}};
    case Style::kChineseTraditional:
      return {{"chords", {107}, "guzheng", 1.0, 0},
              {"melody_double", {110, 75, 111, 77}, "", 1.0, -4},
              {"bass", {45, 32}, "", 1.0, -7},
              {"pad", {48, 49}, "", 0.5, -9},
              {"lead", {106}, "pipa", 0.3, -6}};
  }
  return {};
}

const char* chinese_stand_in(int program) {
  switch (program) {
    case 110:
      return "erhu";
    case 75:
      return "dizi";
    case 111:
      return "suona";
    case 77:
      return "xiao";
    default:
      return "";
  }
}

Kit drum_kit(Style style, Rng& rng) {
  switch (style) {
    case Style::kRock:
      return rng.chance(0.5) ? Kit{16, "Power Kit"} : Kit{0, "Standard Kit"};
    case Style::kElectronicDance:
      return rng.chance(0.5) ? Kit{25, "TR-808 Kit"} : Kit{24, "Electronic Kit"};
    case Style::kJazz:
      return rng.chance(0.5) ? Kit{32, "Jazz Kit"} : Kit{40, "Brush Kit"};
    case Style::kBallad:
      return rng.chance(0.5) ? Kit{8, "Room Kit"} : Kit{0, "Standard Kit"};
    default:
      return {0, "Standard Kit"};
  }
}

// --- the song -----------------------------------------------------------------------------

struct BarChordPcs {
  int root_pc = 0;
  std::vector<int> pcs;  // pitch classes of the chord
  std::vector<int> voicing;
};

class Composer {
 public:
  Composer(const SynthConfig& config, const std::string& id, uint64_t seed)
      : config_(config), rng_(seed) {
    song_.id = id;
    song_.seed = seed;
    song_.sample_rate = static_cast<int>(config.sample_rate);
  }

  SongLabels run() {
    choose_basics();
    choose_voice();
    plan_form();
    plan_chords();
    write_melody();
    arrange();
    snap_to_blocks();
    return std::move(song_);
  }

 private:
  /// FluidSynth starts and stops notes on its 64-sample block grid only, so every label time is
  /// moved to the nearest grid point (at most 1.3 ms at 24 kHz): what the labels say is then
  /// exactly where the rendered notes begin and end, to the sample.
  void snap_to_blocks() {
    const double block = static_cast<double>(detail::kFluidBlock) / song_.sample_rate;
    auto snap = [&](double& t) { t = std::round(t / block) * block; };
    auto snap_note = [&](Note& n) {
      snap(n.start_s);
      snap(n.end_s);
      if (n.end_s < n.start_s + block) n.end_s = n.start_s + block;
    };
    snap(song_.duration_s);
    for (auto& sec : song_.sections) snap(sec.start_s), snap(sec.end_s);
    for (auto& c : song_.chords) snap(c.start_s);
    for (auto& n : song_.melody) snap_note(n);
    for (auto& ph : song_.phrases) snap(ph.start_s), snap(ph.end_s);
    for (auto& p : song_.parts) {
      for (auto& n : p.notes) snap_note(n);
    }
  }

  void choose_basics() {
    static const Style styles[] = {Style::kBallad, Style::kRock,
                                   Style::kFolk,   Style::kElectronicDance,
                                   Style::kJazz,   Style::kChineseTraditional};
    song_.style = styles[rng_.uniform(0, 5)];
    song_.tonic_pc = rng_.uniform(0, 11);
    const Mode pentatonic[] = {Mode::kGong, Mode::kShang, Mode::kJue, Mode::kZhi, Mode::kYu};
    switch (song_.style) {
      case Style::kChineseTraditional:
        song_.mode = pentatonic[rng_.uniform(0, 4)];
        break;
      case Style::kBallad:
      case Style::kFolk:
        // Chinese pop often sits in a pentatonic mode; gong and yu are the common ones.
        if (rng_.chance(0.2)) {
          song_.mode = rng_.chance(0.5) ? Mode::kGong : Mode::kYu;
        } else {
          song_.mode = rng_.chance(0.6) ? Mode::kMajor : Mode::kMinor;
        }
        break;
      default:
        song_.mode = rng_.chance(0.6) ? Mode::kMajor : Mode::kMinor;
    }
    // Meter by style (EDM and rock stay in 4/4 mostly).
    const double r = rng_.real();
    switch (song_.style) {
      case Style::kElectronicDance:
        song_.meter = Meter::k4_4;
        break;
      case Style::kRock:
        song_.meter = r < 0.85 ? Meter::k4_4 : Meter::k6_8;
        break;
      case Style::kJazz:
        song_.meter = r < 0.75 ? Meter::k4_4 : Meter::k3_4;
        break;
      case Style::kChineseTraditional:
        song_.meter = r < 0.7 ? Meter::k4_4 : Meter::k3_4;
        break;
      default:
        song_.meter = r < 0.55 ? Meter::k4_4 : (r < 0.8 ? Meter::k3_4 : Meter::k6_8);
    }
    // Tempo ranges (quarter notes per minute) by style; 6/8 is counted in dotted quarters of
    // 60-120, so its quarter-note tempo is 1.5 times that.
    int lo = 60, hi = 180;
    switch (song_.style) {
      case Style::kBallad:
        lo = 60, hi = 92;
        break;
      case Style::kRock:
        lo = 100, hi = 168;
        break;
      case Style::kFolk:
        lo = 76, hi = 132;
        break;
      case Style::kElectronicDance:
        lo = 118, hi = 136;
        break;
      case Style::kJazz:
        lo = 84, hi = 180;
        break;
      case Style::kChineseTraditional:
        lo = 60, hi = 112;
        break;
    }
    // 6/8 keeps its dotted-quarter beat at 80-120: slower, its eighths would read as the beat.
    if (song_.meter == Meter::k6_8) lo = std::max(lo, 80), hi = std::max(std::min(hi, 120), 90);
    song_.bpm = rng_.uniform(lo, hi);
    if (song_.meter == Meter::k6_8) song_.bpm *= 1.5;
    grid_.bpm = song_.bpm;
    grid_.meter = song_.meter;
    grid_.swing = song_.style == Style::kJazz && song_.meter != Meter::k6_8;
  }

  void choose_voice() {
    Voice& v = song_.voice;
    v.gender = rng_.chance(0.5) ? "female" : "male";
    const bool high = rng_.chance(0.5);
    if (v.gender == "female") {
      v.register_ = high ? "soprano" : "alto";
      v.low_pitch = high ? 60 : 55;  // C4-G5 / G3-D5
      v.high_pitch = high ? 79 : 74;
    } else {
      v.register_ = high ? "tenor" : "baritone";
      v.low_pitch = high ? 48 : 45;  // C3-G4 / A2-E4
      v.high_pitch = high ? 67 : 64;
    }
  }

  void add_section(text::Section kind, int bars) {
    if (bars <= 0) return;
    SectionSpan s;
    s.tag.section = kind;
    s.tag.ordinal = ++ordinals_[static_cast<int>(kind)];
    s.first_bar = total_bars_;
    s.bars = bars;
    total_bars_ += bars;
    song_.sections.push_back(s);
  }

  void plan_form() {
    using text::Section;
    const double bar_s = grid_.bar_seconds();
    const int bars = std::max(2, static_cast<int>(std::lround(config_.seconds / bar_s)));
    if (bars < 4) {
      add_section(Section::kVerse, bars);
    } else if (bars < 12) {
      // Short songs: verse + chorus (an intro bar first when the count is odd).
      const int intro = bars % 2;
      add_section(Section::kIntro, intro);
      add_section(Section::kVerse, (bars - intro) / 2);
      add_section(Section::kChorus, (bars - intro) / 2);
    } else {
      const std::vector<std::pair<Section, int>> full = {
          {Section::kIntro, 2},  {Section::kVerse, 8},  {Section::kPrechorus, 4},
          {Section::kChorus, 8}, {Section::kVerse, 8},  {Section::kPrechorus, 4},
          {Section::kChorus, 8}, {Section::kBridge, 4}, {Section::kChorus, 8}};
      const int outro = bars >= 20 ? 2 : 0;
      for (const auto& [kind, n] : full) {
        if (total_bars_ + n > bars - outro) break;
        add_section(kind, n);
      }
      const int left = bars - total_bars_;
      if (left >= 2) {
        add_section(Section::kOutro, std::min(left, 4));
      }
      // Whatever is still left lengthens the last section.
      song_.sections.back().bars += bars - total_bars_;
      total_bars_ = bars;
    }
    for (auto& s : song_.sections) {
      s.start_s = s.first_bar * bar_s;
      s.end_s = (s.first_bar + s.bars) * bar_s;
    }
    song_.duration_s = total_bars_ * bar_s;
  }

  void plan_chords() {
    using text::Section;
    const auto pool = progressions(song_.style, song_.mode);
    const int a = rng_.uniform(0, static_cast<int>(pool.size()) - 1);
    int b = rng_.uniform(0, static_cast<int>(pool.size()) - 1);
    if (pool.size() > 1 && b == a) b = (a + 1) % static_cast<int>(pool.size());
    const int c = rng_.uniform(0, static_cast<int>(pool.size()) - 1);
    const ChordSpec home = home_chord(song_.style, song_.mode, pool);
    std::vector<ChordSpec> per_bar;
    for (const auto& s : song_.sections) {
      Progression prog;
      switch (s.tag.section) {
        case Section::kVerse:
          prog = pool[a];
          break;
        case Section::kChorus:
          prog = pool[b];
          break;
        case Section::kPrechorus:
          prog = pool[b];
          prog.erase(prog.begin(), prog.begin() + 2);
          break;
        case Section::kBridge:
          prog = pool[c];
          break;
        default:
          prog.assign(1, home);
      }
      for (int i = 0; i < s.bars; ++i) per_bar.push_back(prog[i % prog.size()]);
    }
    per_bar.back() = home;  // every song ends at home
    const double bar_s = grid_.bar_seconds();
    for (int bar = 0; bar < total_bars_; ++bar) {
      const ChordSpec& spec = per_bar[bar];
      BarChord c;
      c.bar = bar;
      c.start_s = bar * bar_s;
      c.root_pc = (song_.tonic_pc + spec.offset) % 12;
      c.quality = spec.quality;
      c.symbol = std::string(pitch_class_name(c.root_pc)) + symbol_suffix(c.quality);
      c.roman = roman(spec.offset, c.quality, song_.mode);
      // Root position, root in C3..B3.
      const int root = 48 + c.root_pc;
      for (int iv : detail::quality_intervals(c.quality)) c.pitches.push_back(root + iv);
      song_.chords.push_back(c);
    }
  }

  // The chord tones of a bar the melody may use: those in the mode's scale (a minor key's
  // major V lends its leading tone to the harmony only).
  std::vector<int> chord_pcs(int bar) const {
    std::vector<int> pcs;
    for (int p : song_.chords[bar].pitches) {
      if (in_scale(p)) pcs.push_back(p % 12);
    }
    return pcs;
  }

  bool in_scale(int pitch) const {
    const int rel = ((pitch - song_.tonic_pc) % 12 + 12) % 12;
    for (int iv : mode_intervals(song_.mode)) {
      if (iv == rel) return true;
    }
    return false;
  }

  // The scale pitches of the voice's range, low to high.
  std::vector<int> scale_pitches() const {
    std::vector<int> out;
    for (int p = song_.voice.low_pitch; p <= song_.voice.high_pitch; ++p) {
      if (in_scale(p)) out.push_back(p);
    }
    return out;
  }

  // The pitch of the voice's range nearest to `target` among those with a class in `pcs`.
  int nearest_with_pc(int target, const std::vector<int>& pcs) const {
    int best = -1;
    for (int p = song_.voice.low_pitch; p <= song_.voice.high_pitch; ++p) {
      if (std::find(pcs.begin(), pcs.end(), p % 12) == pcs.end()) continue;
      if (best < 0 || std::abs(p - target) < std::abs(best - target)) best = p;
    }
    if (best >= 0) return best;
    for (int p = song_.voice.low_pitch; p <= song_.voice.high_pitch; ++p) {
      if (in_scale(p) && (best < 0 || std::abs(p - target) < std::abs(best - target))) best = p;
    }
    return best;
  }

  struct Motif {
    std::vector<int> onsets;  // eighth-note slots from the phrase start
    int last_end = 0;         // slot where the last note ends
    std::vector<int> steps;   // scale steps from the previous note (first entry unused)
  };

  Motif make_motif(int slots) {
    Motif m;
    const int max_notes = std::min(10, slots - 2);
    const int n = rng_.uniform(5, std::max(5, max_notes));
    std::vector<int> candidates;
    std::vector<double> weights;
    for (int s = 1; s <= slots - 3; ++s) {
      if (slow() && !grid_.is_beat(s)) continue;  // slow songs sing on the beats
      candidates.push_back(s);
      weights.push_back(grid_.is_strong(s) ? 4.0 : grid_.is_beat(s) ? 2.5 : 1.0);
    }
    m.onsets.push_back(0);
    while (static_cast<int>(m.onsets.size()) < n && !candidates.empty()) {
      double total = 0;
      for (double w : weights) total += w;
      double r = rng_.real() * total;
      size_t k = 0;
      while (k + 1 < weights.size() && r >= weights[k]) r -= weights[k++];
      m.onsets.push_back(candidates[k]);
      candidates.erase(candidates.begin() + static_cast<long>(k));
      weights.erase(weights.begin() + static_cast<long>(k));
    }
    std::sort(m.onsets.begin(), m.onsets.end());
    m.last_end = std::min(m.onsets.back() + rng_.uniform(2, 4), slots - 1);
    static const std::vector<int> moves = {-2, -1, -1, -1, 0, 1, 1, 1, 2, 3, -3};
    m.steps.push_back(0);
    for (size_t i = 1; i < m.onsets.size(); ++i) m.steps.push_back(rng_.pick(moves));
    return m;
  }

  // A variant: same rhythm, a new ending.
  Motif vary(const Motif& m) {
    Motif v = m;
    static const std::vector<int> moves = {-2, -1, 1, 2};
    for (size_t i = std::max<size_t>(1, v.steps.size() - 2); i < v.steps.size(); ++i) {
      v.steps[i] = rng_.pick(moves);
    }
    return v;
  }

  void write_melody() {
    using text::Section;
    const int spb = grid_.slots_per_bar();
    const int phrase_bars =
        (song_.meter == Meter::k4_4 && grid_.bar_seconds() >= 2.4 && !slow()) ? 1 : 2;
    const int slots = phrase_bars * spb;
    const auto scale = scale_pitches();
    const int span = song_.voice.high_pitch - song_.voice.low_pitch;
    std::map<int, std::pair<Motif, Motif>> motifs;  // by section kind
    int previous = song_.voice.low_pitch + span / 2;
    for (size_t si = 0; si < song_.sections.size(); ++si) {
      const SectionSpan& sec = song_.sections[si];
      if (sec.tag.section == Section::kIntro || sec.tag.section == Section::kOutro) continue;
      const int kind = static_cast<int>(sec.tag.section);
      if (!motifs.count(kind)) {
        Motif a = make_motif(slots);
        motifs[kind] = {a, vary(a)};
      }
      // Verses sit low in the range, choruses high.
      const double centre_frac = sec.tag.section == Section::kChorus   ? 0.6
                                 : sec.tag.section == Section::kBridge ? 0.55
                                                                       : 0.4;
      const int centre = song_.voice.low_pitch + static_cast<int>(std::lround(centre_frac * span));
      const int phrases = sec.bars / phrase_bars;
      for (int pi = 0; pi < phrases; ++pi) {
        const Motif& m = pi % 2 == 0 ? motifs[kind].first : motifs[kind].second;
        const int bar0 = sec.first_bar + pi * phrase_bars;
        Phrase ph;
        ph.section_index = static_cast<int>(si);
        ph.first_note = static_cast<int>(song_.melody.size());
        int pitch = nearest_with_pc(pi == 0 ? centre : (previous + centre) / 2, chord_pcs(bar0));
        for (size_t k = 0; k < m.onsets.size(); ++k) {
          const int slot = m.onsets[k];
          const int bar = bar0 + slot / spb;
          if (k > 0) {
            // Move by scale steps from the previous note, turning back at the range's edges.
            auto it = std::lower_bound(scale.begin(), scale.end(), pitch);
            int idx = static_cast<int>(it - scale.begin()) + m.steps[k];
            if (idx < 0 || idx >= static_cast<int>(scale.size())) {
              idx = static_cast<int>(it - scale.begin()) - m.steps[k];
            }
            idx = std::clamp(idx, 0, static_cast<int>(scale.size()) - 1);
            pitch = scale[idx];
            if (grid_.is_strong(slot)) pitch = nearest_with_pc(pitch, chord_pcs(bar));
          }
          const bool last = k + 1 == m.onsets.size();
          const bool last_of_section = last && pi + 1 == phrases;
          if (last_of_section) {
            // Section endings come to rest on a chord tone; the song's last phrase on the tonic.
            const bool final_phrase = si + 1 == song_.sections.size() ||
                                      (si + 2 == song_.sections.size() &&
                                       song_.sections.back().tag.section == Section::kOutro);
            pitch = final_phrase ? nearest_with_pc(pitch, {song_.tonic_pc})
                                 : nearest_with_pc(pitch, chord_pcs(bar));
          }
          const int end_slot = last ? m.last_end : m.onsets[k + 1];
          Note n;
          n.start_s = grid_.time(bar0, slot);
          n.end_s = grid_.time(bar0, end_slot);
          n.pitch = pitch;
          n.velocity = clamp_velocity((grid_.is_strong(slot) ? 92 : 80) + rng_.uniform(-6, 6));
          song_.melody.push_back(n);
        }
        ph.note_count = static_cast<int>(m.onsets.size());
        ph.start_s = song_.melody[ph.first_note].start_s;
        ph.end_s = song_.melody.back().end_s;
        song_.phrases.push_back(ph);
        previous = pitch;
      }
    }
  }

  // --- accompaniment --------------------------------------------------------------------------

  Part make_part(const std::string& role, int program, int channel, float gain_db,
                 const std::string& stands_for) {
    Part p;
    p.role = role;
    p.program = program;
    p.channel = channel;
    p.name = gm_program_name(program);
    p.family = gm_family_name(program);
    p.gain_db = gain_db;
    p.stands_for = stands_for;
    return p;
  }

  void note(Part& p, int bar, double slot, double len_slots, int pitch, int velocity) {
    Note n;
    n.start_s = grid_.time(bar, slot);
    n.end_s = std::min(grid_.time(bar, slot + len_slots), song_.duration_s);
    n.pitch = pitch;
    n.velocity = clamp_velocity(velocity + rng_.uniform(-5, 5));
    if (n.end_s > n.start_s) p.notes.push_back(n);
  }

  void arrange() {
    int channel = 0;
    for (const PartChoice& choice : instrumentation(song_.style)) {
      if (!rng_.chance(choice.probability)) continue;
      const int program = rng_.pick(choice.programs);
      std::string stands = choice.stands_for;
      if (song_.style == Style::kChineseTraditional && stands.empty()) {
        stands = chinese_stand_in(program);
      }
      Part p = make_part(choice.role, program, channel++, choice.gain_db, stands);
      if (channel == 9) ++channel;
      const std::string role = choice.role;
      if (role == "bass") {
        play_bass(p);
      } else if (role == "melody_double") {
        play_double(p);
      } else if (role == "pad") {
        play_pad(p);
      } else if (role == "lead") {
        play_arpeggio(p, 12, 3);
      } else {
        play_chords(p);
      }
      song_.parts.push_back(std::move(p));
    }
    Kit kit = drum_kit(song_.style, rng_);
    Part drums;
    drums.role = "drums";
    drums.program = kit.preset;
    drums.channel = 9;
    drums.name = kit.name;
    drums.family = "drums";
    drums.gain_db = song_.style == Style::kChineseTraditional ? -6 : -4;
    if (song_.style == Style::kChineseTraditional) drums.stands_for = "Chinese percussion";
    play_drums(drums);
    song_.parts.push_back(std::move(drums));
  }

  bool last_bar(int bar) const { return bar + 1 == total_bars_; }

  void play_bass(Part& p) {
    const int spb = grid_.slots_per_bar();
    for (int bar = 0; bar < total_bars_; ++bar) {
      const BarChord& c = song_.chords[bar];
      const int root = 36 + c.root_pc;  // C2..B2
      const auto ivs = detail::quality_intervals(c.quality);
      // Root and octave: fifths in the bass would double the dominant's notes and pull key
      // estimates a fifth up.
      const int fifth = root + 12;
      if (last_bar(bar)) {
        note(p, bar, 0, spb, root, 90);
        continue;
      }
      const int next_root = 36 + song_.chords[std::min(bar + 1, total_bars_ - 1)].root_pc;
      if (song_.meter == Meter::k6_8) {
        if (song_.style == Style::kRock) {
          note(p, bar, 0, 2, root, 96), note(p, bar, 2, 1, root, 80);
          note(p, bar, 3, 2, fifth, 90), note(p, bar, 5, 1, fifth, 78);
        } else {
          note(p, bar, 0, 3, root, 94), note(p, bar, 3, 3, fifth, 84);
        }
        continue;
      }
      if (song_.meter == Meter::k3_4) {
        if (song_.style == Style::kJazz) {
          note(p, bar, 0, 2, root, 94), note(p, bar, 2, 2, root + ivs[1], 82);
          note(p, bar, 4, 2, fifth, 84);
        } else {
          note(p, bar, 0, 2, root, 96), note(p, bar, 4, 2, fifth, 80);
        }
        continue;
      }
      switch (song_.style) {
        case Style::kRock:
          for (int s = 0; s < 8; ++s) note(p, bar, s, 0.9, root, s % 2 == 0 ? 98 : 66);
          break;
        case Style::kElectronicDance:
          for (int s = 0; s < 8; s += 2) note(p, bar, s, 1.6, s == 4 ? root + 12 : root, 100);
          break;
        case Style::kJazz: {
          // Walking quarters: root, third, fifth, a semitone approach to the next root.
          const int approach = next_root + (rng_.chance(0.5) ? 1 : -1);
          const int walk[] = {root, root + ivs[1], root + ivs[std::min<size_t>(2, ivs.size() - 1)],
                              approach};
          for (int b = 0; b < 4; ++b) note(p, bar, 2 * b, 1.8, walk[b], b == 0 ? 96 : 86);
          break;
        }
        case Style::kBallad:
        case Style::kChineseTraditional:
          note(p, bar, 0, 4, root, 94), note(p, bar, 4, 4, fifth, 82);
          break;
        default:
          note(p, bar, 0, 3, root, 94), note(p, bar, 4, 2, fifth, 84);
          note(p, bar, 6, 2, root, 80);
      }
    }
  }

  void play_double(Part& p) {
    // The instrument doubles the sung melody, an octave up for low voices.
    const int shift = song_.voice.high_pitch < 70 ? 12 : 0;
    for (const Note& m : song_.melody) {
      Note n = m;
      n.pitch += shift;
      n.end_s = std::max(n.start_s + 0.05, n.end_s - 0.02);
      p.notes.push_back(n);
    }
  }

  void play_pad(Part& p) {
    const int spb = grid_.slots_per_bar();
    for (int bar = 0; bar < total_bars_; ++bar) {
      for (int pitch : song_.chords[bar].pitches) note(p, bar, 0, spb, pitch + 12, 70);
    }
  }

  // Broken chords in eighths: chord tones up (and back down), `octave` above the voicing.
  void play_arpeggio(Part& p, int octave, int offset) {
    const int spb = grid_.slots_per_bar();
    for (int bar = 0; bar < total_bars_; ++bar) {
      const auto& v = song_.chords[bar].pitches;
      std::vector<int> seq(v.begin(), v.end());
      seq.push_back(v.front() + 12);
      for (int k = static_cast<int>(v.size()) - 1; k > 0; --k) seq.push_back(v[k]);
      if (last_bar(bar)) {
        for (int pitch : v) note(p, bar, 0, spb, pitch + octave, 84);
        continue;
      }
      const int step = slow() ? 2 : 1;
      for (int s = 0, i = 0; s < spb; s += step, ++i) {
        note(p, bar, s, 1.6 * step, seq[(i + offset) % seq.size()] + octave,
             grid_.is_beat(s) ? 86 : 70);
      }
    }
  }

  void play_chords(Part& p) {
    const int spb = grid_.slots_per_bar();
    const bool folk_like = song_.style == Style::kFolk;
    for (int bar = 0; bar < total_bars_; ++bar) {
      const BarChord& c = song_.chords[bar];
      const auto& v = c.pitches;
      auto block = [&](double slot, double len, int vel) {
        for (size_t k = 0; k < v.size(); ++k) {
          // A strum spreads the notes by 12 ms each (as a fraction of a slot).
          const double spread = folk_like ? k * 0.012 / grid_.eighth() : 0.0;
          note(p, bar, slot + spread, len - spread, v[k] + 12, vel);
        }
      };
      if (last_bar(bar)) {
        block(0, spb, 84);
        continue;
      }
      if (song_.style == Style::kRock) {
        // Low barre chords (root, fifth, octave, tenth) on the beats.
        const int root = 52 + ((c.root_pc - 4 + 12) % 12);  // E3..D#4
        const int third = detail::quality_intervals(c.quality)[1];
        const int step = song_.meter == Meter::k6_8 ? 3 : 2;
        for (int s = 0; s < spb; s += step) {
          for (int iv : {0, 7, 12, 12 + third}) {
            note(p, bar, s, step * 0.9, root + iv, s == 0 ? 100 : 88);
          }
        }
        continue;
      }
      if (song_.style == Style::kChineseTraditional || song_.meter == Meter::k6_8) {
        play_arpeggio_bar(p, bar, 12);
        continue;
      }
      if (song_.meter == Meter::k3_4) {
        note(p, bar, 0, 2, v.front(), 88);  // oom-pah-pah: a low note, then two chords
        block(2, 1.8, 74);
        block(4, 1.8, 74);
        continue;
      }
      switch (song_.style) {
        case Style::kBallad:
          play_arpeggio_bar(p, bar, 12);
          break;
        case Style::kJazz:
          block(0, 2.5, 84);  // Charleston: on one and on the and of two
          block(3, 2, 76);
          break;
        case Style::kElectronicDance:
          block(2, 1.5, 80), block(6, 1.5, 80);  // stabs on two and four
          break;
        default: {
          const std::vector<int> strum =
              slow() ? std::vector<int>{0, 2, 4, 6} : std::vector<int>{0, 2, 3, 5, 6, 7};
          for (int s : strum) block(s, s == 0 || slow() ? 2 : 1, grid_.is_beat(s) ? 88 : 70);
        }
      }
    }
  }

  void play_arpeggio_bar(Part& p, int bar, int octave) {
    const auto& v = song_.chords[bar].pitches;
    std::vector<int> seq(v.begin(), v.end());
    seq.push_back(v.front() + 12);
    for (int k = static_cast<int>(v.size()) - 1; k > 0; --k) seq.push_back(v[k]);
    const int step = slow() ? 2 : 1;
    for (int s = 0, i = 0; s < grid_.slots_per_bar(); s += step, ++i) {
      note(p, bar, s, 1.8 * step, seq[i % seq.size()] + octave, grid_.is_beat(s) ? 88 : 72);
    }
  }

  // Below 90 beats a minute the accompaniment moves in beats, not eighths: eighths as loud as
  // the beats make a slow song sound (and estimate) twice as fast.
  bool slow() const { return song_.meter != Meter::k6_8 && beat_bpm(song_) < 90; }

  void play_drums(Part& p) {
    enum : int {
      kKick = 36,
      kSide = 37,
      kSnare = 38,
      kClap = 39,
      kClosed = 42,
      kPedal = 44,
      kLowTom = 45,
      kOpen = 46,
      kCrash = 49,
      kRide = 51,
      kShaker = 70,
      kBlockHi = 76,
      kBlockLo = 77
    };
    const int spb = grid_.slots_per_bar();
    const Style st = song_.style;
    for (int bar = 0; bar < total_bars_; ++bar) {
      for (const auto& s : song_.sections) {
        if (s.first_bar == bar && bar > 0 && st != Style::kJazz) note(p, bar, 0, 2, kCrash, 80);
      }
      if (last_bar(bar)) {
        note(p, bar, 0, 2, st == Style::kChineseTraditional ? kLowTom : kKick, 96);
        if (st != Style::kChineseTraditional) note(p, bar, 0, 2, kCrash, 90);
        continue;
      }
      if (st == Style::kChineseTraditional) {
        note(p, bar, 0, 1, kLowTom, 100);
        for (int s = 0; s < spb; ++s) {
          if (grid_.is_beat(s)) note(p, bar, s, 1, s == 0 ? kBlockLo : kBlockHi, 84);
        }
        continue;
      }
      if (song_.meter == Meter::k6_8) {
        note(p, bar, 0, 1, kKick, 104);
        note(p, bar, 3, 1, st == Style::kRock ? kSnare : kSide, 92);
        for (int s = 0; s < 6; ++s) note(p, bar, s, 1, kClosed, s % 3 == 0 ? 70 : 44);
        continue;
      }
      if (song_.meter == Meter::k3_4) {
        note(p, bar, 0, 1, kKick, 104);
        if (st == Style::kJazz) {
          for (double s : {0.0, 2.0, 3.0, 4.0}) note(p, bar, s, 1, kRide, s == 3.0 ? 56 : 76);
          note(p, bar, 2, 1, kPedal, 60), note(p, bar, 4, 1, kPedal, 60);
        } else {
          note(p, bar, 2, 1, kSide, 76), note(p, bar, 4, 1, kSide, 76);
          for (int s = 0; s < 6; s += 2) note(p, bar, s, 1, kClosed, 56);
        }
        continue;
      }
      switch (st) {
        case Style::kRock:
          note(p, bar, 0, 1, kKick, 108), note(p, bar, 4, 1, kKick, 104);
          note(p, bar, 2, 1, kSnare, 104), note(p, bar, 6, 1, kSnare, 104);
          for (int s = 0; s < 8; ++s) note(p, bar, s, 1, kClosed, s % 2 == 0 ? 76 : 52);
          break;
        case Style::kElectronicDance:
          for (int s = 0; s < 8; s += 2) note(p, bar, s, 1, kKick, 112);  // four on the floor
          note(p, bar, 2, 1, kClap, 96), note(p, bar, 6, 1, kClap, 96);
          for (int s = 1; s < 8; s += 2) note(p, bar, s, 1, kOpen, 40);
          break;
        case Style::kJazz:
          for (double s : {0.0, 2.0, 3.0, 4.0, 6.0, 7.0}) {
            note(p, bar, s, 1, kRide, (s == 3.0 || s == 7.0) ? 58 : 80);  // swung ride
          }
          note(p, bar, 2, 1, kPedal, 66), note(p, bar, 6, 1, kPedal, 66);
          note(p, bar, 0, 1, kKick, 64), note(p, bar, 4, 1, kKick, 60);
          break;
        case Style::kFolk:
          note(p, bar, 0, 1, kKick, 100), note(p, bar, 4, 1, kKick, 96);
          note(p, bar, 2, 1, kSide, 84), note(p, bar, 6, 1, kSide, 84);
          for (int s = 0; s < 8; s += slow() ? 2 : 1) {
            note(p, bar, s, 1, kShaker, s % 2 == 0 ? 62 : 40);
          }
          break;
        default:  // ballad: beats only on the hi-hat, so the eighths never outvote the beat
          note(p, bar, 0, 1, kKick, 100), note(p, bar, 4, 1, kKick, 92);
          note(p, bar, 2, 1, kSide, 84), note(p, bar, 6, 1, kSide, 84);
          for (int s = 0; s < 8; s += 2) note(p, bar, s, 1, kClosed, 54);
      }
    }
  }

  const SynthConfig& config_;
  Rng rng_;
  SongLabels song_;
  Grid grid_;
  int total_bars_ = 0;
  std::map<int, int> ordinals_;
};

}  // namespace

SongLabels compose_song(const SynthConfig& config, const std::string& id, uint64_t seed) {
  return Composer(config, id, seed).run();
}

}  // namespace mudit::data::synth
