// The musical plan: its tensor layout, the one function that builds the tensor, and the reading
// back; beat grids, chord symbols and keys.
#include "mudit/generation/plan.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "mudit/core/error.h"

namespace mudit::generation {

namespace {

constexpr double kTwoPi = 6.283185307179586;

// Pitch class of a note letter and its accidentals at s[pos...]; advances pos. -1 when s[pos] is
// no note letter.
int read_pitch_class(const std::string& s, size_t& pos) {
  static const std::map<char, int> kLetters = {{'C', 0}, {'D', 2}, {'E', 4}, {'F', 5},
                                               {'G', 7}, {'A', 9}, {'B', 11}};
  if (pos >= s.size()) return -1;
  const auto it =
      kLetters.find(static_cast<char>(std::toupper(static_cast<unsigned char>(s[pos]))));
  if (it == kLetters.end()) return -1;
  int pc = it->second;
  ++pos;
  while (pos < s.size()) {
    if (s[pos] == '#') {
      ++pc;
    } else if (s[pos] == 'b') {
      --pc;
    } else if (s.compare(pos, 3, "♯") == 0 || s.compare(pos, 3, "♭") == 0) {
      pc += s.compare(pos, 3, "♯") == 0 ? 1 : -1;
      pos += 2;
    } else {
      break;
    }
    ++pos;
  }
  return (pc % 12 + 12) % 12;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Fractional beat index at `time`: interpolated between beats, extrapolated at the ends with
// the neighbouring interval.
double beat_position(const std::vector<double>& beats, double time) {
  if (beats.size() == 1) return time - beats[0];  // one beat: a second per beat (no tempo)
  const auto it = std::upper_bound(beats.begin(), beats.end(), time);
  size_t i = static_cast<size_t>(it - beats.begin());
  i = std::clamp<size_t>(i, 1, beats.size() - 1);  // the interval [i - 1, i]
  const double a = beats[i - 1], b = beats[i];
  return static_cast<double>(i - 1) + (time - a) / (b - a);
}

double wrap01(double x) {
  return x - std::floor(x);
}

// Chord qualities by their spelling: the canonical ones first (chord_symbol() names a chord
// by the first quality with its tones), then aliases.
const std::vector<std::pair<std::string, std::vector<int>>>& quality_table() {
  static const std::vector<std::pair<std::string, std::vector<int>>> kTable = {
      {"", {0, 4, 7}},
      {"m", {0, 3, 7}},
      {"dim", {0, 3, 6}},
      {"aug", {0, 4, 8}},
      {"sus2", {0, 2, 7}},
      {"sus4", {0, 5, 7}},
      {"5", {0, 7}},
      {"6", {0, 4, 7, 9}},
      {"m6", {0, 3, 7, 9}},
      {"7", {0, 4, 7, 10}},
      {"maj7", {0, 4, 7, 11}},
      {"m7", {0, 3, 7, 10}},
      {"m7b5", {0, 3, 6, 10}},
      {"dim7", {0, 3, 6, 9}},
      {"9", {0, 2, 4, 7, 10}},
      {"add9", {0, 2, 4, 7}},
      {"7sus4", {0, 5, 7, 10}},
      {"mmaj7", {0, 3, 7, 11}},
      {"maj9", {0, 2, 4, 7, 11}},
      {"m9", {0, 2, 3, 7, 10}},
      {"m7(no5)", {0, 3, 10}},
      {"7(no5)", {0, 4, 10}},
      {"maj7(no5)", {0, 4, 11}},
      {"maj", {0, 4, 7}},
      {"M", {0, 4, 7}},
      {"min", {0, 3, 7}},
      {"-", {0, 3, 7}},
      {"o", {0, 3, 6}},
      {"+", {0, 4, 8}},
      {"sus", {0, 5, 7}},
      {"M7", {0, 4, 7, 11}},
      {"min7", {0, 3, 7, 10}},
      {"min7(no5)", {0, 3, 10}}};
  return kTable;
}

const std::map<std::string, std::vector<int>>& qualities() {
  static const std::map<std::string, std::vector<int>> kMap(quality_table().begin(),
                                                            quality_table().end());
  return kMap;
}

const char* const kPitchNames[] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

}  // namespace

const char* plan_group_name(PlanGroup group) {
  switch (group) {
    case PlanGroup::kBeats:
      return "beats";
    case PlanGroup::kChords:
      return "chords";
    case PlanGroup::kKey:
      return "key";
  }
  return "?";
}

std::string PlanKey::name() const {
  return std::string(kPitchNames[(tonic % 12 + 12) % 12]) + (minor ? " minor" : " major");
}

bool MusicalPlan::has(PlanGroup g) const {
  switch (g) {
    case PlanGroup::kBeats:
      return has_beats();
    case PlanGroup::kChords:
      return has_chords();
    case PlanGroup::kKey:
      return has_key;
  }
  return false;
}

bool MusicalPlan::is_downbeat(size_t beat) const {
  const long k = static_cast<long>(beat) - first_downbeat;
  const long bar = std::max(beats_per_bar, 1);
  return ((k % bar) + bar) % bar == 0;
}

const PlanChord* MusicalPlan::chord_at(double time) const {
  if (chords.empty() || time < chords.front().start || time >= chords_end) return nullptr;
  const auto it = std::upper_bound(chords.begin(), chords.end(), time,
                                   [](double t, const PlanChord& c) { return t < c.start; });
  return &*(it - 1);
}

std::pair<int64_t, int64_t> PlanLayout::columns(PlanGroup g) const {
  switch (g) {
    case PlanGroup::kBeats:
      return {beat_begin(), chord_tones()};
    case PlanGroup::kChords:
      return {chord_tones(), key_tonic()};
    case PlanGroup::kKey:
      return {key_tonic(), presence()};
  }
  return {0, 0};
}

at::Tensor PlanLayout::group_mask(PlanGroup g) const {
  at::Tensor m = at::zeros({dim()}, at::TensorOptions().dtype(at::kBool));
  const auto [b, e] = columns(g);
  m.slice(0, b, e).fill_(true);
  m[presence() + static_cast<int64_t>(g)] = true;
  return m;
}

at::Tensor plan_tensor(const MusicalPlan& plan, int64_t frames, double latent_rate,
                       const PlanLayout& layout) {
  MUDIT_CHECK(frames >= 0 && latent_rate > 0 && layout.slots >= 1, ConfigError,
              "plan: frames >= 0, a positive latent rate and at least one slot, got ", frames,
              " frames at ", latent_rate, " /s with ", layout.slots, " slots");
  const int64_t S = layout.slots, F = layout.dim();
  std::vector<float> out(static_cast<size_t>(frames * F), 0.0f);
  auto at_ = [&](int64_t i, int64_t c) -> float& { return out[static_cast<size_t>(i * F + c)]; };
  const double frame_s = 1.0 / latent_rate;

  if (plan.has_beats()) {
    const std::vector<double>& beats = plan.beats;
    double period = 60.0 / std::max(plan.bpm, 1e-6);
    if (beats.size() > 1) period = (beats.back() - beats.front()) / (beats.size() - 1);
    const double from = beats.front() - period / 2, to = beats.back() + period / 2;
    const double log_tempo = plan.bpm > 0 ? std::log2(plan.bpm / kTempoReference) : 0.0;
    const int bar = std::max(plan.beats_per_bar, 1);
    for (int64_t i = 0; i < frames; ++i) {
      const double centre = (static_cast<double>(i) + 0.5) * frame_s;
      if (centre < from || centre > to) continue;
      // Slot activations: bumps of the beats near this frame.
      for (int64_t j = 0; j < S; ++j) {
        const double t = (static_cast<double>(i) + (j + 0.5) / S) * frame_s;
        const auto lo = std::lower_bound(beats.begin(), beats.end(), t - 5 * kBeatSigma);
        for (auto it = lo; it != beats.end() && *it <= t + 5 * kBeatSigma; ++it) {
          const double d = (t - *it) / kBeatSigma;
          const float v = static_cast<float>(std::exp(-0.5 * d * d));
          at_(i, layout.beat_begin() + j) = std::max(at_(i, layout.beat_begin() + j), v);
          if (plan.is_downbeat(static_cast<size_t>(it - beats.begin())))
            at_(i, layout.downbeat_begin() + j) = std::max(at_(i, layout.downbeat_begin() + j), v);
        }
      }
      const double pos = beat_position(beats, centre);
      const double bar_pos = (pos - plan.first_downbeat) / bar;
      at_(i, layout.beat_phase()) = static_cast<float>(std::sin(kTwoPi * wrap01(pos)));
      at_(i, layout.beat_phase() + 1) = static_cast<float>(std::cos(kTwoPi * wrap01(pos)));
      at_(i, layout.bar_phase()) = static_cast<float>(std::sin(kTwoPi * wrap01(bar_pos)));
      at_(i, layout.bar_phase() + 1) = static_cast<float>(std::cos(kTwoPi * wrap01(bar_pos)));
      at_(i, layout.log_tempo()) = static_cast<float>(log_tempo);
      at_(i, layout.presence() + 0) = 1.0f;
    }
  }
  if (plan.has_chords()) {
    for (int64_t i = 0; i < frames; ++i) {
      const PlanChord* c = plan.chord_at((static_cast<double>(i) + 0.5) * frame_s);
      if (!c) continue;
      for (int pc = 0; pc < 12; ++pc)
        if (c->root >= 0 && c->tones[static_cast<size_t>(pc)])
          at_(i, layout.chord_tones() + pc) = 1;
      at_(i, layout.chord_root() + (c->root >= 0 ? c->root : 12)) = 1;
      at_(i, layout.presence() + 1) = 1.0f;
    }
  }
  if (plan.has_key) {
    for (int64_t i = 0; i < frames; ++i) {
      at_(i, layout.key_tonic() + (plan.key.tonic % 12 + 12) % 12) = 1;
      at_(i, layout.key_minor()) = plan.key.minor ? 1.0f : 0.0f;
      at_(i, layout.presence() + 2) = 1.0f;
    }
  }
  return at::tensor(out, at::TensorOptions().dtype(at::kFloat)).reshape({frames, F});  // [T, F]
}

MusicalPlan decode_plan(const at::Tensor& tensor, double latent_rate, const PlanLayout& layout) {
  MUDIT_CHECK(tensor.dim() == 2 && tensor.size(1) == layout.dim(), ShapeError,
              "plan: expected [T, ", layout.dim(), "] for ", layout.slots, " slots, got ",
              tensor.sizes());
  MUDIT_CHECK(latent_rate > 0, ConfigError, "plan: the latent rate must be positive");
  const at::Tensor p = tensor.to(at::kDouble).contiguous().cpu();
  const int64_t T = p.size(0), S = layout.slots, F = layout.dim();
  const double* d = p.data_ptr<double>();
  auto v = [&](int64_t i, int64_t c) { return d[i * F + c]; };
  const double frame_s = 1.0 / latent_rate;
  MusicalPlan plan;
  plan.duration = static_cast<double>(T) * frame_s;

  // Beats: peaks of the slot sequence, in present frames.
  auto peaks = [&](int64_t begin) {
    std::vector<double> times;
    const int64_t n = T * S;
    auto a = [&](int64_t k) -> double {
      if (k < 0 || k >= n) return 0.0;
      const int64_t i = k / S;
      return v(i, layout.presence()) > 0.5 ? v(i, begin + k % S) : 0.0;
    };
    for (int64_t k = 0; k < n; ++k) {
      const double c = a(k), l = a(k - 1), r = a(k + 1);
      if (c <= 0.5 || c < l || c <= r) continue;
      // A Gaussian is a parabola in log: its vertex is the beat. Where a neighbour is missing
      // (the song's first or last slot, a frame without beats), the known width gives the
      // vertex from the peak and its other neighbour.
      const int64_t i = k / S, j = k % S;
      const double h = frame_s / static_cast<double>(S), s2 = kBeatSigma * kBeatSigma;
      double off = 0.0;  // in slots
      if (l > 1e-9 && r > 1e-9) {
        const double ll = std::log(l), lc = std::log(c), lr = std::log(r);
        const double den = ll - 2 * lc + lr;
        if (den < 0) off = 0.5 * (ll - lr) / den;
      } else if (r > 1e-9) {
        off = -(2 * s2 * (std::log(c) - std::log(r)) - h * h) / (2 * h) / h;
      } else if (l > 1e-9) {
        off = -(h * h - 2 * s2 * (std::log(c) - std::log(l))) / (2 * h) / h;
      }
      off = std::clamp(off, -1.0, 1.0);
      times.push_back((static_cast<double>(i) + (static_cast<double>(j) + 0.5 + off) / S) *
                      frame_s);
    }
    return times;
  };
  plan.beats = peaks(layout.beat_begin());
  if (!plan.beats.empty()) {
    std::vector<double> tempi;
    for (int64_t i = 0; i < T; ++i)
      if (v(i, layout.presence()) > 0.5) tempi.push_back(v(i, layout.log_tempo()));
    std::nth_element(tempi.begin(), tempi.begin() + tempi.size() / 2, tempi.end());
    plan.bpm = kTempoReference * std::exp2(tempi[tempi.size() / 2]);
    const std::vector<double> downbeats = peaks(layout.downbeat_begin());
    // Beats per bar: the median count of beats between downbeats; the first downbeat's index.
    if (!downbeats.empty()) {
      const double tol = 0.25 * 60.0 / std::max(plan.bpm, 1e-6);
      std::vector<int> idx;
      for (double t : downbeats) {
        const auto it = std::lower_bound(plan.beats.begin(), plan.beats.end(), t - tol);
        if (it != plan.beats.end() && std::abs(*it - t) <= tol)
          idx.push_back(static_cast<int>(it - plan.beats.begin()));
      }
      if (!idx.empty()) plan.first_downbeat = idx.front();
      if (idx.size() > 1) {
        std::vector<int> gaps;
        for (size_t k = 1; k < idx.size(); ++k) gaps.push_back(idx[k] - idx[k - 1]);
        std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
        plan.beats_per_bar = gaps[gaps.size() / 2];
      }
    }
  }

  // Chords: runs of frames with the same root and tones.
  for (int64_t i = 0; i < T; ++i) {
    if (v(i, layout.presence() + 1) <= 0.5) continue;
    PlanChord c;
    c.start = static_cast<double>(i) * frame_s;
    int64_t best = 0;
    for (int64_t r = 1; r < 13; ++r)
      if (v(i, layout.chord_root() + r) > v(i, layout.chord_root() + best)) best = r;
    c.root = best == 12 ? -1 : static_cast<int>(best);
    for (int pc = 0; pc < 12; ++pc)
      c.tones[static_cast<size_t>(pc)] = v(i, layout.chord_tones() + pc) > 0.5;
    const bool same = !plan.chords.empty() && plan.chords.back().root == c.root &&
                      plan.chords.back().tones == c.tones &&
                      std::abs(plan.chords_end - c.start) < 1e-9;
    if (!same) {
      c.symbol = chord_symbol(c);
      plan.chords.push_back(c);
    }
    plan.chords_end = static_cast<double>(i + 1) * frame_s;
  }

  // Key: the most frequent tonic and mode over the present frames.
  std::array<int, 24> votes{};
  for (int64_t i = 0; i < T; ++i) {
    if (v(i, layout.presence() + 2) <= 0.5) continue;
    int64_t tonic = 0;
    for (int64_t k = 1; k < 12; ++k)
      if (v(i, layout.key_tonic() + k) > v(i, layout.key_tonic() + tonic)) tonic = k;
    ++votes[static_cast<size_t>(tonic + (v(i, layout.key_minor()) > 0.5 ? 12 : 0))];
  }
  const auto best = std::max_element(votes.begin(), votes.end());
  if (*best > 0) {
    plan.has_key = true;
    const int k = static_cast<int>(best - votes.begin());
    plan.key = {k % 12, k >= 12};
  }
  return plan;
}

at::Tensor drop_plan_groups(const at::Tensor& plan, const at::Tensor& keep,
                            const PlanLayout& layout) {
  MUDIT_CHECK(plan.dim() == 3 && plan.size(2) == layout.dim() && keep.dim() == 2 &&
                  keep.size(0) == plan.size(0) && keep.size(1) == kPlanGroups,
              ShapeError, "plan: drop_plan_groups takes [B, T, ", layout.dim(), "] and [B, ",
              kPlanGroups, "], got ", plan.sizes(), " and ", keep.sizes());
  at::Tensor factor = at::ones({plan.size(0), layout.dim()}, plan.options());  // [B, F]
  for (int g = 0; g < kPlanGroups; ++g) {
    const at::Tensor cols = layout.group_mask(static_cast<PlanGroup>(g)).to(plan.device());  // [F]
    const at::Tensor dropped = keep.select(1, g).to(at::kBool).logical_not().to(plan.device());
    factor = at::where(dropped.unsqueeze(1) & cols.unsqueeze(0), at::zeros_like(factor), factor);
  }
  return plan * factor.unsqueeze(1);  // [B, T, F]
}

at::Tensor transpose_plan(const at::Tensor& plan, int semitones, const PlanLayout& layout) {
  MUDIT_CHECK(plan.size(-1) == layout.dim(), ShapeError, "plan: expected ", layout.dim(),
              " features, got ", plan.sizes());
  at::Tensor out = plan.clone();
  for (int64_t begin : {layout.chord_tones(), layout.chord_root(), layout.key_tonic()})
    out.narrow(-1, begin, 12).copy_(at::roll(plan.narrow(-1, begin, 12), {semitones}, {-1}));
  return out;
}

at::Tensor shift_plan_beats(const at::Tensor& plan, double latent_rate, const PlanLayout& layout) {
  MUDIT_CHECK(plan.dim() == 3 && plan.size(2) == layout.dim(), ShapeError,
              "plan: shift_plan_beats takes [B, T, ", layout.dim(), "], got ", plan.sizes());
  const int64_t B = plan.size(0), T = plan.size(1), S = layout.slots;
  at::Tensor out = plan.clone();
  for (int64_t b = 0; b < B; ++b) {
    const at::Tensor song = plan[b];                                       // [T, F]
    const at::Tensor present = song.select(1, layout.presence()).gt(0.5);  // [T]
    const int64_t n = present.sum().item<int64_t>();
    if (n == 0) continue;
    const double log_tempo =
        song.select(1, layout.log_tempo()).masked_select(present).median().item<double>();
    const double bpm = kTempoReference * std::exp2(log_tempo);
    const int64_t shift = std::llround(30.0 / bpm * latent_rate * static_cast<double>(S));
    for (int64_t begin : {layout.beat_begin(), layout.downbeat_begin()}) {
      const at::Tensor seq = song.narrow(1, begin, S).reshape({T * S});  // [T S]
      at::Tensor moved = at::zeros_like(seq);
      if (shift < T * S)
        moved.narrow(0, shift, T * S - shift).copy_(seq.narrow(0, 0, T * S - shift));
      out[b].narrow(1, begin, S).copy_(moved.reshape({T, S}) * present.unsqueeze(1));
    }
    const double beats = song.narrow(1, layout.beat_begin(), S).sum().item<double>();
    const double downs = song.narrow(1, layout.downbeat_begin(), S).sum().item<double>();
    const double per_bar = downs > 0 ? std::max(1.0, std::round(beats / downs)) : 4.0;
    auto rotate = [&](int64_t col, double turn) {  // (sin a, cos a) -> (sin(a + d), cos(a + d))
      const at::Tensor s0 = song.select(1, col), c0 = song.select(1, col + 1);
      const double d = kTwoPi * turn;
      out[b].select(1, col).copy_(s0 * std::cos(d) + c0 * std::sin(d));
      out[b].select(1, col + 1).copy_(c0 * std::cos(d) - s0 * std::sin(d));
    };
    rotate(layout.beat_phase(), -0.5);  // later beats: the phase at a given time is behind
    rotate(layout.bar_phase(), -0.5 / per_bar);
  }
  return out;
}

void set_beat_grid(MusicalPlan& plan, double bpm, int beats_per_bar, double first_beat) {
  MUDIT_CHECK(bpm > 0 && std::isfinite(bpm) && beats_per_bar >= 1 && first_beat >= 0, ConfigError,
              "plan: a beat grid needs a positive tempo and beats per bar, got ", bpm, " BPM, ",
              beats_per_bar, " beats per bar");
  plan.bpm = bpm;
  plan.beats_per_bar = beats_per_bar;
  plan.first_downbeat = 0;
  plan.beats.clear();
  const double period = 60.0 / bpm;
  for (int64_t k = 0;; ++k) {
    const double t = first_beat + static_cast<double>(k) * period;
    if (t >= plan.duration) break;
    plan.beats.push_back(t);
  }
}

void set_chords_per_bar(MusicalPlan& plan, const std::vector<std::string>& symbols) {
  MUDIT_CHECK(plan.has_beats(), ConfigError, "plan: chords per bar need the beats (a tempo)");
  MUDIT_CHECK(!symbols.empty(), DataError, "plan: 'chords' is empty");
  std::vector<PlanChord> parsed;
  for (const std::string& s : symbols) parsed.push_back(parse_chord(s));
  plan.chords.clear();
  size_t bar = 0;
  for (size_t b = 0; b < plan.beats.size(); ++b) {
    if (!plan.is_downbeat(b)) continue;
    PlanChord c = parsed[bar++ % parsed.size()];
    c.start = plan.beats[b];
    plan.chords.push_back(c);
  }
  plan.chords_end = plan.duration;
}

std::vector<std::string> key_progression(const PlanKey& key) {
  struct Degree {
    int offset;
    const char* quality;
  };
  static const Degree kMajor[] = {{0, ""}, {7, ""}, {9, "m"}, {5, ""}};   // I V vi IV
  static const Degree kMinor[] = {{0, "m"}, {8, ""}, {3, ""}, {10, ""}};  // i VI III VII
  // Spelt as the key signature spells them: flats in F, Bb, Eb, Ab major and their relative
  // minors (and Bb, Eb minor), sharps elsewhere ("Fm Db Ab Eb", "Em C G D").
  static const char* const kSharps[] = {"C",  "C#", "D",  "D#", "E",  "F",
                                        "F#", "G",  "G#", "A",  "A#", "B"};
  static const char* const kFlats[] = {"C",  "Db", "D",  "Eb", "E",  "F",
                                       "Gb", "G",  "Ab", "A",  "Bb", "B"};
  const int tonic = (key.tonic % 12 + 12) % 12;
  const int major_tonic = key.minor ? (tonic + 3) % 12 : tonic;  // the relative major
  const bool flats = major_tonic == 5 || major_tonic == 10 || major_tonic == 3 ||
                     major_tonic == 8 || (key.minor && (tonic == 10 || tonic == 3));
  std::vector<std::string> symbols;
  for (const Degree& d : key.minor ? kMinor : kMajor)
    symbols.push_back(std::string((flats ? kFlats : kSharps)[(tonic + d.offset) % 12]) + d.quality);
  return symbols;
}

std::string chord_symbol(const PlanChord& chord) {
  if (chord.root < 0) return "N";
  const std::string root = kPitchNames[chord.root % 12];
  for (const auto& [name, intervals] : quality_table()) {
    std::array<bool, 12> tones{};
    for (int iv : intervals) tones[static_cast<size_t>((chord.root + iv) % 12)] = true;
    if (tones == chord.tones) return root + name;
  }
  std::string out = root + "(";
  for (int i = 1; i < 12; ++i)
    if (chord.tones[static_cast<size_t>((chord.root + i) % 12)]) out += "+" + std::to_string(i);
  return out + ")";
}

PlanChord parse_chord(const std::string& symbol_in) {
  const std::string symbol = trim(symbol_in);
  PlanChord c;
  c.symbol = symbol;
  if (symbol == "N" || symbol == "NC" || symbol == "N.C.") {
    c.symbol = "N";
    return c;
  }
  size_t pos = 0;
  MUDIT_CHECK(!symbol.empty() && std::isupper(static_cast<unsigned char>(symbol[0])), DataError,
              "unknown chord symbol '", symbol, "' (a root C..B, then a quality: Am7, F#, Bbmaj7)");
  const int root = read_pitch_class(symbol, pos);
  MUDIT_CHECK(root >= 0, DataError, "unknown chord symbol '", symbol,
              "' (a root C..B, then a quality: Am7, F#, Bbmaj7)");
  std::string quality = symbol.substr(pos);
  int bass = -1;
  if (const size_t slash = quality.find('/'); slash != std::string::npos) {
    size_t bpos = 0;
    const std::string b = quality.substr(slash + 1);
    bass = read_pitch_class(b, bpos);
    MUDIT_CHECK(bass >= 0 && bpos == b.size(), DataError, "unknown bass note in chord symbol '",
                symbol, "'");
    quality = quality.substr(0, slash);
  }
  c.root = root;
  c.tones[static_cast<size_t>(root)] = true;
  if (quality == "()") {
    // The root alone, as chord_symbol() spells it.
  } else if (quality.size() > 2 && quality.front() == '(' && quality[1] == '+' &&
             quality.back() == ')') {
    // The spelling chord_symbol() gives a chord no quality names: its tones as semitones above
    // the root, "C(+3+10)".
    size_t at = 1;
    while (at + 1 < quality.size()) {
      size_t digits = at + 1;
      while (digits + 1 < quality.size() &&
             std::isdigit(static_cast<unsigned char>(quality[digits])))
        ++digits;
      const std::string n = quality.substr(at + 1, digits - at - 1);
      MUDIT_CHECK(quality[at] == '+' && !n.empty() && n.size() <= 2 && std::stoi(n) >= 1 &&
                      std::stoi(n) <= 11,
                  DataError, "unknown chord quality '", quality, "' in chord symbol '", symbol,
                  "' (tones above the root are written (+3+10), each 1..11)");
      c.tones[static_cast<size_t>((root + std::stoi(n)) % 12)] = true;
      at = digits;
    }
  } else {
    const auto it = qualities().find(quality);
    MUDIT_CHECK(it != qualities().end(), DataError, "unknown chord quality '", quality,
                "' in chord symbol '", symbol, "'");
    for (int iv : it->second) c.tones[static_cast<size_t>((root + iv) % 12)] = true;
  }
  if (bass >= 0) c.tones[static_cast<size_t>(bass)] = true;
  return c;
}

PlanKey parse_key(const std::string& text_in) {
  const std::string text = trim(text_in);
  size_t pos = 0;
  // An accidental before the letter: 升 / 降 (Chinese), or # / b as Chinese texts write it
  // ("#C大调", "bE小调"; a lone "b" before a capital letter is a flat, not the note B).
  int shift = 0;
  if (text.compare(0, 3, "升") == 0) {
    shift = 1;
    pos = 3;
  } else if (text.compare(0, 3, "降") == 0) {
    shift = -1;
    pos = 3;
  } else if (text.size() > 1 && (text[0] == '#' || text[0] == 'b') &&
             std::isupper(static_cast<unsigned char>(text[1]))) {
    shift = text[0] == '#' ? 1 : -1;
    pos = 1;
  }
  const size_t letter = pos;
  const int pc = read_pitch_class(text, pos);
  MUDIT_CHECK(pc >= 0, DataError, "unknown key '", text,
              "' (a tonic C..B and a mode: 'A minor', 'Bb major', 'F#m', 'A小调', '降B大调')");
  const int tonic = ((pc + shift) % 12 + 12) % 12;
  std::string rest = lower(trim(text.substr(pos)));
  for (const char* suffix : {"调式", "调", " pentatonic"}) {
    const std::string sx(suffix);
    if (rest.size() > sx.size() && rest.compare(rest.size() - sx.size(), sx.size(), sx) == 0)
      rest = trim(rest.substr(0, rest.size() - sx.size()));
  }
  // Mode -> (minor, semitones from the tonic to the key's tonic): the pentatonic modes other than
  // 宫 / 羽 are their parent major key (the pitch-class set; see data/synth.h parent_major_pc).
  static const std::map<std::string, std::pair<bool, int>> kModes = {
      {"", {false, 0}},       {"major", {false, 0}},  {"maj", {false, 0}}, {"大", {false, 0}},
      {"minor", {true, 0}},   {"min", {true, 0}},     {"m", {true, 0}},    {"小", {true, 0}},
      {"ionian", {false, 0}}, {"aeolian", {true, 0}}, {"宫", {false, 0}},  {"gong", {false, 0}},
      {"羽", {true, 0}},      {"yu", {true, 0}},      {"商", {false, -2}}, {"shang", {false, -2}},
      {"角", {false, -4}},    {"jue", {false, -4}},   {"徵", {false, -7}}, {"zhi", {false, -7}}};
  const auto it = kModes.find(rest);
  MUDIT_CHECK(it != kModes.end(), DataError, "unknown mode '", rest, "' in key '", text,
              "' (major / minor, 大调 / 小调, a pentatonic mode 宫 商 角 徵 羽)");
  PlanKey k;
  k.minor = it->second.first;
  k.tonic = ((tonic + it->second.second) % 12 + 12) % 12;
  // "a" or "c#" alone (a lower-case tonic and no mode word) is the minor key, as in harmony texts.
  if (rest.empty() && shift == 0 && std::islower(static_cast<unsigned char>(text[letter])))
    k.minor = true;
  return k;
}

int beats_per_bar(const std::string& meter) {
  static const std::map<std::string, int> kMeters = {
      {"4/4", 4}, {"3/4", 3}, {"2/4", 2}, {"2/2", 2}, {"6/8", 2}, {"12/8", 4}, {"9/8", 3}};
  const auto it = kMeters.find(trim(meter));
  MUDIT_CHECK(it != kMeters.end(), DataError, "unknown meter '", meter,
              "' (4/4, 3/4, 2/4, 2/2, 6/8, 9/8, 12/8)");
  return it->second;
}

std::string describe_plan(const MusicalPlan& plan) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  auto src = [&](PlanGroup g) {
    const std::string& s = plan.source[static_cast<size_t>(g)];
    return s.empty() ? std::string() : " (from " + s + ")";
  };
  o << "duration " << plan.duration << " s\n";
  if (plan.has_beats()) {
    o << "tempo    " << plan.bpm << " BPM, " << plan.beats_per_bar << " beats per bar";
    if (!plan.meter.empty()) o << " (" << plan.meter << ")";
    o << src(PlanGroup::kBeats) << "\n";
    o.precision(3);
    o << "beats    " << plan.beats.size() << ":";
    for (size_t i = 0; i < plan.beats.size() && i < 16; ++i)
      o << " " << (plan.is_downbeat(i) ? "|" : "") << plan.beats[i];
    if (plan.beats.size() > 16) o << " ...";
    o << "\n";
    o.precision(1);
  } else {
    o << "tempo    (none)\n";
  }
  if (plan.has_key)
    o << "key      " << plan.key.name() << src(PlanGroup::kKey) << "\n";
  else
    o << "key      (none)\n";
  if (plan.has_chords()) {
    o << "chords   " << plan.chords.size() << src(PlanGroup::kChords) << ":";
    for (size_t i = 0; i < plan.chords.size() && i < 32; ++i) {
      const PlanChord& c = plan.chords[i];
      o << " " << (c.symbol.empty() ? chord_symbol(c) : c.symbol);
    }
    if (plan.chords.size() > 32) o << " ...";
    o << "\n";
  } else {
    o << "chords   (none)\n";
  }
  return o.str();
}

}  // namespace mudit::generation
