#pragma once

// Structure-tagged lyrics. Tags come in many forms in the wild — "(verse1)", "(pre-chorus2)",
// "[Verse 1]", "<|ss_verse|>", "【副歌】", "【主歌2】" — and all map to seven canonical sections
// with ordinals: intro, verse, prechorus, chorus, bridge, interlude, outro.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mudit::text {

enum class Section { kIntro, kVerse, kPrechorus, kChorus, kBridge, kInterlude, kOutro };

/// "intro", "verse", "prechorus", "chorus", "bridge", "interlude", "outro".
const char* section_name(Section section);

struct SectionTag {
  Section section = Section::kVerse;
  int ordinal = 0;  // 1-based; 0 when the tag gave none (parse_lyrics numbers those)
  /// Canonical spelling: "verse1" (or "verse" without an ordinal).
  std::string str() const;
  bool operator==(const SectionTag& o) const {
    return section == o.section && ordinal == o.ordinal;
  }
};

/// Recognises a line that is a structure tag, in any of the forms above (case, spaces, hyphens,
/// full-width brackets, Arabic or Chinese ordinals); std::nullopt for anything else, including
/// LRC timestamps and bracketed text that names no section.
std::optional<SectionTag> parse_section_tag(std::string_view line);

struct LyricLine {
  std::string text;
  std::optional<double> time_s;  // the first LRC timestamp of the line, in seconds
};

struct LyricSection {
  SectionTag tag;
  std::vector<LyricLine> lines;
};

struct Lyrics {
  /// Lines before the first tag (untagged lyrics) have no section and stay here.
  std::vector<LyricLine> preamble;
  std::vector<LyricSection> sections;
  size_t line_count() const;
};

/// Parses lyrics text: tag lines open sections; other non-empty lines are lyric lines, with LRC
/// timestamps ("[01:23.45]") taken off into time_s. Tags without an ordinal are numbered per
/// section kind in order of appearance ([Chorus] twice → chorus1, chorus2). Text is UTF-8;
/// CRLF and a BOM are accepted.
Lyrics parse_lyrics(std::string_view text);

/// The canonical layout: "(verse1)\nline\nline\n(chorus1)\n...", preamble lines first.
std::string to_canonical(const Lyrics& lyrics);

/// Folds full-width ASCII (U+FF01..U+FF5E) and the ideographic space (U+3000) to their ASCII
/// forms, turns tabs into spaces, collapses runs of spaces and trims the ends.
std::string fold_width(std::string_view text);

}  // namespace mudit::text
