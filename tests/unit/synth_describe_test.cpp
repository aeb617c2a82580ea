// describe_song: exact professional facts, every register × language × length, and an amateur
// register whose link to the labels is real but noisy.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

SongLabels ballad_in_g() {
  SongLabels s;
  s.id = "test";
  s.tonic_pc = 7;
  s.mode = Mode::kMajor;
  s.bpm = 120;
  s.meter = Meter::k4_4;
  s.style = Style::kBallad;
  auto part = [](const char* role, int program, int channel, const char* name) {
    Part p;
    p.role = role;
    p.program = program;
    p.channel = channel;
    p.name = name;
    return p;
  };
  s.parts = {part("chords", 0, 0, "Acoustic Grand Piano"), part("pad", 48, 1, "String Ensemble 1"),
             part("pad", 49, 2, "String Ensemble 2"), part("bass", 32, 3, "Acoustic Bass"),
             part("drums", 0, 9, "Standard Kit")};
  s.sections = {{{text::Section::kIntro, 1}, 0, 2, 0.0, 4.0},
                {{text::Section::kVerse, 1}, 2, 8, 4.0, 20.0},
                {{text::Section::kChorus, 1}, 10, 4, 20.0, 28.0}};
  const char* romans[4] = {"I", "V", "vi", "IV"};
  for (int bar = 0; bar < 14; ++bar) {
    BarChord c;
    c.bar = bar;
    c.start_s = bar * 2.0;
    c.roman = romans[((bar + 6) / 2) % 4];  // two bars per chord; the verse (bar 2) opens on I
    s.chords.push_back(c);
  }
  for (int i = 0; i < 8; ++i) s.melody.push_back({4.0 + i * 0.5, 4.4 + i * 0.5, 67 + i % 5, 90});
  s.voice = {"female", "alto", 55, 74, "gcin-voice"};
  LyricLine line;
  line.text = "你是我心中的月光";
  line.lang = "zh";
  s.lyrics = {line};
  s.duration_s = 28;
  return s;
}

bool contains(const std::vector<Description>& ds, const std::string& text) {
  return std::any_of(ds.begin(), ds.end(),
                     [&](const Description& d) { return d.text.find(text) != std::string::npos; });
}

TEST(SynthDescribe, ProfessionalStatesTheLabelsExactly) {
  const auto d = describe_song(ballad_in_g(), 1);
  EXPECT_TRUE(contains(d.professional,
                       "G大调，120 BPM，4/4拍，大钢琴、弦乐、原声贝斯与架子鼓，"
                       "I–V–vi–IV 和声进行，女声中音区"));
  EXPECT_TRUE(contains(d.professional, "G major, 120 BPM, 4/4"));
  EXPECT_TRUE(contains(d.professional, "前奏–主歌–副歌"));
  EXPECT_TRUE(contains(d.professional, "intro–verse–chorus"));
  EXPECT_TRUE(contains(d.professional, "G4–B4"));  // the melody's range (67..71)
  EXPECT_TRUE(contains(d.professional, "中文演唱"));
  EXPECT_EQ(d.professional_tags.at("风格或流派"), std::vector<std::string>{"抒情流行"});
  EXPECT_EQ(d.professional_tags.at("速度与节奏"),
            (std::vector<std::string>{"中快速", "120 BPM", "4/4拍"}));
  EXPECT_EQ(d.professional_tags.at("调性"), std::vector<std::string>{"G大调"});
  EXPECT_EQ(d.professional_tags.at("和声"), std::vector<std::string>{"I–V–vi–IV"});
  EXPECT_EQ(d.professional_tags.at("配器与音效"),
            (std::vector<std::string>{"大钢琴", "弦乐", "原声贝斯", "架子鼓"}));
  const auto& themes = d.professional_tags.at("歌词和主题内容");
  EXPECT_NE(std::find(themes.begin(), themes.end(), "夜晚"), themes.end());  // 月光
}

TEST(SynthDescribe, PentatonicModesAndOtherMetersAreNamed) {
  SongLabels s = ballad_in_g();
  s.tonic_pc = 2;
  s.mode = Mode::kYu;
  s.meter = Meter::k6_8;
  s.style = Style::kChineseTraditional;
  s.bpm = 66;
  const auto d = describe_song(s, 3);
  EXPECT_TRUE(contains(d.professional, "D羽调式，66 BPM，6/8拍"));
  EXPECT_TRUE(contains(d.professional, "D yu pentatonic, 66 BPM, 6/8"));
  EXPECT_TRUE(contains(d.professional, "慢板"));
  EXPECT_TRUE(contains(d.professional, "adagio"));
  EXPECT_EQ(d.professional_tags.at("文化与地域"), std::vector<std::string>{"中国风"});
}

TEST(SynthDescribe, EveryRegisterLanguageAndLengthHasParaphrases) {
  const auto d = describe_song(ballad_in_g(), 5);
  for (const auto* list : {&d.amateur, &d.professional}) {
    for (const char* lang : {"zh", "en"}) {
      for (const char* length : {"short", "medium", "long"}) {
        std::set<std::string> texts;
        for (const auto& x : *list) {
          if (x.lang == lang && x.length == length) texts.insert(x.text);
        }
        EXPECT_GE(texts.size(), 2u) << lang << " " << length;
      }
    }
  }
  // Lengths mean something: on average long > medium > short.
  auto mean_len = [](const std::vector<Description>& ds, const char* length) {
    double sum = 0, n = 0;
    for (const auto& x : ds) {
      if (x.length == length) sum += x.text.size(), ++n;
    }
    return sum / n;
  };
  for (const auto* list : {&d.amateur, &d.professional}) {
    EXPECT_LT(mean_len(*list, "short"), mean_len(*list, "medium"));
    EXPECT_LT(mean_len(*list, "medium"), mean_len(*list, "long"));
  }
  for (const char* dim : {"特色感受", "快慢感受", "表现力感受（歌手）", "情绪感受（歌词）",
                          "配器与音效", "歌唱和人声", "歌曲用途", "文化与地域", "适用人群"}) {
    EXPECT_TRUE(d.amateur_tags.count(dim)) << dim;
  }
}

TEST(SynthDescribe, DeterministicPerSeed) {
  const SongLabels s = ballad_in_g();
  const auto a = describe_song(s, 11);
  const auto b = describe_song(s, 11);
  EXPECT_EQ(a.amateur, b.amateur);
  EXPECT_EQ(a.professional, b.professional);
  EXPECT_EQ(a.amateur_tags, b.amateur_tags);
  int differ = 0;
  for (uint64_t seed = 12; seed < 22; ++seed) differ += describe_song(s, seed).amateur != a.amateur;
  EXPECT_GE(differ, 8);
}

// The amateur register follows the labels on average but not always: minor keys are usually,
// not always, heard as sad; fast songs usually, not always, as fast.
TEST(SynthDescribe, AmateurWordsAreLinkedToLabelsButNoisy) {
  std::mt19937_64 rng(7);
  int sad_minor = 0, minor = 0, sad_major = 0, major = 0;
  int fast_feel_fast = 0, fast = 0, fast_feel_slow = 0, slow = 0;
  const std::set<std::string> sad_words{"伤感", "无奈", "怀念"};
  const std::set<std::string> fast_words{"较快", "轻快"};
  for (int i = 0; i < 600; ++i) {
    SongLabels s = ballad_in_g();
    s.mode = rng() % 2 ? Mode::kMinor : Mode::kMajor;
    s.bpm = 60 + static_cast<double>(rng() % 121);
    s.style = static_cast<Style>(rng() % 6);
    const auto d = describe_song(s, rng());
    const bool sad = sad_words.count(d.amateur_tags.at("情绪感受（歌词）").at(0)) > 0;
    (s.mode == Mode::kMinor ? minor : major)++;
    (s.mode == Mode::kMinor ? sad_minor : sad_major) += sad;
    const bool feels_fast = fast_words.count(d.amateur_tags.at("快慢感受").at(0)) > 0;
    if (s.bpm >= 150) fast++, fast_feel_fast += feels_fast;
    if (s.bpm <= 90) slow++, fast_feel_slow += feels_fast;
  }
  const double p_sad_minor = double(sad_minor) / minor, p_sad_major = double(sad_major) / major;
  EXPECT_GT(p_sad_minor, 0.6);
  EXPECT_LT(p_sad_minor, 0.97);  // not always
  EXPECT_LT(p_sad_major, 0.4);
  EXPECT_GT(p_sad_major, 0.03);
  const double p_fast = double(fast_feel_fast) / fast, p_slow = double(fast_feel_slow) / slow;
  EXPECT_GT(p_fast, 0.5);
  EXPECT_LT(p_fast, 0.97);
  EXPECT_LT(p_slow, 0.3);
}

}  // namespace
}  // namespace mudit::data::synth
