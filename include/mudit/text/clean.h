#pragma once

// Clean-up of ASR lyric transcripts (what the seed intended; its phrase list never loaded).

#include <string>
#include <vector>

#include "mudit/text/lyrics.h"

namespace mudit::text {

struct CleanConfig {
  /// A line containing any of these (after simplification and lower-casing) is dropped: credits,
  /// subtitle and subscription plugs that ASR hallucinates over music.
  std::vector<std::string> hallucinations{"作词",       "作曲",
                                          "编曲",       "混音",
                                          "制作人",     "监制",
                                          "录音",       "母带",
                                          "和声编写",   "出品",
                                          "字幕",       "订阅",
                                          "点赞",       "转发",
                                          "打赏",       "关注",
                                          "谢谢观看",   "感谢观看",
                                          "明镜与点点", "subtitles by",
                                          "amara.org",  "thanks for watching",
                                          "subscribe"};
  int64_t min_chars = 2;         // lines shorter than this (code points) are dropped
  int64_t max_chars = 80;        // lines this long or longer are dropped
  int64_t max_run = 1;           // consecutive identical lines kept (more are dropped)
  int64_t max_unit_repeats = 6;  // a line that is one 1-4 character unit repeated this often

  template <class V>
  void visit(V& v) {
    v("hallucinations", hallucinations);
    v("min_chars", min_chars);
    v("max_chars", max_chars);
    v("max_run", max_run);
    v("max_unit_repeats", max_unit_repeats);
  }
  void validate() const;
};

struct DroppedLine {
  size_t index = 0;    // 0-based position in the input lines
  std::string text;    // as it was in the input
  std::string reason;  // "credit or plug: 作词", "too short", "repeat", ...
};

struct CleanResult {
  std::vector<LyricLine> kept;  // cleaned text; timestamps kept
  std::vector<DroppedLine> dropped;
};

/// Per line, in order: traditional → simplified, lower case, parenthesised text removed (ASCII
/// and full-width parentheses), widths folded; then the line is dropped when empty, when it holds
/// a hallucination phrase, when it is one short unit repeated, when it has only digits and
/// punctuation, when it is too short or too long, or when it repeats the previous kept line more
/// than max_run times in a row.
CleanResult clean_transcript(const std::vector<LyricLine>& lines, const CleanConfig& config = {});

/// Cleans every part of `lyrics` (preamble and each section separately, so a repeated chorus
/// line is never collapsed across sections), keeping the section tags. Dropped lines are indexed
/// by their position among all lyric lines of the input.
struct CleanedLyrics {
  Lyrics lyrics;
  std::vector<DroppedLine> dropped;
};
CleanedLyrics clean_lyrics(const Lyrics& lyrics, const CleanConfig& config = {});

/// LRC text of lines: "[mm:ss.xx]text" when a line has a time, else the text.
std::string to_lrc(const std::vector<LyricLine>& lines);
/// The same for whole lyrics: preamble, then "(verse1)" tag lines and their lines.
std::string to_lrc(const Lyrics& lyrics);

}  // namespace mudit::text
