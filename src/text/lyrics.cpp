#include "mudit/text/lyrics.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>

#include "mudit/core/utf8.h"

namespace mudit::text {
namespace {

// ASCII white space and U+FEFF (a byte-order mark where a file was pasted into another) at both
// ends.
std::string trim(std::string_view s) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  for (bool more = true; more;) {
    more = false;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    if (s.substr(0, 3) == kBom) s.remove_prefix(3), more = true;
    if (s.size() >= 3 && s.substr(s.size() - 3) == kBom) s.remove_suffix(3), more = true;
  }
  return std::string(s);
}

// Section names, after lower-casing and removing spaces, hyphens and underscores.
const std::map<std::string, Section>& section_words() {
  static const std::map<std::string, Section> words = {
      {"intro", Section::kIntro},
      {"introduction", Section::kIntro},
      {"prelude", Section::kIntro},
      {"前奏", Section::kIntro},
      {"引子", Section::kIntro},
      {"verse", Section::kVerse},
      {"主歌", Section::kVerse},
      {"prechorus", Section::kPrechorus},
      {"build", Section::kPrechorus},
      {"导歌", Section::kPrechorus},
      {"预副歌", Section::kPrechorus},
      {"副歌前", Section::kPrechorus},
      {"chorus", Section::kChorus},
      {"refrain", Section::kChorus},
      {"hook", Section::kChorus},
      {"副歌", Section::kChorus},
      {"bridge", Section::kBridge},
      {"桥段", Section::kBridge},
      {"过渡", Section::kBridge},
      {"interlude", Section::kInterlude},
      {"instrumental", Section::kInterlude},
      {"solo", Section::kInterlude},
      {"break", Section::kInterlude},
      {"间奏", Section::kInterlude},
      {"outro", Section::kOutro},
      {"ending", Section::kOutro},
      {"end", Section::kOutro},
      {"coda", Section::kOutro},
      {"尾奏", Section::kOutro},
      {"结尾", Section::kOutro},
      {"尾声", Section::kOutro},
  };
  return words;
}

// Splits a trailing ordinal (Arabic digits or one Chinese numeral 一..十) off `word`.
std::pair<std::string, int> split_ordinal(std::string word) {
  size_t end = word.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(word[end - 1]))) --end;
  if (end < word.size() && word.size() - end <= 3) {
    return {word.substr(0, end), std::stoi(word.substr(end))};
  }
  static const std::array<std::string, 10> kChinese = {"一", "二", "三", "四", "五",
                                                       "六", "七", "八", "九", "十"};
  for (size_t i = 0; i < kChinese.size(); ++i) {
    const std::string& c = kChinese[i];
    if (word.size() > c.size() && word.compare(word.size() - c.size(), c.size(), c) == 0) {
      return {word.substr(0, word.size() - c.size()), static_cast<int>(i) + 1};
    }
  }
  return {word, 0};
}

// The bracketed content of a whole-line tag, or "" when the line is not one bracketed token.
std::string bracket_content(const std::string& line) {
  static const std::pair<std::string, std::string> kPairs[] = {
      {"<|", "|>"}, {"(", ")"}, {"[", "]"}, {"（", "）"}, {"【", "】"}, {"〔", "〕"}};
  for (const auto& [open, close] : kPairs) {
    if (line.size() > open.size() + close.size() && line.compare(0, open.size(), open) == 0 &&
        line.compare(line.size() - close.size(), close.size(), close) == 0) {
      return line.substr(open.size(), line.size() - open.size() - close.size());
    }
  }
  return "";
}

// "[mm:ss]", "[mm:ss.xx]" or "[mm:ss:xx]" at the start of `s`: seconds and the length consumed.
std::optional<std::pair<double, size_t>> leading_timestamp(std::string_view s) {
  if (s.size() < 7 || s[0] != '[') return std::nullopt;
  const size_t close = s.find(']');
  if (close == std::string_view::npos || close > 14) return std::nullopt;
  const std::string inner(s.substr(1, close - 1));
  int minutes = 0;
  double seconds = 0;
  char sep = 0;
  int fraction = 0;
  int used = 0;
  if (std::sscanf(inner.c_str(), "%d:%lf%n", &minutes, &seconds, &used) == 2 &&
      used == static_cast<int>(inner.size())) {
    return std::make_pair(minutes * 60.0 + seconds, close + 1);
  }
  if (std::sscanf(inner.c_str(), "%d:%lf%c%d%n", &minutes, &seconds, &sep, &fraction, &used) == 4 &&
      sep == ':' && used == static_cast<int>(inner.size())) {
    return std::make_pair(minutes * 60.0 + seconds + fraction / 100.0, close + 1);
  }
  return std::nullopt;
}

}  // namespace

const char* section_name(Section section) {
  switch (section) {
    case Section::kIntro:
      return "intro";
    case Section::kVerse:
      return "verse";
    case Section::kPrechorus:
      return "prechorus";
    case Section::kChorus:
      return "chorus";
    case Section::kBridge:
      return "bridge";
    case Section::kInterlude:
      return "interlude";
    case Section::kOutro:
      return "outro";
  }
  return "?";
}

std::string SectionTag::str() const {
  return std::string(section_name(section)) + (ordinal > 0 ? std::to_string(ordinal) : "");
}

std::string fold_width(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  bool space = false;
  while (pos < text.size()) {
    uint32_t cp = utf8::next(text, pos);
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
    if (cp == 0x3000 || cp == '\t' || cp == '\r' || cp == '\n') cp = ' ';
    if (cp == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    utf8::append(out, cp);
  }
  return out;
}

std::optional<SectionTag> parse_section_tag(std::string_view raw) {
  const std::string line = trim(raw);
  if (leading_timestamp(line)) return std::nullopt;
  std::string inner = bracket_content(line);
  if (inner.empty()) return std::nullopt;
  std::string word;
  for (unsigned char c : inner) {
    if (c == ' ' || c == '-' || c == '_' || c == '.' || c == ':') continue;
    word += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
  }
  if (word.rfind("ss", 0) == 0 && section_words().count(split_ordinal(word.substr(2)).first)) {
    word = word.substr(2);  // the seed's special tokens: <|ss_verse|>
  }
  const auto [name, ordinal] = split_ordinal(word);
  auto it = section_words().find(name);
  if (it == section_words().end()) return std::nullopt;
  return SectionTag{it->second, ordinal};
}

size_t Lyrics::line_count() const {
  size_t n = preamble.size();
  for (const auto& s : sections) n += s.lines.size();
  return n;
}

Lyrics parse_lyrics(std::string_view text) {
  while (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // (some files have two)
  Lyrics out;
  std::map<Section, int> counts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    LyricLine l;
    // Timestamps and what trim() removes may alternate ("[00:01.00] [00:02.00]text").
    std::string rest = line;
    while (auto ts = leading_timestamp(rest)) {
      if (!l.time_s) l.time_s = ts->first;
      rest = trim(std::string_view(rest).substr(ts->second));
    }
    l.text = std::move(rest);
    if (l.text.empty()) continue;
    // A tag, also behind a timestamp ("[00:12.30](chorus)"): the time of a tag is dropped.
    if (auto tag = parse_section_tag(l.text)) {
      int& count = counts[tag->section];
      count = std::max(count + 1, tag->ordinal);
      if (tag->ordinal == 0) tag->ordinal = count;
      out.sections.push_back({*tag, {}});
      continue;
    }
    (out.sections.empty() ? out.preamble : out.sections.back().lines).push_back(std::move(l));
  }
  return out;
}

std::string to_canonical(const Lyrics& lyrics) {
  std::string out;
  for (const auto& l : lyrics.preamble) out += l.text + "\n";
  for (const auto& s : lyrics.sections) {
    out += "(" + s.tag.str() + ")\n";
    for (const auto& l : s.lines) out += l.text + "\n";
  }
  return out;
}

}  // namespace mudit::text
