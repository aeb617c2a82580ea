#pragma once

// Grapheme-to-phoneme conversion for lyrics: Mandarin → pinyin (initial + final + tone), English →
// ARPAbet, and the phoneme vocabulary whose ids the generator's lyric encoder reads.
//
// Pronunciations come from lexicon files made at build time from Debian's data (Unihan, Rime
// terra_pinyin, jieba, Festival's CMU dictionary and letter-to-sound rules); see
// cmake/MuditPron.cmake. No torch here: ids are plain std::vector<int64_t>.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mudit/text/lyrics.h"

namespace mudit::text {

/// One Mandarin syllable. Finals are written in their full form and y/w are not initials: "ya"
/// has initial "" and final "ia", "wu" final "u", "yu" final "v" (ü), "you" final "iu", "wei"
/// final "ui", "wen" final "un"; after j/q/x, "u" is ü ("ju" → j + v). The apical vowels are
/// finals of their own: "ir" after zh/ch/sh/r ("zhi"), "iz" after z/c/s ("zi").
struct Syllable {
  std::string pinyin;   // with tone digit: "hang2"
  std::string initial;  // one of the 21 initials, or "" (zero initial)
  std::string final;    // "ang", "v", "ir", ...
  int tone = 5;         // 1-4, 5 for the neutral tone
};

/// Splits tone-digit pinyin ("zhang3", "lv4", "yue4", "er2") into initial, final and tone.
/// Throws DataError for text that is not a pinyin syllable.
Syllable split_pinyin(std::string_view pinyin);

/// The 21 initials and 38 finals split_pinyin() produces, in the vocabulary's order.
const std::vector<std::string>& pinyin_initials();
const std::vector<std::string>& pinyin_finals();

struct G2PConfig {
  /// Folder with zh_chars.tsv, zh_words.tsv, en_words.tsv, en_lts.txt. Empty: $MUDIT_PRON_DIR,
  /// then <exe dir>/../share/mudit/pron, the build tree, the install prefix.
  std::string pron_dir;
  bool tones = false;     // T.1..T.5 tokens after each final
  bool normalize = true;  // normalize_lyric_line() before conversion (digits, width, t2s, ...)

  template <class V>
  void visit(V& v) {
    v("pron_dir", pron_dir);
    v("tones", tones);
    v("normalize", normalize);
  }
  void validate() const {}
};

/// The lexicon folder G2P would use for `explicit_dir` (see G2PConfig::pron_dir). Throws IoError
/// naming the places tried and how to build the lexicon when none holds it.
std::string find_pron_dir(const std::string& explicit_dir = "");

/// A word of a converted line.
struct G2PWord {
  enum class Kind { kChinese, kEnglish };
  Kind kind = Kind::kChinese;
  std::string text;
  std::vector<Syllable> syllables;  // Chinese: one per character (pinyin "" when none known)
  std::vector<std::string> phones;  // English: ARPAbet with stress digits ("HH", "AH0")
  bool in_dictionary = true;        // English: false when the letter-to-sound rules were used
};

class Lexicon;

/// Converts text to pronunciations. The lexicon loads on first use, once per folder and process
/// (thread-safe); copies share it, and every lookup is const and safe from many threads.
class G2P {
 public:
  /// Resolves the lexicon folder now (throws IoError when missing); loads it lazily.
  explicit G2P(G2PConfig config = {});

  /// Mandarin readings of every Han character of `text` (other characters are skipped), with
  /// polyphones resolved by word: the text is segmented on jieba's word frequencies
  /// (max-probability path through the word DAG) and a word's reading comes from terra_pinyin
  /// when it has one, else from each character's most frequent reading.
  std::vector<Syllable> pinyin(std::string_view text) const;

  /// ARPAbet of one English word (case-insensitive; letters and apostrophes). From the CMU
  /// dictionary, else from Festival's CMU letter-to-sound trees (`*in_dictionary` = false).
  std::vector<std::string> arpabet(std::string_view word, bool* in_dictionary = nullptr) const;

  /// A line as words: runs of Han characters (segmented) and Latin words; anything else (spaces,
  /// punctuation, digits left over) is skipped. Applies no normalisation.
  std::vector<G2PWord> convert(std::string_view line) const;

  /// The readings of one Han character, most frequent first (empty when unknown).
  std::vector<std::string> char_readings(uint32_t code_point) const;

  const G2PConfig& config() const { return config_; }
  const std::string& pron_dir() const { return dir_; }

 private:
  const Lexicon& lexicon() const;
  G2PConfig config_;
  std::string dir_;
  std::shared_ptr<struct LexiconSlot> slot_;
};

/// True for CJK unified ideographs (basic, extensions, compatibility) and 〇.
bool is_han(uint32_t code_point);

/// The lyric-token vocabulary, with ids fixed by the order written in code (never by data):
///   <pad> <unk> <sep>, the seven section tags <intro> <verse> <prechorus> <chorus> <bridge>
///   <interlude> <outro>, C.<initial> (21), C.<final> (38), E.<consonant> (24),
///   E.<vowel><stress 0|1|2> (15 × 3), and with tones T.1 … T.5.
/// 138 tokens, 143 with tones.
class PhonemeVocab {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kUnk = 1;
  static constexpr int64_t kSep = 2;  // between the lines of a section

  explicit PhonemeVocab(bool tones = false);

  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  /// Throws DataError for an id out of range.
  const std::string& id_to_token(int64_t id) const;
  /// kUnk for a token the vocabulary lacks.
  int64_t token_to_id(std::string_view token) const;
  bool contains(std::string_view token) const;
  bool tones() const { return tones_; }
  const std::vector<std::string>& tokens() const { return tokens_; }

  /// One token per line, in id order; written atomically.
  void save(const std::string& path) const;
  /// Reads a vocab.txt written by save(). Throws IoError / DataError (duplicate or missing
  /// special tokens, a layout that is neither the toned nor the plain one).
  static PhonemeVocab load(const std::string& path);

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  bool tones_ = false;
};

/// The token of a section tag: "<verse>" (ordinals are not encoded).
std::string section_token(Section section);

/// Tokens of one line: per Han character C.<initial> (none for a zero initial), C.<final> and,
/// with tones, T.<tone>; per English word E.<phone>...; <unk> for a Han character with no
/// reading. Normalises first when the config says so.
std::vector<std::string> line_to_tokens(std::string_view line, const G2P& g2p);

/// Token layout of whole lyrics: preamble lines, then per section its tag token followed by its
/// lines; <sep> between consecutive lines of the preamble or of a section.
std::vector<std::string> lyrics_to_tokens(const Lyrics& lyrics, const G2P& g2p);

/// How much of some text the lexicon covers (after normalisation when the config says so).
struct G2PCoverage {
  int64_t han_chars = 0;
  int64_t han_with_reading = 0;
  int64_t english_words = 0;
  int64_t english_in_dictionary = 0;  // the rest go through the letter-to-sound rules
  G2PCoverage& operator+=(const G2PCoverage& o);
};
G2PCoverage measure_coverage(std::string_view text, const G2P& g2p);

/// Tokens as text, one line per lyric line: section tags and separators on lines of their own,
/// the tokens of each lyric line space-separated; as ids of `vocab` when it is given.
std::string format_token_lines(const std::vector<std::string>& tokens,
                               const PhonemeVocab* vocab = nullptr);

/// The lyrics of a corpus: every song folder's `str_lyric` in a MuChin folder (or the one of a
/// song folder), or every entry's `lyrics` in a manifest (.jsonl). Throws IoError / DataError
/// when the source is missing or holds no lyrics.
std::vector<std::string> corpus_lyrics(const std::string& source);

/// lyrics_to_tokens() as ids of `vocab` (whose tones setting should match the G2P's).
std::vector<int64_t> lyrics_to_ids(const Lyrics& lyrics, const G2P& g2p, const PhonemeVocab& vocab);

}  // namespace mudit::text
