// Musical facts from description text.
#include "mudit/generation/plan_text.h"

#include <algorithm>
#include <regex>
#include <utility>
#include <vector>

#include "mudit/core/error.h"

namespace mudit::generation {

namespace {

// Tempo words and the middle of their ranges (the usual metronome ranges; the synthetic
// corpus's own terms first, so its descriptions map inside the bucket they name).
const std::vector<std::pair<std::string, double>>& tempo_words() {
  static const std::vector<std::pair<std::string, double>> kWords = {
      {"小快板", 120},  {"快板", 144},   {"慢板", 66},        {"中板", 92},     {"广板", 50},
      {"柔板", 71},     {"行板", 92},    {"急板", 184},       {"中速", 92},     {"中快速", 120},
      {"快速", 144},    {"慢速", 66},    {"allegretto", 120}, {"allegro", 144}, {"adagio", 66},
      {"moderato", 92}, {"andante", 92}, {"largo", 50},       {"lento", 52},    {"presto", 184},
      {"vivace", 166}};
  return kWords;
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

double tempo_word_bpm(const std::string& word) {
  const std::string w = lower_ascii(word);
  for (const auto& [k, v] : tempo_words())
    if (k == w) return v;
  return 0.0;
}

double felt_bpm(double quarter_bpm, const std::string& meter) {
  if (meter == "6/8" || meter == "9/8" || meter == "12/8") return quarter_bpm / 1.5;
  if (meter == "2/2") return quarter_bpm / 2;
  return quarter_bpm;
}

PlanHints parse_plan_hints(const std::string& text) {
  // Every quantifier below is bounded: libstdc++'s std::regex recurses per repetition, so an
  // unbounded one over a long run of spaces or digits could exhaust the stack.
  PlanHints h;
  std::smatch m;
  // Tempo: a number with its unit, or "每分钟 N 拍", or "tempo / 速度 N".
  static const std::regex kBpm(
      R"((\d{1,4}(?:\.\d{1,3})?)\s{0,3}(?:bpm|BPM|Bpm|beats per minute|拍/分钟|拍/分|拍每分钟))");
  static const std::regex kPerMinute(R"(每分钟\s{0,3}(\d{1,4}(?:\.\d{1,3})?)\s{0,3}拍)");
  static const std::regex kTempoNumber(
      R"((?:tempo|Tempo|速度)\s{0,3}(?::|：)?\s{0,3}(?:of\s{1,3})?(\d{2,3})(?!\d))");
  if (std::regex_search(text, m, kBpm) || std::regex_search(text, m, kPerMinute) ||
      std::regex_search(text, m, kTempoNumber)) {
    h.bpm = std::stod(m[1].str());
    MUDIT_CHECK(h.bpm >= 30 && h.bpm <= 300, DataError, "a tempo of ", m[1].str(),
                " BPM in the description is outside 30-300");
  } else {
    // The first tempo word of the text (longest match at a position wins: 小快板 over 快板).
    const std::string low = lower_ascii(text);
    size_t best = std::string::npos, best_len = 0;
    for (const auto& [w, bpm] : tempo_words()) {
      const size_t at = low.find(w);
      if (at == std::string::npos) continue;
      if (at < best || (at == best && w.size() > best_len)) {
        best = at;
        best_len = w.size();
        h.bpm = bpm;
      }
    }
    h.bpm_from_word = h.bpm > 0;
  }
  // Meter.
  static const std::regex kMeter(R"((^|[^\d/])(2/4|3/4|4/4|2/2|6/8|9/8|12/8)(?![\d/]))");
  if (std::regex_search(text, m, kMeter)) {
    h.meter = m[2].str();
  } else if (text.find("三拍子") != std::string::npos || text.find("华尔兹") != std::string::npos ||
             lower_ascii(text).find("waltz") != std::string::npos) {
    h.meter = "3/4";
  } else if (text.find("四拍子") != std::string::npos) {
    h.meter = "4/4";
  } else if (text.find("二拍子") != std::string::npos) {
    h.meter = "2/4";
  }
  // Key: English "<tonic> <mode>", Chinese "<accidental?><tonic><mode>".
  static const std::regex kKeyEn(
      R"((^|[^A-Za-z#])([A-G](?:#|b|♯|♭)?)[ -]?(major|minor|Major|Minor|gong|shang|jue|zhi|yu)(?![A-Za-z]))");
  static const std::regex kKeyZh(R"((升|降|#|b)?([A-G])\s{0,3}(大调|小调|宫|商|角|徵|羽))");
  if (std::regex_search(text, m, kKeyZh) || std::regex_search(text, m, kKeyEn)) {
    const bool zh = m[3].str().size() >= 3 && static_cast<unsigned char>(m[3].str()[0]) >= 0x80;
    std::string key;
    if (zh) {
      const std::string acc = m[1].str();
      key = m[2].str() +
            (acc == "升" || acc == "#"   ? "#"
             : acc == "降" || acc == "b" ? "b"
                                         : "") +
            m[3].str();
    } else {
      key = m[2].str() + " " + lower_ascii(m[3].str());
    }
    h.key = parse_key(key);
    h.has_key = true;
  }
  return h;
}

}  // namespace mudit::generation
