// The pronunciation lexicon behind mudit::text::G2P (private): the four files that
// src/text/build_pron.cpp writes, loaded into hash maps, plus segmentation and LTS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mudit::text {

class Lexicon {
 public:
  /// Loads `dir`/{zh_chars.tsv, zh_words.tsv, en_words.tsv, en_lts.txt}. Throws IoError.
  explicit Lexicon(const std::string& dir);

  /// Readings of a character, most frequent first (nullptr when unknown).
  const std::vector<std::string>* char_readings(uint32_t cp) const;

  /// Splits a run of Han characters (UTF-8) into words: the most probable path through the DAG
  /// of dictionary words (log frequencies; a character outside the dictionary counts as
  /// frequency 1), as jieba does without its HMM.
  std::vector<std::string> segment(std::string_view han_run) const;

  /// The word's reading ("yin2 hang2") when the word lexicon has one; nullptr otherwise.
  const std::string* word_reading(const std::string& word) const;

  /// CMU dictionary phones of a lower-case word; nullptr when absent.
  const std::vector<std::string>* english(const std::string& word) const;

  /// Festival CART letter-to-sound prediction for a lower-case word of letters a-z.
  std::vector<std::string> letter_to_sound(const std::string& word) const;

 private:
  struct Word {
    double log_freq = 0.0;
    std::string reading;
  };
  struct LtsNode {
    int feature = 0;  // offset of the letter tested: -3..3; the leaf's phone when `leaf`
    std::string value;
    int yes = -1, no = -1;  // child indices (the "yes" child follows its parent)
    bool leaf = false;
  };
  int read_lts_node(const std::vector<std::string>& lines, size_t& pos, std::vector<LtsNode>& out);

  std::unordered_map<uint32_t, std::vector<std::string>> chars_;
  std::unordered_map<std::string, Word> words_;
  double log_total_ = 0.0;
  size_t max_word_chars_ = 1;
  std::unordered_map<std::string, std::vector<std::string>> english_;
  std::unordered_map<char, std::vector<LtsNode>> lts_;
};

}  // namespace mudit::text
