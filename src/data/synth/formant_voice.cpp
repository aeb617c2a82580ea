#include "data/synth/formant_voice.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "data/synth/pinyin.h"
#include "data/synth/vocal_rng.h"

namespace mudit::data::synth::vocal {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Formants {
  std::array<double, 3> f;  // Hz
  double gain = 1.0;        // nasals and murmurs are quieter
};

// Adult male formant targets; "z" is the apical vowel of zhi/si, "n"/"ng" nasal codas.
const std::map<std::string, Formants>& vowels() {
  static const std::map<std::string, Formants> table = {
      {"a", {{800, 1250, 2500}, 1.0}},   {"o", {{520, 850, 2450}, 1.0}},
      {"e", {{480, 1200, 2500}, 1.0}},   {"eh", {{560, 1850, 2550}, 1.0}},
      {"i", {{290, 2250, 3000}, 0.9}},   {"u", {{330, 760, 2400}, 0.9}},
      {"v", {{290, 1850, 2350}, 0.9}},   {"z", {{380, 1450, 2600}, 0.85}},
      {"er", {{500, 1400, 1700}, 0.9}},  {"n", {{260, 1550, 2600}, 0.35}},
      {"ng", {{280, 1100, 2400}, 0.35}}, {"m", {{260, 1100, 2300}, 0.35}},
      {"l", {{360, 1250, 2700}, 0.5}},   {"r", {{420, 1350, 1700}, 0.5}}};
  return table;
}

std::vector<std::string> final_vowels(const std::string& fin) {
  static const std::map<std::string, std::vector<std::string>> table = {{"", {"z"}},
                                                                        {"a", {"a"}},
                                                                        {"o", {"u", "o"}},
                                                                        {"e", {"e"}},
                                                                        {"eh", {"eh"}},
                                                                        {"ai", {"a", "i"}},
                                                                        {"ei", {"eh", "i"}},
                                                                        {"ao", {"a", "u"}},
                                                                        {"ou", {"o", "u"}},
                                                                        {"an", {"a", "n"}},
                                                                        {"en", {"e", "n"}},
                                                                        {"ang", {"a", "ng"}},
                                                                        {"eng", {"e", "ng"}},
                                                                        {"er", {"er"}},
                                                                        {"ong", {"u", "ng"}},
                                                                        {"i", {"i"}},
                                                                        {"ia", {"i", "a"}},
                                                                        {"io", {"i", "o"}},
                                                                        {"ie", {"i", "eh"}},
                                                                        {"iai", {"i", "a", "i"}},
                                                                        {"iao", {"i", "a", "u"}},
                                                                        {"iou", {"i", "o", "u"}},
                                                                        {"ian", {"i", "eh", "n"}},
                                                                        {"in", {"i", "n"}},
                                                                        {"iang", {"i", "a", "ng"}},
                                                                        {"ing", {"i", "ng"}},
                                                                        {"iong", {"v", "ng"}},
                                                                        {"u", {"u"}},
                                                                        {"ua", {"u", "a"}},
                                                                        {"uo", {"u", "o"}},
                                                                        {"uai", {"u", "a", "i"}},
                                                                        {"uei", {"u", "eh", "i"}},
                                                                        {"uan", {"u", "a", "n"}},
                                                                        {"uen", {"u", "e", "n"}},
                                                                        {"uang", {"u", "a", "ng"}},
                                                                        {"ueng", {"u", "e", "ng"}},
                                                                        {"v", {"v"}},
                                                                        {"ve", {"v", "eh"}},
                                                                        {"van", {"v", "eh", "n"}},
                                                                        {"vn", {"v", "n"}}};
  auto it = table.find(fin);
  return it == table.end() ? std::vector<std::string>{"a"} : it->second;
}

/// The onset consonant: a noise band (centre Hz, Q, seconds, level), an optional burst, and a
/// voiced murmur (a "vowel" from the table) for nasals and liquids.
struct Onset {
  double noise_hz = 0, noise_q = 1, noise_s = 0, noise_level = 0;
  double burst_s = 0;
  std::string murmur;
};

Onset onset_for(const std::string& c) {
  Onset o;
  auto fric = [&](double hz, double q, double s, double level) {
    o.noise_hz = hz;
    o.noise_q = q;
    o.noise_s = s;
    o.noise_level = level;
  };
  if (c == "b" || c == "d" || c == "g") o.burst_s = 0.008;
  if (c == "p" || c == "t" || c == "k") {
    o.burst_s = 0.01;
    fric(1800, 0.7, 0.05, 0.08);
  }
  if (c == "m" || c == "n" || c == "l" || c == "r") o.murmur = c;
  if (c == "f") fric(5000, 0.8, 0.07, 0.05);
  if (c == "h") fric(1500, 0.6, 0.06, 0.08);
  if (c == "s" || c == "c" || c == "z") fric(6500, 2.0, c == "z" ? 0.04 : 0.09, 0.12);
  if (c == "sh" || c == "ch" || c == "zh") fric(3200, 2.0, c == "zh" ? 0.04 : 0.09, 0.12);
  if (c == "x" || c == "q" || c == "j") fric(4500, 2.0, c == "j" ? 0.04 : 0.09, 0.12);
  if (c == "z" || c == "zh" || c == "j" || c == "c" || c == "ch" || c == "q") o.burst_s = 0.006;
  if (c == "th") fric(5500, 0.8, 0.06, 0.05);
  return o;
}

/// An English syllable's onset consonant and vowel sequence from its spelling (rough).
void english_parts(const std::string& spelling, std::string& onset, std::vector<std::string>& seq) {
  std::string s;
  for (char c : spelling) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto is_vowel = [](char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; };
  size_t v = 0;
  while (v < s.size() && !is_vowel(s[v]) && !(s[v] == 'y' && v > 0)) ++v;
  const std::string head = s.substr(0, v);
  onset = head.empty() ? "" : head.substr(0, head.size() >= 2 && (head[1] == 'h') ? 2 : 1);
  if (onset == "w" || onset == "y") onset.clear();
  if (onset == "ph") onset = "f";
  std::string nucleus, coda;
  size_t e = v;
  while (e < s.size() && (is_vowel(s[e]) || s[e] == 'y' || s[e] == 'w')) ++e;
  nucleus = s.substr(v, e - v);
  coda = s.substr(e);
  static const std::map<std::string, std::vector<std::string>> table = {
      {"a", {"a"}},        {"e", {"eh"}},      {"i", {"i"}},       {"o", {"o"}},
      {"u", {"e"}},        {"y", {"a", "i"}},  {"ee", {"i"}},      {"ea", {"i"}},
      {"oo", {"u"}},       {"ou", {"a", "u"}}, {"ow", {"o", "u"}}, {"ay", {"eh", "i"}},
      {"ai", {"eh", "i"}}, {"ie", {"a", "i"}}, {"oa", {"o", "u"}}, {"ey", {"eh", "i"}},
      {"oy", {"o", "i"}},  {"ue", {"u"}},      {"ui", {"i"}},      {"io", {"i", "o"}}};
  auto it = table.find(nucleus);
  seq = it != table.end() ? it->second : std::vector<std::string>{"a"};
  if (coda.rfind("gh", 0) == 0 && nucleus == "i") seq = {"a", "i"};
  if (coda.rfind("ng", 0) == 0) {
    seq.push_back("ng");
  } else if (!coda.empty() && (coda[0] == 'n' || coda[0] == 'm')) {
    seq.push_back(coda.substr(0, 1));
  } else if (!coda.empty() && (coda[0] == 'r')) {
    seq.push_back("er");
  } else if (!coda.empty() && coda[0] == 'l') {
    seq.push_back("l");
  }
}

// RBJ band-pass biquad (constant 0 dB peak gain).
struct BandPass {
  double b0, b2, a1, a2, x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  BandPass(double hz, double q, int sr) {
    const double w = 2 * kPi * std::min(hz, 0.45 * sr) / sr;
    const double alpha = std::sin(w) / (2 * q);
    const double a0 = 1 + alpha;
    b0 = alpha / a0;
    b2 = -alpha / a0;
    a1 = -2 * std::cos(w) / a0;
    a2 = (1 - alpha) / a0;
  }
  double operator()(double x) {
    const double y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    return y;
  }
};

}  // namespace

std::vector<float> formant_syllable(const std::string& sound, const std::string& lang, bool female,
                                    const std::vector<float>& f0, int sample_rate, uint64_t seed) {
  const size_t n = f0.size();
  std::vector<float> out(n, 0.f);
  if (n == 0) return out;
  std::string onset_name;
  std::vector<std::string> seq;
  if (lang == "zh") {
    if (const auto syl = parse_pinyin(sound)) {
      onset_name = syl->initial;
      seq = final_vowels(syl->final_);
    } else {
      seq = {"a"};
    }
  } else {
    english_parts(sound, onset_name, seq);
  }
  const Onset onset = onset_for(onset_name);
  const double sr = sample_rate;
  const double dur = double(n) / sr;
  const double consonant_s = std::min(0.35 * dur, std::max(onset.noise_s, onset.burst_s));
  const double murmur_s = onset.murmur.empty() ? 0.0 : std::min(0.06, 0.2 * dur);
  const double voice_start = consonant_s;

  // Formant targets over the voiced part: glide (medial) 12 %, nucleus, coda 20 %.
  struct Target {
    double t;  // seconds from the start of the syllable
    Formants fm;
  };
  std::vector<Target> targets;
  const double scale = female ? 1.15 : 1.0;
  auto formants_of = [&](const std::string& v) {
    Formants f = vowels().at(v);
    for (double& x : f.f) x *= scale;
    return f;
  };
  if (!onset.murmur.empty()) targets.push_back({voice_start, formants_of(onset.murmur)});
  const double body = std::max(1e-3, dur - voice_start - murmur_s);
  const double vs = voice_start + murmur_s;
  if (seq.size() == 1) {
    targets.push_back({vs, formants_of(seq[0])});
  } else {
    const bool medial = seq.size() == 3 || seq[0] == "i" || seq[0] == "u" || seq[0] == "v";
    const size_t nucleus = medial ? 1 : 0;
    if (medial) targets.push_back({vs, formants_of(seq[0])});
    const double nucleus_t = vs + (medial ? std::min(0.08, 0.12 * body) : 0.0);
    targets.push_back({nucleus_t, formants_of(seq[nucleus])});
    const double coda_t = vs + body - std::min(0.15, 0.2 * body);
    if (nucleus + 1 < seq.size()) {
      targets.push_back({std::max(nucleus_t, coda_t - 0.04), formants_of(seq[nucleus])});
      targets.push_back({coda_t, formants_of(seq.back())});
    }
  }
  auto formants_at = [&](double t) {
    if (t <= targets.front().t) return targets.front().fm;
    for (size_t k = 1; k < targets.size(); ++k) {
      if (t < targets[k].t) {
        // Glide over the 40 ms before each target.
        const double start = std::max(targets[k - 1].t, targets[k].t - 0.04);
        if (t < start) return targets[k - 1].fm;
        const double w = (t - start) / std::max(1e-6, targets[k].t - start);
        Formants f;
        for (int i = 0; i < 3; ++i) {
          f.f[i] = targets[k - 1].fm.f[i] + w * (targets[k].fm.f[i] - targets[k - 1].fm.f[i]);
        }
        f.gain = targets[k - 1].fm.gain + w * (targets[k].fm.gain - targets[k - 1].fm.gain);
        return f;
      }
    }
    return targets.back().fm;
  };

  // Voiced part: harmonics with the formant envelope, evaluated every 32 samples.
  const std::array<double, 3> bandwidth = {90, 110, 170};
  const std::array<double, 3> level = {1.0, 0.6, 0.25};
  double phase = 0;
  std::vector<double> amp;
  const size_t block = 32;
  const auto v0 = static_cast<size_t>(voice_start * sr);
  for (size_t b = v0; b < n; b += block) {
    const double t = double(b) / sr;
    const Formants fm = formants_at(t);
    const double f = std::max(50.f, f0[b]);
    const int harmonics = std::max(1, std::min(80, static_cast<int>((0.45 * sr) / f)));
    amp.assign(static_cast<size_t>(harmonics) + 1, 0.0);
    for (int k = 1; k <= harmonics; ++k) {
      const double hz = k * f;
      double env = 0.02;
      for (int i = 0; i < 3; ++i) {
        const double d =
            (hz - fm.f[static_cast<size_t>(i)]) / (0.5 * bandwidth[static_cast<size_t>(i)]);
        env += level[static_cast<size_t>(i)] / (1 + d * d);
      }
      amp[static_cast<size_t>(k)] = fm.gain * env / k;  // -6 dB/oct source tilt x radiation
    }
    const size_t end = std::min(n, b + block);
    for (size_t s = b; s < end; ++s) {
      const double w = 2 * kPi * std::max(50.f, f0[s]) / sr;
      phase = std::fmod(phase + w, 2 * kPi);
      // sin(k phase) by the Chebyshev recurrence.
      const double c2 = 2 * std::cos(phase);
      double s_prev = 0, s_cur = std::sin(phase), acc = 0;
      for (int k = 1; k <= harmonics; ++k) {
        acc += amp[static_cast<size_t>(k)] * s_cur;
        const double s_next = c2 * s_cur - s_prev;
        s_prev = s_cur;
        s_cur = s_next;
      }
      out[s] = static_cast<float>(0.25 * acc);
    }
  }
  // Voiced attack and release.
  const double attack = 0.02 * sr, release = std::min(0.04 * sr, 0.3 * double(n));
  for (size_t s = v0; s < n; ++s) {
    const double a = std::min(1.0, double(s - v0) / attack);
    const double r = std::min(1.0, double(n - s) / release);
    out[s] = static_cast<float>(out[s] * a * r);
  }
  // Onset consonant: a burst then a noise band, fading into the vowel.
  VocalRng rng(seed, 0x464F524D);  // "FORM"
  if (onset.burst_s > 0) {
    BandPass bp(3000, 0.5, sample_rate);
    const auto len = std::min(n, static_cast<size_t>(onset.burst_s * sr));
    for (size_t s = 0; s < len; ++s) {
      const double x = double(s) / double(len);
      const double env = std::min(1.0, 8 * x) * (1.0 - x);
      out[s] += static_cast<float>(0.12 * env * bp(rng.normal()));
    }
  }
  if (onset.noise_s > 0) {
    BandPass bp(onset.noise_hz, onset.noise_q, sample_rate);
    const auto b = static_cast<size_t>(onset.burst_s * sr);
    const auto len = static_cast<size_t>(std::min(consonant_s + 0.02, dur) * sr);
    for (size_t s = b; s < len && s < n; ++s) {
      const double x = double(s - b) / double(std::max<size_t>(1, len - b));
      const double env = std::sin(kPi * std::min(1.0, x));
      out[s] += static_cast<float>(onset.noise_level * env * bp(rng.normal()));
    }
  }
  return out;
}

}  // namespace mudit::data::synth::vocal
