#pragma once
// The built-in lyric vocabulary of the synthetic corpus (written for mudit): Chinese words with
// toned pinyin and English words split into syllables, each with the part it plays in a line
// and the themes it suits. Lines are assembled from these by lyrics.cpp.
#include <cstdint>
#include <vector>

namespace mudit::data::synth::vocal {

/// The slot a word fills in a line pattern (see lyrics.cpp):
///   [place] subject [adverb] verb [determiner] [modifier] noun      (noun ending)
///   [place] subject [adverb] ending-verb                             (verb ending)
enum class Role : uint8_t {
  kPlace,       // time or place opener: 今夜, 在路上, "in the rain"
  kSubject,     // 我, 风, "my heart"
  kAdverb,      // 轻轻, "softly"
  kVerb,        // transitive: 想念, "hold"
  kDeterminer,  // English only: "the", "your"
  kModifier,    // 温柔的, "golden"
  kNoun,        // object and line ending: 月光, "light"
  kEndVerb,     // intransitive line ending: 离开, "fly away"
};

/// Themes as bits; a word with no bits suits every theme.
enum Theme : uint8_t {
  kLove = 1,
  kNight = 2,
  kRoad = 4,
  kHome = 8,
  kRain = 16,
  kSpring = 32,
  kDream = 64,
};
inline constexpr int kThemeCount = 7;
const char* theme_name(int theme_bit_index);  // "love", "night", ... for bit index 0..6

struct ZhWord {
  const char* text;    // "月光"
  const char* pinyin;  // "yue4 guang1": one toned syllable per character
  Role role;
  uint8_t themes;
};

struct EnWord {
  const char* text;       // "tonight", "fly away"
  const char* syllables;  // "to-night", "fly-a-way": hyphens split syllables, spaces words
  Role role;
  uint8_t themes;
  const char* rhyme;  // rhyme group of the last syllable ("ight"); "" where unused
};

const std::vector<ZhWord>& zh_words();
const std::vector<EnWord>& en_words();

}  // namespace mudit::data::synth::vocal
