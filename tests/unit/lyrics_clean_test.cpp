#include <gtest/gtest.h>

#include "mudit/core/error.h"
#include "mudit/text/clean.h"
#include "mudit/text/normalize.h"

namespace mudit::text {
namespace {

std::vector<LyricLine> lines(const std::vector<std::string>& texts) {
  std::vector<LyricLine> out;
  for (const auto& t : texts) out.push_back({t, std::nullopt});
  return out;
}

TEST(Normalize, TraditionalToSimplified) {
  EXPECT_EQ(to_simplified("歌詞"), "歌词");
  EXPECT_EQ(to_simplified("我愛你，親愛的"), "我爱你，亲爱的");
  EXPECT_EQ(to_simplified("頭髮"), "头发");  // phrase-aware: 髮 → 发
  EXPECT_EQ(to_simplified("hello 123"), "hello 123");
  EXPECT_EQ(to_simplified(""), "");
  EXPECT_EQ(count_code_points("a歌b"), 3u);
  EXPECT_EQ(ascii_lower("Hello 歌"), "hello 歌");
}

TEST(Clean, EachRuleWithItsReason) {
  const CleanResult r = clean_transcript(lines({
      "作詞：某人",               // 0 credit (after simplification)
      "Subscribe to my channel",  // 1 plug (case-insensitive)
      "(music)",                  // 2 empty after parentheses
      "啦啦啦啦啦啦啦啦",         // 3 long repetition
      "123 !!",                   // 4 digits and punctuation
      "哦",                       // 5 too short
      "the quick brown fox jumps over the lazy dog and the quick brown fox jumps over it "
      "again",                     // 6 too long
      "當你走進這歡樂場（伴唱）",  // 7 kept, simplified, parenthesised part removed
      "当你走进这欢乐场",          // 8 repeat of the previous kept line
      "HELLO World",               // 9 kept, lower case
  }));
  ASSERT_EQ(r.kept.size(), 2u);
  EXPECT_EQ(r.kept[0].text, "当你走进这欢乐场");
  EXPECT_EQ(r.kept[1].text, "hello world");
  ASSERT_EQ(r.dropped.size(), 8u);
  const std::vector<std::string> reasons = {"credit or plug: 作词",
                                            "credit or plug: subscribe",
                                            "empty after removing parenthesised text",
                                            "long repetition",
                                            "digits and punctuation only",
                                            "too short",
                                            "too long",
                                            "repeat"};
  for (size_t i = 0; i < reasons.size(); ++i) EXPECT_EQ(r.dropped[i].reason, reasons[i]) << i;
  EXPECT_EQ(r.dropped[0].text, "作詞：某人");  // the input text, for the report
  EXPECT_EQ(r.dropped[7].index, 8u);
}

TEST(Clean, TimestampsKeptAndRunsAllowedUpToMaxRun) {
  std::vector<LyricLine> in = {{"一杯敬朝阳", 1.5}, {"一杯敬朝阳", 3.0}, {"一杯敬朝阳", 4.5}};
  CleanConfig cfg;
  cfg.max_run = 2;
  const CleanResult r = clean_transcript(in, cfg);
  ASSERT_EQ(r.kept.size(), 2u);
  EXPECT_EQ(r.kept[1].time_s, 3.0);
  EXPECT_EQ(to_lrc(r.kept), "[00:01.50]一杯敬朝阳\n[00:03.00]一杯敬朝阳\n");
}

TEST(Clean, SectionsAreCleanedSeparately) {
  const Lyrics l = parse_lyrics("(chorus1)\n一杯敬故乡\n(chorus2)\n一杯敬故乡\n");
  const CleanedLyrics c = clean_lyrics(l);
  EXPECT_TRUE(c.dropped.empty());  // the same line in two sections is not a repeat
  EXPECT_EQ(to_lrc(c.lyrics), "(chorus1)\n一杯敬故乡\n(chorus2)\n一杯敬故乡\n");
}

TEST(Clean, ConfigValidation) {
  CleanConfig cfg;
  cfg.max_chars = 1;
  EXPECT_THROW(clean_transcript({}, cfg), mudit::ConfigError);
}

}  // namespace
}  // namespace mudit::text
