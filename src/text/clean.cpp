#include "mudit/text/clean.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "mudit/core/error.h"
#include "mudit/text/normalize.h"

namespace mudit::text {
namespace {

// Removes "(...)" and "（...）" spans, nesting included.
std::string drop_parenthesised(const std::string& s) {
  static const std::string kOpenWide = "（", kCloseWide = "）";
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '(' || s.compare(i, kOpenWide.size(), kOpenWide) == 0) {
      ++depth;
      i += s[i] == '(' ? 1 : kOpenWide.size();
    } else if (depth > 0 && (s[i] == ')' || s.compare(i, kCloseWide.size(), kCloseWide) == 0)) {
      --depth;
      i += s[i] == ')' ? 1 : kCloseWide.size();
    } else {
      if (depth == 0) out += s[i];
      ++i;
    }
  }
  return out;
}

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// True when the line (spaces ignored) is one unit of 1-4 code points repeated >= `times`.
bool is_unit_repetition(const std::string& line, int64_t times) {
  std::vector<std::string> cps;
  for (auto& c : code_points(line)) {
    if (c != " ") cps.push_back(c);
  }
  for (size_t unit = 1; unit <= 4; ++unit) {
    if (cps.size() < unit * static_cast<size_t>(times) || cps.size() % unit != 0) continue;
    bool same = true;
    for (size_t i = unit; i < cps.size() && same; ++i) same = cps[i] == cps[i % unit];
    if (same) return true;
  }
  return false;
}

// Digits, ASCII punctuation and spaces only, or CJK punctuation (U+3000..U+303F, U+FF00..U+FF65).
bool only_digits_and_punctuation(const std::string& line) {
  for (const auto& c : code_points(line)) {
    const auto b = static_cast<unsigned char>(c[0]);
    if (c.size() == 1) {
      if (std::isalpha(b)) return false;
      continue;
    }
    if (c.size() == 3) {
      const uint32_t cp = ((b & 0x0F) << 12) | ((c[1] & 0x3F) << 6) | (c[2] & 0x3F);
      if ((cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF65)) continue;
    }
    return false;
  }
  return true;
}

}  // namespace

void CleanConfig::validate() const {
  MUDIT_CHECK(min_chars >= 0 && max_chars > min_chars, ConfigError,
              "need 0 <= min_chars < max_chars, got ", min_chars, " and ", max_chars);
  MUDIT_CHECK(max_run >= 1, ConfigError, "max_run must be >= 1, got ", max_run);
  MUDIT_CHECK(max_unit_repeats >= 2, ConfigError, "max_unit_repeats must be >= 2");
}

CleanResult clean_transcript(const std::vector<LyricLine>& lines, const CleanConfig& config) {
  config.validate();
  std::vector<std::string> phrases;
  for (const auto& p : config.hallucinations) phrases.push_back(ascii_lower(to_simplified(p)));
  CleanResult result;
  std::string previous;
  int64_t run = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto drop = [&](std::string reason) {
      result.dropped.push_back({i, lines[i].text, std::move(reason)});
    };
    const std::string text =
        fold_width(drop_parenthesised(ascii_lower(to_simplified(lines[i].text))));
    if (text.empty()) {
      drop("empty after removing parenthesised text");
      continue;
    }
    std::string hit;
    for (const auto& p : phrases) {
      if (!p.empty() && text.find(p) != std::string::npos) {
        hit = p;
        break;
      }
    }
    if (!hit.empty()) {
      drop("credit or plug: " + hit);
      continue;
    }
    if (is_unit_repetition(text, config.max_unit_repeats)) {
      drop("long repetition");
      continue;
    }
    if (only_digits_and_punctuation(text)) {
      drop("digits and punctuation only");
      continue;
    }
    const auto n = static_cast<int64_t>(count_code_points(text));
    if (n < config.min_chars) {
      drop("too short");
      continue;
    }
    if (n >= config.max_chars) {
      drop("too long");
      continue;
    }
    run = text == previous ? run + 1 : 1;
    previous = text;
    if (run > config.max_run) {
      drop("repeat");
      continue;
    }
    result.kept.push_back({text, lines[i].time_s});
  }
  return result;
}

std::string to_lrc(const std::vector<LyricLine>& lines) {
  std::string out;
  char stamp[32];
  for (const auto& l : lines) {
    if (l.time_s) {
      const double t = std::max(0.0, *l.time_s);
      const int minutes = static_cast<int>(t / 60);
      std::snprintf(stamp, sizeof stamp, "[%02d:%05.2f]", minutes, t - 60.0 * minutes);
      out += stamp;
    }
    out += l.text + "\n";
  }
  return out;
}

CleanedLyrics clean_lyrics(const Lyrics& lyrics, const CleanConfig& config) {
  CleanedLyrics out;
  size_t offset = 0;
  auto clean_part = [&](const std::vector<LyricLine>& lines) {
    CleanResult r = clean_transcript(lines, config);
    for (auto& d : r.dropped) {
      d.index += offset;
      out.dropped.push_back(std::move(d));
    }
    offset += lines.size();
    return std::move(r.kept);
  };
  out.lyrics.preamble = clean_part(lyrics.preamble);
  for (const auto& section : lyrics.sections) {
    out.lyrics.sections.push_back({section.tag, clean_part(section.lines)});
  }
  return out;
}

std::string to_lrc(const Lyrics& lyrics) {
  std::string out = to_lrc(lyrics.preamble);
  for (const auto& s : lyrics.sections) out += "(" + s.tag.str() + ")\n" + to_lrc(s.lines);
  return out;
}

}  // namespace mudit::text
