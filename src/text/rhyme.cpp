#include "mudit/text/rhyme.h"

#include <algorithm>
#include <map>

#include "mudit/core/utf8.h"
#include "mudit/text/lyrics.h"
#include "mudit/text/normalize.h"

namespace mudit::text {

const char* rhyme_class_name(RhymeClass c) {
  static const char* const names[] = {
      "",     "一麻",   "二波",   "三歌",   "四皆",   "五支",   "六儿",   "七齐",   "八微",  "九开",
      "十姑", "十一鱼", "十二侯", "十三豪", "十四寒", "十五痕", "十六唐", "十七庚", "十八东"};
  return names[static_cast<int>(c)];
}

RhymeClass rhyme_class_of_final(std::string_view final) {
  static const std::map<std::string, RhymeClass, std::less<>> classes = {
      {"a", RhymeClass::kMa},     {"ia", RhymeClass::kMa},     {"ua", RhymeClass::kMa},
      {"o", RhymeClass::kBo},     {"uo", RhymeClass::kBo},     {"e", RhymeClass::kGe},
      {"ie", RhymeClass::kJie},   {"ve", RhymeClass::kJie},    {"ir", RhymeClass::kZhi},
      {"iz", RhymeClass::kZhi},   {"er", RhymeClass::kEr},     {"i", RhymeClass::kQi},
      {"ei", RhymeClass::kWei},   {"ui", RhymeClass::kWei},    {"ai", RhymeClass::kKai},
      {"uai", RhymeClass::kKai},  {"u", RhymeClass::kGu},      {"v", RhymeClass::kYu},
      {"ou", RhymeClass::kHou},   {"iu", RhymeClass::kHou},    {"ao", RhymeClass::kHao},
      {"iao", RhymeClass::kHao},  {"an", RhymeClass::kHan},    {"ian", RhymeClass::kHan},
      {"uan", RhymeClass::kHan},  {"van", RhymeClass::kHan},   {"en", RhymeClass::kHen},
      {"in", RhymeClass::kHen},   {"un", RhymeClass::kHen},    {"vn", RhymeClass::kHen},
      {"ang", RhymeClass::kTang}, {"iang", RhymeClass::kTang}, {"uang", RhymeClass::kTang},
      {"eng", RhymeClass::kGeng}, {"ing", RhymeClass::kGeng},  {"ueng", RhymeClass::kGeng},
      {"ong", RhymeClass::kDong}, {"iong", RhymeClass::kDong}};
  const auto it = classes.find(final);
  return it == classes.end() ? RhymeClass::kNone : it->second;
}

RhymeClass line_end_class(std::string_view line, const G2P& g2p) {
  const auto syllables = g2p.pinyin(line);
  if (syllables.empty()) return RhymeClass::kNone;
  return rhyme_class_of_final(syllables.back().final);
}

std::vector<bool> mark_rhymes(const std::vector<RhymeClass>& ends) {
  std::map<RhymeClass, int> count;
  for (RhymeClass c : ends) ++count[c];
  std::vector<bool> marks;
  for (RhymeClass c : ends) marks.push_back(c != RhymeClass::kNone && count[c] >= 2);
  return marks;
}

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t a = 0;
  while (a <= text.size()) {
    const size_t b = std::min(text.find('\n', a), text.size());
    lines.push_back(text.substr(a, b - a));
    if (b == text.size()) break;
    a = b + 1;
  }
  return lines;
}

std::string_view strip_cr(std::string_view s) {
  return !s.empty() && s.back() == '\r' ? s.substr(0, s.size() - 1) : s;
}

}  // namespace

std::string str_rhyme_layout(std::string_view str_lyric, const G2P& g2p) {
  const auto lines = split_lines(str_lyric);
  std::vector<std::string> out(lines.size());
  std::vector<size_t> section;  // indices of the current section's lyric lines
  auto flush = [&] {
    std::vector<RhymeClass> ends;
    for (size_t i : section) ends.push_back(line_end_class(strip_cr(lines[i]), g2p));
    const auto marks = mark_rhymes(ends);
    for (size_t k = 0; k < section.size(); ++k) {
      // One 'c' per character, spaces kept as they are; 'R' replaces the last 'c'.
      const std::string_view line = strip_cr(lines[section[k]]);
      std::string& o = out[section[k]];
      for (size_t pos = 0; pos < line.size();) {
        o += utf8::next(line, pos) == ' ' ? ' ' : 'c';
      }
      const size_t last = o.find_last_of('c');
      if (marks[k] && last != std::string::npos) o[last] = 'R';
    }
    section.clear();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = strip_cr(lines[i]);
    if (parse_section_tag(line)) {
      flush();
      out[i] = std::string(line);
    } else if (!line.empty()) {
      section.push_back(i);
    }
  }
  flush();
  std::string text;
  for (size_t i = 0; i < out.size(); ++i) text += (i ? "\n" : "") + out[i];
  return text;
}

double RhymeAgreement::agreement() const {
  return lines ? static_cast<double>(both + neither) / static_cast<double>(lines) : 0.0;
}

double RhymeAgreement::kappa() const {
  if (!lines) return 0.0;
  const double n = static_cast<double>(lines);
  const double po = static_cast<double>(both + neither) / n;
  const double ours = static_cast<double>(both + only_ours) / n;
  const double theirs = static_cast<double>(both + only_theirs) / n;
  const double pe = ours * theirs + (1 - ours) * (1 - theirs);
  return pe >= 1.0 ? 1.0 : (po - pe) / (1.0 - pe);
}

RhymeAgreement& RhymeAgreement::operator+=(const RhymeAgreement& o) {
  lines += o.lines;
  both += o.both;
  neither += o.neither;
  only_ours += o.only_ours;
  only_theirs += o.only_theirs;
  mismatched_lines += o.mismatched_lines;
  return *this;
}

RhymeAgreement compare_str_rhyme(std::string_view ours, std::string_view theirs) {
  const auto a = split_lines(ours);
  const auto b = split_lines(theirs);
  RhymeAgreement r;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string_view x = i < a.size() ? strip_cr(a[i]) : std::string_view();
    const std::string_view y = i < b.size() ? strip_cr(b[i]) : std::string_view();
    const bool x_marks = x.find_first_of("cR") != std::string_view::npos &&
                         x.find_first_not_of("cR ") == std::string_view::npos;
    const bool y_marks = y.find_first_of("cR") != std::string_view::npos &&
                         y.find_first_not_of("cR ") == std::string_view::npos;
    if (!x_marks && !y_marks) {
      if (x != y) ++r.mismatched_lines;
      continue;
    }
    if (x_marks != y_marks || x.size() != y.size()) ++r.mismatched_lines;
    if (!x_marks || !y_marks) continue;
    const bool rx = x.find('R') != std::string_view::npos;
    const bool ry = y.find('R') != std::string_view::npos;
    ++r.lines;
    if (rx && ry) ++r.both;
    if (!rx && !ry) ++r.neither;
    if (rx && !ry) ++r.only_ours;
    if (!rx && ry) ++r.only_theirs;
  }
  return r;
}

}  // namespace mudit::text
