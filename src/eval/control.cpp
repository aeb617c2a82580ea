#include "mudit/eval/control.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mudit/audio/analysis.h"
#include "mudit/audio/resample.h"
#include "mudit/eval/instruments.h"

namespace mudit::eval {

int pitch_class(std::string_view name) {
  static const std::map<char, int> natural = {{'C', 0}, {'D', 2}, {'E', 4}, {'F', 5},
                                              {'G', 7}, {'A', 9}, {'B', 11}};
  if (name.empty() || !natural.count(name[0])) return -1;
  int pc = natural.at(name[0]);
  for (char c : name.substr(1)) {
    if (c == '#') {
      ++pc;
    } else if (c == 'b') {
      --pc;
    } else {
      return -1;
    }
  }
  return (pc % 12 + 12) % 12;
}

std::optional<ControlTarget> ControlTarget::from_meta(std::string_view meta_json) {
  const auto j = nlohmann::json::parse(meta_json, nullptr, false);
  if (!j.is_object() || !j.contains("bpm") || !j["bpm"].is_number()) return std::nullopt;
  ControlTarget t;
  const std::string meter = j.value("meter", "");
  t.beat_bpm = j["bpm"].get<double>() / (meter == "6/8" ? 1.5 : 1.0);
  t.tonic = pitch_class(j.value("tonic", ""));
  t.mode = j.value("mode", "");
  t.families = meta_families(meta_json);
  return t;
}

ControlEstimate ControlEstimate::analyse(const at::Tensor& mono, int64_t sample_rate) {
  constexpr int64_t kRate = 22050;
  const at::Tensor x = sample_rate == kRate ? mono
                                            : audio::resample(mono, static_cast<int>(sample_rate),
                                                              static_cast<int>(kRate));
  ControlEstimate e;
  e.bpm = estimate_tempo(x, kRate).item<double>();
  const KeyEstimate k = estimate_key(x, kRate).front();
  e.tonic = k.tonic;
  e.minor = k.minor;
  return e;
}

ControlHits control_hits(const ControlTarget& t, const ControlEstimate& e) {
  ControlHits h;
  if (t.beat_bpm > 0) {
    const double err = std::abs(e.bpm - t.beat_bpm) / t.beat_bpm;
    h.tempo_4 = err <= 0.04;
    h.tempo_8 = err <= 0.08;
    h.has_tempo_class = t.beat_bpm >= 120 || t.beat_bpm < 90;
    h.tempo_class = h.has_tempo_class && (e.bpm >= 105) == (t.beat_bpm >= 120);
  }
  h.has_key = t.tonic >= 0 && (t.mode == "major" || t.mode == "minor");
  if (h.has_key) {
    const bool minor = t.mode == "minor";
    h.mode = e.minor == minor;
    h.key = h.mode && e.tonic == t.tonic;
    h.parallel_key = !h.mode && e.tonic == t.tonic;
    // The relative minor's tonic is three semitones below the major's.
    const int relative = minor ? (t.tonic + 3) % 12 : (t.tonic + 9) % 12;
    h.relative_key = !h.mode && e.tonic == relative;
  }
  const auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (const std::string& f : e.judged) {
    const bool detected = has(e.instruments, f);
    if (has(t.families, f)) {
      ++h.instrument_targets;
      h.instrument_found += detected;
    } else {
      ++h.instrument_others;
      h.instrument_false += detected;
    }
  }
  return h;
}

void ControlSummary::add(const ControlHits& h) {
  ++songs;
  tempo_4 += h.tempo_4;
  tempo_8 += h.tempo_8;
  if (h.has_tempo_class) {
    ++class_songs;
    tempo_class += h.tempo_class;
  }
  if (h.has_key) {
    ++key_songs;
    key += h.key;
    relative_key += h.relative_key;
    parallel_key += h.parallel_key;
    mode += h.mode;
  }
  instrument_targets += h.instrument_targets;
  instrument_others += h.instrument_others;
  instrument_recall += static_cast<double>(h.instrument_found);
  instrument_false_positive += static_cast<double>(h.instrument_false);
}

void ControlSummary::finish() {
  const auto div = [](double& x, int64_t n) { x = n > 0 ? x / static_cast<double>(n) : 0.0; };
  div(tempo_4, songs);
  div(tempo_8, songs);
  div(tempo_class, class_songs);
  div(key, key_songs);
  div(relative_key, key_songs);
  div(parallel_key, key_songs);
  div(mode, key_songs);
  const double found = instrument_recall, wrong = instrument_false_positive;
  div(instrument_recall, instrument_targets);
  div(instrument_false_positive, instrument_others);
  const int64_t decisions = instrument_targets + instrument_others;
  instrument_accuracy =
      decisions > 0 ? (found + static_cast<double>(instrument_others) - wrong) / decisions : 0.0;
}

std::map<std::string, double> ControlSummary::to_map() const {
  std::map<std::string, double> m = {{"songs", static_cast<double>(songs)},
                                     {"tempo_4", tempo_4},
                                     {"tempo_8", tempo_8},
                                     {"tempo_class", tempo_class},
                                     {"tempo_class_songs", static_cast<double>(class_songs)},
                                     {"key", key},
                                     {"relative_key", relative_key},
                                     {"parallel_key", parallel_key},
                                     {"mode", mode},
                                     {"key_songs", static_cast<double>(key_songs)}};
  if (instrument_targets + instrument_others > 0) {
    m["instrument_recall"] = instrument_recall;
    m["instrument_false_positive"] = instrument_false_positive;
    m["instrument_accuracy"] = instrument_accuracy;
    m["instrument_decisions"] = static_cast<double>(instrument_targets + instrument_others);
  }
  return m;
}

}  // namespace mudit::eval
