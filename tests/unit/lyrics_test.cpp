#include <gtest/gtest.h>

#include <filesystem>

#include "mudit/text/lyrics.h"
#include "unit/test_util.h"

namespace mudit::text {
namespace {

namespace fs = std::filesystem;

SectionTag tag(Section s, int ordinal) {
  return SectionTag{s, ordinal};
}

TEST(SectionTags, EveryFormSeenInTheWild) {
  const std::vector<std::pair<std::string, SectionTag>> cases = {
      {"(verse1)", tag(Section::kVerse, 1)},         {"(pre-chorus2)", tag(Section::kPrechorus, 2)},
      {"(ending1)", tag(Section::kOutro, 1)},        {"[Verse 1]", tag(Section::kVerse, 1)},
      {"[Pre-Chorus]", tag(Section::kPrechorus, 0)}, {"[CHORUS 12]", tag(Section::kChorus, 12)},
      {"[Outro]", tag(Section::kOutro, 0)},          {"<|ss_verse|>", tag(Section::kVerse, 0)},
      {"<|ss_chorus2|>", tag(Section::kChorus, 2)},  {"【副歌】", tag(Section::kChorus, 0)},
      {"【主歌2】", tag(Section::kVerse, 2)},        {"【主歌二】", tag(Section::kVerse, 2)},
      {"（间奏）", tag(Section::kInterlude, 0)},     {"  [Bridge]  ", tag(Section::kBridge, 0)},
      {"[Intro]", tag(Section::kIntro, 0)},          {"(前奏)", tag(Section::kIntro, 0)},
      {"[Refrain]", tag(Section::kChorus, 0)},
  };
  for (const auto& [text, want] : cases) {
    const auto got = parse_section_tag(text);
    ASSERT_TRUE(got.has_value()) << text;
    EXPECT_EQ(got->str(), want.str()) << text;
  }
}

TEST(SectionTags, LyricsTimestampsAndUnknownBracketsAreNotTags) {
  for (const char* text : {"当你走进这欢乐场", "(oh baby)", "[00:12.34]", "[01:02:50]歌词",
                           "[Chorus x2]", "()", "[]", "verse1", "(verse1) and more"}) {
    EXPECT_FALSE(parse_section_tag(text).has_value()) << text;
  }
}

TEST(Lyrics, ParsesSectionsNumbersUntaggedOnesAndTakesTimestamps) {
  const Lyrics l = parse_lyrics(
      "\xEF\xBB\xBF"
      "intro words\r\n"
      "[Chorus]\r\n"
      "[00:10.50]first line\n"
      "\n"
      "[00:12.00][00:40.00]second line\n"
      "[Verse 1]\n"
      "third\n"
      "[Chorus]\n"
      "fourth\n");
  ASSERT_EQ(l.preamble.size(), 1u);
  EXPECT_EQ(l.preamble[0].text, "intro words");
  ASSERT_EQ(l.sections.size(), 3u);
  EXPECT_EQ(l.sections[0].tag.str(), "chorus1");
  EXPECT_EQ(l.sections[2].tag.str(), "chorus2");  // numbered in order of appearance
  ASSERT_EQ(l.sections[0].lines.size(), 2u);
  EXPECT_EQ(l.sections[0].lines[0].text, "first line");
  ASSERT_TRUE(l.sections[0].lines[0].time_s.has_value());
  EXPECT_DOUBLE_EQ(*l.sections[0].lines[0].time_s, 10.5);
  EXPECT_DOUBLE_EQ(*l.sections[0].lines[1].time_s, 12.0);  // the first of two stamps
  EXPECT_EQ(l.line_count(), 5u);
  EXPECT_EQ(
      to_canonical(l),
      "intro words\n(chorus1)\nfirst line\nsecond line\n(verse1)\nthird\n(chorus2)\nfourth\n");
}

// Found by fuzz_lyrics: a tag behind a timestamp was kept as a lyric line, written without its
// time by to_canonical, and read back as a tag: the canonical layout was not a fixed point.
TEST(Lyrics, ATagBehindATimestampIsATagAndCanonicalIsAFixedPoint) {
  const std::string text = "[Intro]\n(verse0)\n[00:02.03](verse0)\n[00:04.00]rain falls\n";
  const Lyrics l = parse_lyrics(text);
  ASSERT_EQ(l.sections.size(), 3u);
  EXPECT_EQ(l.sections[2].tag.str(), "verse2");
  ASSERT_EQ(l.sections[2].lines.size(), 1u);
  EXPECT_EQ(l.sections[2].lines[0].text, "rain falls");
  const std::string canonical = to_canonical(l);
  EXPECT_EQ(canonical, "(intro1)\n(verse1)\n(verse2)\nrain falls\n");
  EXPECT_EQ(to_canonical(parse_lyrics(canonical)), canonical);
  // Two byte-order marks (also found by fuzz_lyrics): both go.
  EXPECT_EQ(to_canonical(parse_lyrics("\xEF\xBB\xBF\xEF\xBB\xBFla\n")), "la\n");
  EXPECT_EQ(to_canonical(parse_lyrics("\n\xEF\xBB\xBF[Chorus] \xEF\xBB\xBF\nla\n")),
            "(chorus1)\nla\n");
  // Timestamps separated by space or a BOM are all taken off (found by fuzz_lyrics).
  const Lyrics two = parse_lyrics("[00:01.00] [00:02.00]\xEF\xBB\xBF[00:03.00]la\n");
  ASSERT_EQ(two.preamble.size(), 1u);
  EXPECT_EQ(two.preamble[0].text, "la");
  EXPECT_DOUBLE_EQ(*two.preamble[0].time_s, 1.0);
}

TEST(Lyrics, FoldWidth) {
  EXPECT_EQ(fold_width("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\x91\xE3\x80\x80\xEF\xBC\x81"), "AB1 !");
  EXPECT_EQ(fold_width("  a\t\tb  \xE4\xBD\xA0\xE5\xA5\xBD  "), "a b \xE4\xBD\xA0\xE5\xA5\xBD");
  EXPECT_EQ(fold_width(""), "");
}

// Every MuChin sample song: all tag lines recognised, ordinals kept, and the lines per section
// agree with the human rhyme annotation (str_rhyme), which marks one row per lyric line.
TEST(Lyrics, MuChinSampleStructureMatchesTheRhymeFiles) {
  const fs::path root = fs::path(MUDIT_SHARED_DIR) / "data/muchin-sample";
  if (!fs::exists(root)) GTEST_SKIP() << "no MuChin sample at " << root;
  size_t songs = 0, sections = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!fs::exists(entry.path() / "str_lyric")) continue;
    SCOPED_TRACE(entry.path().filename().string());
    const std::string raw = test::read_file(entry.path() / "str_lyric");
    const Lyrics lyrics = parse_lyrics(raw);
    const Lyrics rhyme = parse_lyrics(test::read_file(entry.path() / "str_rhyme"));
    size_t tag_lines = 0;
    for (size_t pos = 0; pos < raw.size();) {
      const size_t end = std::min(raw.find('\n', pos), raw.size());
      if (raw.compare(pos, 1, "(") == 0) ++tag_lines;
      pos = end + 1;
    }
    EXPECT_EQ(lyrics.sections.size(), tag_lines);
    EXPECT_TRUE(lyrics.preamble.empty());
    ASSERT_EQ(lyrics.sections.size(), rhyme.sections.size());
    for (size_t i = 0; i < lyrics.sections.size(); ++i) {
      EXPECT_EQ(lyrics.sections[i].tag, rhyme.sections[i].tag);
      EXPECT_EQ(lyrics.sections[i].lines.size(), rhyme.sections[i].lines.size()) << i;
      EXPECT_GE(lyrics.sections[i].tag.ordinal, 1);
    }
    sections += lyrics.sections.size();
    ++songs;
  }
  EXPECT_EQ(songs, 200u);
  RecordProperty("sections", static_cast<int>(sections));
}

}  // namespace
}  // namespace mudit::text
