// The synthetic corpus's lyrics and sung vocal: write_lyrics() and sing() on hand-made melodies
// (composition lives elsewhere), pinyin -> zhuyin, pitch accuracy against an independent F0
// estimate, durations, clicks, fallbacks, determinism and parallel singing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "data/synth/espeak_voice.h"
#include "data/synth/pinyin.h"
#include "data/synth/voice.h"
#include "data/synth/wordlist.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

const char* kGcinDir = "/usr/share/gcin-voice/ogg";

bool have_gcin() {
  return std::filesystem::is_directory(kGcinDir);
}

/// A four-section song (verse1, chorus1, verse2, chorus2), two phrases per section, notes of
/// `note_s` seconds (every third note twice as long) with a rest between phrases.
SongLabels make_song(const std::string& gender, int sample_rate, double note_s = 0.3,
                     std::vector<int> counts = {7, 6, 8, 7, 7, 6, 8, 7}) {
  SongLabels song;
  song.id = "test";
  song.sample_rate = sample_rate;
  song.voice.gender = gender;
  const int low = gender == "female" ? 62 : 50;
  const int steps[] = {0, 2, 4, 5, 7, 9, 7, 5, 4, 2, 0, 4, 7, 12, 11, 9};
  const text::Section kinds[] = {text::Section::kVerse, text::Section::kChorus,
                                 text::Section::kVerse, text::Section::kChorus};
  double t = 0.5;
  size_t step = 0;
  for (int s = 0; s < 4; ++s) {
    SectionSpan span;
    span.tag = {kinds[s], s / 2 + 1};
    span.start_s = t;
    for (int p = 0; p < 2; ++p) {
      Phrase phrase;
      phrase.section_index = s;
      phrase.first_note = static_cast<int>(song.melody.size());
      phrase.note_count = counts[static_cast<size_t>(2 * s + p)];
      phrase.start_s = t;
      for (int k = 0; k < phrase.note_count; ++k) {
        const double len = k % 3 == 2 ? 2 * note_s : note_s;
        song.melody.push_back({t, t + len, low + steps[step++ % 16], 96});
        t += len;
      }
      phrase.end_s = t;
      song.phrases.push_back(phrase);
      t += 0.4;
    }
    span.end_s = t;
    song.sections.push_back(span);
  }
  song.duration_s = t + 0.5;
  return song;
}

SynthConfig config_with(double english_fraction, const std::string& voice_dir = kGcinDir) {
  SynthConfig config;
  config.english_fraction = english_fraction;
  config.voice_dir = voice_dir;
  return config;
}

/// F0 of a frame by normalised autocorrelation, independent of the library's YIN: the shortest
/// lag whose correlation reaches 0.95 of the best over 70-1000 Hz (so sub-octaves lose); 0 when
/// the frame is unvoiced (best correlation under 0.6).
double frame_f0(const float* x, size_t n, int sr) {
  const auto lag_min = static_cast<size_t>(sr / 1000.0), lag_max = static_cast<size_t>(sr / 70.0);
  if (n <= lag_max + 16) return 0;
  const size_t w = n - lag_max;
  std::vector<double> r(lag_max + 1, 0.0);
  double best = 0;
  for (size_t lag = lag_min; lag <= lag_max; ++lag) {
    double c = 0, e1 = 0, e2 = 0;
    for (size_t i = 0; i < w; ++i) {
      c += double(x[i]) * x[i + lag];
      e1 += double(x[i]) * x[i];
      e2 += double(x[i + lag]) * x[i + lag];
    }
    r[lag] = e1 > 0 && e2 > 0 ? c / std::sqrt(e1 * e2) : 0;
    best = std::max(best, r[lag]);
  }
  if (best < 0.6) return 0;
  for (size_t lag = lag_min + 1; lag < lag_max; ++lag) {
    if (r[lag] >= 0.95 * best && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1]) {
      const double a = r[lag - 1], b = r[lag], c = r[lag + 1];
      const double d = a - 2 * b + c;
      const double refined = d < 0 ? double(lag) + 0.5 * (a - c) / d : double(lag);
      return sr / refined;
    }
  }
  return 0;
}

/// Median F0 over the middle of a note (from 30 % to 85 % of it), 40 ms frames every 10 ms.
double note_f0(const std::vector<float>& y, int sr, double start_s, double end_s) {
  const double len = end_s - start_s;
  const auto b = static_cast<size_t>((start_s + 0.3 * len) * sr);
  const auto e = static_cast<size_t>((start_s + 0.85 * len) * sr);
  const auto frame = static_cast<size_t>(0.04 * sr), hop = static_cast<size_t>(0.01 * sr);
  std::vector<double> f;
  for (size_t s = b; s + frame <= e && s + frame <= y.size(); s += hop) {
    const double v = frame_f0(y.data() + s, frame, sr);
    if (v > 0) f.push_back(v);
  }
  if (f.size() < 3) return 0;
  std::nth_element(f.begin(), f.begin() + static_cast<long>(f.size() / 2), f.end());
  return f[f.size() / 2];
}

struct Accuracy {
  int notes = 0, within_50 = 0, unvoiced = 0;
  double median_abs_cents = 0;
};

Accuracy pitch_accuracy(const SongLabels& song, const std::vector<float>& y) {
  Accuracy acc;
  std::vector<double> errors;
  for (const auto& note : song.melody) {
    ++acc.notes;
    const double f = note_f0(y, song.sample_rate, note.start_s, note.end_s);
    if (f <= 0) {
      ++acc.unvoiced;
      continue;
    }
    const double target = 440.0 * std::pow(2.0, (note.pitch - 69) / 12.0);
    const double cents = std::fabs(1200.0 * std::log2(f / target));
    errors.push_back(cents);
    if (cents <= 50) {
      ++acc.within_50;
    } else {
      std::printf("  note at %.2f s, pitch %d: sung %.1f Hz, wanted %.1f Hz\n", note.start_s,
                  note.pitch, f, target);
    }
  }
  if (!errors.empty()) {
    std::sort(errors.begin(), errors.end());
    acc.median_abs_cents = errors[errors.size() / 2];
  }
  return acc;
}

// --- pinyin ---------------------------------------------------------------------------------

TEST(SynthPinyin, ZhuyinOfKnownSyllables) {
  using vocal::gcin_folder_name;
  using vocal::pinyin_to_zhuyin;
  EXPECT_EQ(pinyin_to_zhuyin("zhi1"), "ㄓ");
  EXPECT_EQ(pinyin_to_zhuyin("guang1"), "ㄍㄨㄤ");
  EXPECT_EQ(pinyin_to_zhuyin("xue2"), "ㄒㄩㄝ");
  EXPECT_EQ(pinyin_to_zhuyin("you3"), "ㄧㄡ");
  EXPECT_EQ(pinyin_to_zhuyin("wen2"), "ㄨㄣ");
  EXPECT_EQ(pinyin_to_zhuyin("yuan2"), "ㄩㄢ");
  EXPECT_EQ(pinyin_to_zhuyin("qu4"), "ㄑㄩ");
  EXPECT_EQ(pinyin_to_zhuyin("zhong1"), "ㄓㄨㄥ");
  EXPECT_EQ(pinyin_to_zhuyin("jiong3"), "ㄐㄩㄥ");
  EXPECT_EQ(pinyin_to_zhuyin("hui2"), "ㄏㄨㄟ");
  EXPECT_EQ(pinyin_to_zhuyin("liu2"), "ㄌㄧㄡ");
  EXPECT_EQ(pinyin_to_zhuyin("dun4"), "ㄉㄨㄣ");
  EXPECT_EQ(pinyin_to_zhuyin("er2"), "ㄦ");
  EXPECT_EQ(pinyin_to_zhuyin("si4"), "ㄙ");
  EXPECT_EQ(pinyin_to_zhuyin("lv3"), "ㄌㄩ");
  EXPECT_EQ(pinyin_to_zhuyin("lü3"), "ㄌㄩ");
  EXPECT_EQ(pinyin_to_zhuyin("nu:3"), "ㄋㄩ");
  EXPECT_EQ(pinyin_to_zhuyin("yi1"), "ㄧ");
  EXPECT_EQ(pinyin_to_zhuyin("wu3"), "ㄨ");
  // gcin-voice: tone 1 unmarked, 2-4 as digits, the neutral tone as "1".
  EXPECT_EQ(gcin_folder_name("zhi1"), "ㄓ");
  EXPECT_EQ(gcin_folder_name("xue2"), "ㄒㄩㄝ2");
  EXPECT_EQ(gcin_folder_name("hao3"), "ㄏㄠ3");
  EXPECT_EQ(gcin_folder_name("ai4"), "ㄞ4");
  EXPECT_EQ(gcin_folder_name("de5"), "ㄉㄜ1");
  EXPECT_EQ(gcin_folder_name("de"), "ㄉㄜ1");  // no digit: neutral
  EXPECT_EQ(gcin_folder_name("ji"), "ㄐㄧ1");
  for (const char* bad : {"", "xa1", "zhi9", "jo1", "zhia2", "hello"}) {
    EXPECT_EQ(pinyin_to_zhuyin(bad), "") << bad;
  }
  EXPECT_EQ(vocal::rhyme_group("guang1"), "ang");
  EXPECT_EQ(vocal::rhyme_group("xiang3"), "ang");
  EXPECT_EQ(vocal::rhyme_group("hui2"), "ei");
  EXPECT_EQ(vocal::rhyme_group("yue4"), "ie");
  EXPECT_EQ(vocal::rhyme_group("shi2"), "i");
  EXPECT_EQ(vocal::rhyme_group("ling2"), "eng");
}

TEST(SynthPinyin, WordListsAreConsistentAndRecorded) {
  std::set<std::string> syllables;
  for (const auto& w : vocal::zh_words()) {
    std::string pinyin = w.pinyin;
    size_t count = 0, chars = 0;
    for (size_t i = 0; i < std::string(w.text).size(); ++i) {
      if ((static_cast<unsigned char>(w.text[i]) & 0xC0) != 0x80) ++chars;
    }
    for (size_t b = 0; b < pinyin.size();) {
      size_t e = pinyin.find(' ', b);
      if (e == std::string::npos) e = pinyin.size();
      const std::string syl = pinyin.substr(b, e - b);
      EXPECT_FALSE(vocal::pinyin_to_zhuyin(syl).empty()) << w.text << " " << syl;
      syllables.insert(syl);
      ++count;
      b = e + 1;
    }
    EXPECT_EQ(count, chars) << w.text;
  }
  for (const auto& w : vocal::en_words()) {
    if (w.role == vocal::Role::kNoun || w.role == vocal::Role::kEndVerb) {
      EXPECT_STRNE(w.rhyme, "") << w.text;
    }
  }
  if (!have_gcin()) GTEST_SKIP() << "gcin-voice not installed";
  int exact = 0, any_tone = 0;
  for (const auto& syl : syllables) {
    const auto folder = std::filesystem::path(kGcinDir) / vocal::gcin_folder_name(syl);
    if (std::filesystem::exists(folder / "3.ogg")) ++exact;
    const std::string zy = vocal::pinyin_to_zhuyin(syl);
    for (const char* suffix : {"", "1", "2", "3", "4"}) {
      if (std::filesystem::exists(std::filesystem::path(kGcinDir) / (zy + suffix) / "3.ogg")) {
        ++any_tone;
        break;
      }
    }
  }
  std::printf("word-list syllables: %zu, recorded in their tone: %d, in some tone: %d\n",
              syllables.size(), exact, any_tone);
  EXPECT_GE(exact, static_cast<int>(0.9 * syllables.size()));
  EXPECT_EQ(any_tone, static_cast<int>(syllables.size()));
}

// --- lyrics ---------------------------------------------------------------------------------

TEST(SynthLyrics, LinesFitPhrasesAndRhyme) {
  int english = 0;
  const std::vector<std::vector<int>> shapes = {
      {7, 6, 8, 7, 7, 6, 8, 7}, {5, 10, 9, 5, 6, 6, 10, 9}, {1, 2, 3, 4, 12, 16, 3, 4}};
  for (uint64_t seed = 0; seed < 30; ++seed) {
    SongLabels song = make_song("female", 24000, 0.3, shapes[seed % 3]);
    write_lyrics(song, config_with(0.5), seed);
    ASSERT_EQ(song.lyrics.size(), song.phrases.size());
    english += song.lyrics[0].lang == "en";
    std::map<int, std::set<std::string>> rhymes;  // section -> rhyme groups
    for (size_t k = 0; k < song.lyrics.size(); ++k) {
      const auto& line = song.lyrics[k];
      const auto& phrase = song.phrases[k];
      ASSERT_EQ(static_cast<int>(line.syllables.size()), phrase.note_count)
          << "seed " << seed << " line " << k << ": " << line.text;
      EXPECT_EQ(line.lang, song.lyrics[0].lang);
      EXPECT_EQ(line.section, song.sections[static_cast<size_t>(phrase.section_index)].tag);
      EXPECT_FALSE(line.text.empty());
      for (int i = 0; i < phrase.note_count; ++i) {
        const auto& note = song.melody[static_cast<size_t>(phrase.first_note + i)];
        const auto& syl = line.syllables[static_cast<size_t>(i)];
        EXPECT_EQ(syl.start_s, note.start_s);
        EXPECT_EQ(syl.end_s, note.end_s);
        EXPECT_EQ(syl.pitch, note.pitch);
        EXPECT_FALSE(syl.text.empty());
        if (line.lang == "zh")
          EXPECT_FALSE(vocal::pinyin_to_zhuyin(syl.sound).empty()) << syl.sound;
      }
      if (line.lang == "zh" && !line.rhyme.empty()) {
        EXPECT_EQ(vocal::rhyme_group(line.syllables.back().sound), line.rhyme) << line.text;
      }
      if (phrase.note_count >= 2) rhymes[phrase.section_index].insert(line.rhyme);
    }
    for (const auto& [section, groups] : rhymes) {
      EXPECT_EQ(groups.size(), 1u) << "seed " << seed << " section " << section;
      EXPECT_FALSE(groups.begin()->empty());
    }
    // Both choruses rhyme alike; equal note counts repeat the text.
    EXPECT_EQ(*rhymes[1].begin(), *rhymes[3].begin());
    if (shapes[seed % 3][2] == shapes[seed % 3][6]) {
      EXPECT_EQ(song.lyrics[2].text, song.lyrics[6].text);
    }
  }
  EXPECT_GT(english, 5);
  EXPECT_LT(english, 25);
  SongLabels song = make_song("male", 24000);
  write_lyrics(song, config_with(0.0), 3);
  std::printf("example (seed 3):\n");
  for (const auto& line : song.lyrics) {
    std::printf("  [%s] %s  (%s)\n", line.section.str().c_str(), line.text.c_str(),
                line.rhyme.c_str());
  }
  write_lyrics(song, config_with(1.0), 3);
  for (const auto& line : song.lyrics) {
    std::printf("  [%s] %s  (%s)\n", line.section.str().c_str(), line.text.c_str(),
                line.rhyme.c_str());
  }
}

TEST(SynthLyrics, DeterministicPerSeed) {
  for (double en : {0.0, 1.0}) {
    SongLabels a = make_song("male", 24000), b = make_song("male", 24000);
    write_lyrics(a, config_with(en), 42);
    write_lyrics(b, config_with(en), 42);
    ASSERT_EQ(a.lyrics.size(), b.lyrics.size());
    for (size_t k = 0; k < a.lyrics.size(); ++k) {
      EXPECT_EQ(a.lyrics[k].text, b.lyrics[k].text);
      EXPECT_EQ(a.lyrics[k].rhyme, b.lyrics[k].rhyme);
    }
    SongLabels c = make_song("male", 24000);
    write_lyrics(c, config_with(en), 43);
    std::string ta, tc;
    for (const auto& l : a.lyrics) ta += l.text;
    for (const auto& l : c.lyrics) tc += l.text;
    EXPECT_NE(ta, tc);
  }
}

// --- singing --------------------------------------------------------------------------------

TEST(SynthSing, ExactDurationAndDeterministic) {
  SongLabels song = make_song("female", 22050);
  song.duration_s += 0.123457;
  const SynthConfig config = config_with(0.0);
  write_lyrics(song, config, 5);
  SongLabels again = song;
  const auto a = sing(song, config, 5);
  const auto b = sing(again, config, 5);
  EXPECT_EQ(a.size(), static_cast<size_t>(std::llround(song.duration_s * 22050)));
  EXPECT_TRUE(a == b);  // bit-identical
  EXPECT_EQ(song.voice.source, again.voice.source);
  const auto c = sing(song, config, 6);
  EXPECT_FALSE(a == c);
}

TEST(SynthSing, PitchAccuracyGcinVoice) {
  if (!have_gcin()) GTEST_SKIP() << "gcin-voice not installed";
  for (const char* gender : {"male", "female"}) {
    SongLabels song = make_song(gender, 24000, 0.4);
    const SynthConfig config = config_with(0.0);
    write_lyrics(song, config, 11);
    vocal::SingStats stats;
    const auto y = vocal::sing_with_stats(song, config, 11, &stats);
    EXPECT_EQ(song.voice.source.rfind("gcin-voice", 0), 0u) << song.voice.source;
    EXPECT_EQ(stats.gcin + stats.formant, stats.syllables);
    const Accuracy acc = pitch_accuracy(song, y);
    std::printf(
        "%s gcin-voice: %d notes, %d within 50 cents, %d unvoiced, median |error| %.1f "
        "cents; %d syllables, %d tone fallbacks, %d formant\n",
        gender, acc.notes, acc.within_50, acc.unvoiced, acc.median_abs_cents, stats.syllables,
        stats.tone_fallbacks, stats.formant);
    EXPECT_GE(acc.within_50, static_cast<int>(0.85 * acc.notes)) << gender;
    EXPECT_LT(acc.median_abs_cents, 20) << gender;
  }
}

TEST(SynthSing, NoClicksNoClipping) {
  for (const char* dir : {kGcinDir, "/nonexistent/gcin"}) {
    SongLabels song = make_song("female", 24000, 0.25);
    const SynthConfig config = config_with(0.0, dir);
    write_lyrics(song, config, 9);
    const auto y = sing(song, config, 9);
    float peak = 0;
    for (float v : y) {
      ASSERT_TRUE(std::isfinite(v));
      peak = std::max(peak, std::fabs(v));
    }
    EXPECT_LT(peak, 0.9f);
    EXPECT_GT(peak, 0.05f);
    // Jumps at syllable edges (±3 ms around note starts and ends) are no larger than the
    // sung signal's own 99.9th-percentile jump, and no jump is large in absolute terms.
    std::vector<float> jumps;
    for (size_t t = 1; t < y.size(); ++t) jumps.push_back(std::fabs(y[t] - y[t - 1]));
    std::vector<float> sorted = jumps;
    std::sort(sorted.begin(), sorted.end());
    const float p999 = sorted[static_cast<size_t>(0.999 * double(sorted.size()))];
    float edge = 0;
    for (const auto& note : song.melody) {
      for (double at : {note.start_s, note.end_s}) {
        const auto c = static_cast<size_t>(at * 24000);
        for (size_t t = c > 72 ? c - 72 : 0; t < std::min(jumps.size(), c + 72); ++t) {
          edge = std::max(edge, jumps[t]);
        }
      }
    }
    std::printf("%s: peak %.3f, max jump %.3f, p99.9 jump %.3f, max jump at edges %.3f\n", dir,
                peak, sorted.back(), p999, edge);
    EXPECT_LE(edge, std::max(p999, 0.02f) * 1.5f) << dir;
    EXPECT_LT(sorted.back(), 0.6f) << dir;
  }
}

TEST(SynthSing, FormantVoiceWhenVoiceDirIsMissing) {
  SongLabels song = make_song("male", 24000, 0.4);
  const SynthConfig config = config_with(0.0, "/nonexistent/gcin-voice");
  write_lyrics(song, config, 4);
  vocal::SingStats stats;
  const auto y = vocal::sing_with_stats(song, config, 4, &stats);
  EXPECT_EQ(song.voice.source, "formant");
  EXPECT_EQ(stats.formant, stats.syllables);
  EXPECT_EQ(stats.formant_fallbacks, stats.syllables);
  EXPECT_EQ(stats.gcin, 0);
  const Accuracy acc = pitch_accuracy(song, y);
  std::printf("formant voice: %d notes, %d within 50 cents, median |error| %.1f cents\n", acc.notes,
              acc.within_50, acc.median_abs_cents);
  EXPECT_GE(acc.within_50, static_cast<int>(0.85 * acc.notes));
}

TEST(SynthSing, EnglishThroughEspeak) {
  if (!vocal::espeak_available()) GTEST_SKIP() << "built without espeak-ng (or no data)";
  for (const char* gender : {"female", "male"}) {
    SongLabels song = make_song(gender, 24000, 0.4);
    const SynthConfig config = config_with(1.0);
    write_lyrics(song, config, 8);
    ASSERT_EQ(song.lyrics[0].lang, "en");
    vocal::SingStats stats;
    const auto y = vocal::sing_with_stats(song, config, 8, &stats);
    EXPECT_EQ(song.voice.source.rfind("espeak-ng", 0), 0u) << song.voice.source;
    EXPECT_GE(stats.espeak, static_cast<int>(0.9 * stats.syllables));
    const Accuracy acc = pitch_accuracy(song, y);
    std::printf(
        "%s espeak-ng: %d notes, %d within 50 cents, %d unvoiced, median |error| %.1f "
        "cents\n",
        gender, acc.notes, acc.within_50, acc.unvoiced, acc.median_abs_cents);
    EXPECT_GE(acc.within_50, static_cast<int>(0.75 * acc.notes)) << gender;
  }
}

TEST(SynthSing, ParallelSongsMatchSerial) {
  const SynthConfig zh = config_with(0.0), en = config_with(1.0);
  std::vector<SongLabels> songs;
  std::vector<std::vector<float>> serial;
  for (int k = 0; k < 4; ++k) {
    songs.push_back(make_song(k % 2 ? "male" : "female", 16000, 0.25));
    write_lyrics(songs.back(), k < 2 ? zh : en, 100 + static_cast<uint64_t>(k));
    SongLabels copy = songs.back();
    serial.push_back(sing(copy, k < 2 ? zh : en, 100 + static_cast<uint64_t>(k)));
  }
  std::vector<std::vector<float>> parallel(4);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      parallel[static_cast<size_t>(k)] =
          sing(songs[static_cast<size_t>(k)], k < 2 ? zh : en, 100 + static_cast<uint64_t>(k));
    });
  }
  for (auto& t : threads) t.join();
  for (int k = 0; k < 4; ++k)
    EXPECT_TRUE(parallel[static_cast<size_t>(k)] == serial[static_cast<size_t>(k)]) << k;
}

}  // namespace
}  // namespace mudit::data::synth
