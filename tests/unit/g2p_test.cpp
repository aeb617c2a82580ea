#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "mudit/text/g2p.h"
#include "mudit/text/normalize.h"
#include "unit/test_util.h"

namespace mudit::text {
namespace {

namespace fs = std::filesystem;

const fs::path kMuchin = fs::path(MUDIT_SHARED_DIR) / "data" / "muchin-sample";

std::vector<std::string> pinyin_of(const G2P& g2p, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& s : g2p.pinyin(text)) out.push_back(s.pinyin);
  return out;
}

using V = std::vector<std::string>;

TEST(Normalize, ChineseNumbersReadNaturally) {
  EXPECT_EQ(digits_to_words("2024年"), "二零二四年");
  EXPECT_EQ(digits_to_words("我15岁"), "我十五岁");
  EXPECT_EQ(digits_to_words("走了100步"), "走了一百步");
  EXPECT_EQ(digits_to_words("105个"), "一百零五个");
  EXPECT_EQ(digits_to_words("3.5度"), "三点五度");
  EXPECT_EQ(digits_to_words("涨了10%"), "涨了百分之十");
  EXPECT_EQ(digits_to_words("2000块"), "两千块");
  EXPECT_EQ(digits_to_words("1015米"), "一千零一十五米");
  EXPECT_EQ(digits_to_words("100010元"), "十万零一十元");
  EXPECT_EQ(digits_to_words("12000人"), "一万两千人");
  EXPECT_EQ(digits_to_words("007号"), "零零七号");
}

TEST(Normalize, EnglishNumbersNextToLatinText) {
  EXPECT_EQ(digits_to_words("I am 15"), "I am fifteen");
  EXPECT_EQ(digits_to_words("99 problems"), "ninety-nine problems");
  EXPECT_EQ(digits_to_words("3.5 stars"), "three point five stars");
  EXPECT_EQ(digits_to_words("10% off"), "ten percent off");
  EXPECT_EQ(digits_to_words("1234 steps"), "one thousand two hundred thirty-four steps");
  EXPECT_EQ(digits_to_words("7"), "seven");  // no letters: English unless the line has Han
}

TEST(Normalize, LyricLineFoldsSimplifiesSpellsAndDropsPunctuation) {
  EXPECT_EQ(normalize_lyric_line("  頭髮，亂了！ "), "头发 乱了");
  EXPECT_EQ(normalize_lyric_line("ＡＢＣ　don't stop…"), "ABC don't stop");
  EXPECT_EQ(normalize_lyric_line("我们的2024年!"), "我们的二零二四年");
  EXPECT_EQ(normalize_lyric_line("'quoted'"), "quoted");
}

TEST(Pinyin, SplitsInitialsAndFinals) {
  struct Case {
    const char* pinyin;
    const char* initial;
    const char* final;
    int tone;
  };
  for (const Case& c : std::vector<Case>{
           {"zhang3", "zh", "ang", 3}, {"hang2", "h", "ang", 2}, {"yi1", "", "i", 1},
           {"ya1", "", "ia", 1},       {"you3", "", "iu", 3},    {"yu2", "", "v", 2},
           {"yue4", "", "ve", 4},      {"yuan2", "", "van", 2},  {"wu3", "", "u", 3},
           {"wei4", "", "ui", 4},      {"wen2", "", "un", 2},    {"ju1", "j", "v", 1},
           {"que4", "q", "ve", 4},     {"xun2", "x", "vn", 2},   {"lv4", "l", "v", 4},
           {"zhi1", "zh", "ir", 1},    {"ri4", "r", "ir", 4},    {"si1", "s", "iz", 1},
           {"er2", "", "er", 2},       {"de5", "d", "e", 5},     {"ying1", "", "ing", 1},
           {"weng1", "", "ueng", 1},   {"gui4", "g", "ui", 4},   {"dun1", "d", "un", 1}}) {
    const Syllable s = split_pinyin(c.pinyin);
    EXPECT_EQ(s.initial, c.initial) << c.pinyin;
    EXPECT_EQ(s.final, c.final) << c.pinyin;
    EXPECT_EQ(s.tone, c.tone) << c.pinyin;
  }
  EXPECT_NE(test::error_of([] { split_pinyin("xyz9"); }).find("not a pinyin syllable"),
            std::string::npos);
  EXPECT_EQ(pinyin_initials().size(), 21u);
  EXPECT_EQ(pinyin_finals().size(), 38u);
}

TEST(Vocab, IdsAreFixedByCode) {
  const PhonemeVocab v;
  EXPECT_EQ(v.vocab_size(), 138);
  EXPECT_EQ(PhonemeVocab(true).vocab_size(), 143);
  EXPECT_EQ(v.token_to_id("<pad>"), 0);
  EXPECT_EQ(v.token_to_id("<unk>"), 1);
  EXPECT_EQ(v.token_to_id("<sep>"), 2);
  EXPECT_EQ(v.token_to_id("<intro>"), 3);
  EXPECT_EQ(v.token_to_id("<outro>"), 9);
  EXPECT_EQ(v.token_to_id("C.b"), 10);
  EXPECT_EQ(v.token_to_id("C.s"), 30);
  EXPECT_EQ(v.token_to_id("C.a"), 31);
  EXPECT_EQ(v.token_to_id("C.vn"), 68);
  EXPECT_EQ(v.token_to_id("E.B"), 69);
  EXPECT_EQ(v.token_to_id("E.AA0"), 93);
  EXPECT_EQ(v.token_to_id("E.UW2"), 137);
  EXPECT_EQ(PhonemeVocab(true).token_to_id("T.5"), 142);
  EXPECT_EQ(v.token_to_id("no such token"), PhonemeVocab::kUnk);
  EXPECT_EQ(v.id_to_token(13), "C.f");
  EXPECT_NE(test::error_of([&] { v.id_to_token(138); }).find("out of range"), std::string::npos);
}

TEST(Vocab, SaveLoadRoundTripAndRejectsForeignFiles) {
  test::TempDir dir;
  const PhonemeVocab v(true);
  v.save((dir / "vocab.txt").string());
  const PhonemeVocab back = PhonemeVocab::load((dir / "vocab.txt").string());
  EXPECT_TRUE(back.tones());
  EXPECT_EQ(back.tokens(), v.tokens());
  const auto bad = dir.write("bad.txt", "<pad>\n<unk>\n");
  EXPECT_NE(test::error_of([&] { PhonemeVocab::load(bad.string()); }).find("not a phoneme"),
            std::string::npos);
}

TEST(Lexicon, MissingFolderIsAClearIoError) {
  const std::string msg = test::error_of([] { G2P(G2PConfig{"/nonexistent/pron"}); });
  EXPECT_NE(msg.find("no G2P lexicon in /nonexistent/pron"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mudit_pron"), std::string::npos) << msg;
}

TEST(G2P, PolyphonesFollowTheirWords) {
  const G2P g2p;
  EXPECT_EQ(pinyin_of(g2p, "银行"), (V{"yin2", "hang2"}));
  EXPECT_EQ(pinyin_of(g2p, "行走"), (V{"xing2", "zou3"}));
  EXPECT_EQ(pinyin_of(g2p, "长大"), (V{"zhang3", "da4"}));
  EXPECT_EQ(pinyin_of(g2p, "长城"), (V{"chang2", "cheng2"}));
  EXPECT_EQ(pinyin_of(g2p, "重要"), (V{"zhong4", "yao4"}));
  EXPECT_EQ(pinyin_of(g2p, "重复"), (V{"chong2", "fu4"}));
  EXPECT_EQ(pinyin_of(g2p, "音乐"), (V{"yin1", "yue4"}));
  EXPECT_EQ(pinyin_of(g2p, "快乐"), (V{"kuai4", "le4"}));
  EXPECT_EQ(pinyin_of(g2p, "我去银行取钱"), (V{"wo3", "qu4", "yin2", "hang2", "qu3", "qian2"}));
  EXPECT_EQ(pinyin_of(g2p, "听他在喧嚣里被淹没"),
            (V{"ting1", "ta1", "zai4", "xuan1", "xiao1", "li3", "bei4", "yan1", "mo4"}));
}

TEST(G2P, SegmentsOnWordFrequencies) {
  const G2P g2p;
  std::vector<std::string> words;
  for (const auto& w : g2p.convert("我们去银行")) words.push_back(w.text);
  EXPECT_EQ(words, (V{"我们", "去", "银行"}));
}

TEST(G2P, EnglishFromTheDictionaryElseLetterToSound) {
  const G2P g2p;
  bool in_dict = false;
  EXPECT_EQ(g2p.arpabet("Hello", &in_dict), (V{"HH", "AH0", "L", "OW1"}));
  EXPECT_TRUE(in_dict);
  EXPECT_EQ(g2p.arpabet("don't", &in_dict).front(), "D");
  EXPECT_TRUE(in_dict);
  const auto lts = g2p.arpabet("blorpington", &in_dict);
  EXPECT_FALSE(in_dict);
  ASSERT_FALSE(lts.empty());
  EXPECT_EQ(lts.front(), "B");
  EXPECT_EQ(lts.back(), "N");
}

TEST(G2P, LyricsToIdsLayout) {
  const G2P g2p;
  const PhonemeVocab vocab;
  const Lyrics l = parse_lyrics("(verse1)\n你好\nhi 2\n(chorus1)\n银行\n");
  const auto tokens = lyrics_to_tokens(l, g2p);
  EXPECT_EQ(tokens, (V{"<verse>", "C.n", "C.i", "C.h", "C.ao", "<sep>", "E.HH", "E.AY1", "E.T",
                       "E.UW1", "<chorus>", "C.in", "C.h", "C.ang"}));
  const auto ids = lyrics_to_ids(l, g2p, vocab);
  ASSERT_EQ(ids.size(), tokens.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(vocab.id_to_token(ids[i]), tokens[i]);
  G2PConfig toned;
  toned.tones = true;
  EXPECT_EQ(lyrics_to_tokens(parse_lyrics("好"), G2P(toned)), (V{"C.h", "C.ao", "T.3"}));
}

TEST(G2P, LexiconLoadsOnceAcrossThreads) {
  const G2P g2p;
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = g2p.pinyin("音乐").back().pinyin; });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, "yue4");
}

TEST(G2P, CoverageOfTheMuchinSample) {
  if (!fs::exists(kMuchin)) GTEST_SKIP() << "no MuChin sample at " << kMuchin;
  const G2P g2p;
  G2PCoverage c;
  for (const auto& e : fs::directory_iterator(kMuchin)) {
    if (fs::exists(e.path() / "str_lyric"))
      c += measure_coverage(test::read_file(e.path() / "str_lyric"), g2p);
  }
  ASSERT_GT(c.han_chars, 10000);
  EXPECT_GE(static_cast<double>(c.han_with_reading) / static_cast<double>(c.han_chars), 0.995);
}

}  // namespace
}  // namespace mudit::text
