#pragma once

// The WordPiece tokenizer of ChinMu's text tower: BERT's basic tokenizer (text cleaning, CJK
// characters as single tokens, lower-casing and accent stripping per config, punctuation split)
// followed by greedy longest-match WordPiece over a `vocab.txt`, as Hugging Face's BertTokenizer
// does, so pretrained Chinese BERT / RoBERTa-wwm / BGE / MiniLM vocabularies give the same ids.
// Unicode categories, case mapping and NFD come from utf8proc.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mudit::text {

struct TokenizerConfig {
  bool lowercase = true;
  /// Strip accents (NFD, drop combining marks). Unset (-1): follow `lowercase`, as BERT does.
  int strip_accents = -1;
  /// Surround CJK ideographs with spaces so each is a token.
  bool split_cjk = true;
  /// Ids per sequence, [CLS] and [SEP] included; longer input is truncated.
  int64_t max_length = 512;
  /// Words longer than this (in code points) become [UNK], as BERT's WordPiece does.
  int64_t max_chars_per_word = 100;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";

  template <class V>
  void visit(V& v) {
    v("lowercase", lowercase);
    v("strip_accents", strip_accents);
    v("split_cjk", split_cjk);
    v("max_length", max_length);
    v("max_chars_per_word", max_chars_per_word);
    v("unk_token", unk_token);
    v("cls_token", cls_token);
    v("sep_token", sep_token);
    v("pad_token", pad_token);
    v("mask_token", mask_token);
  }
  void validate() const;
};

/// True for the code points BERT treats as CJK ideographs (the CJK Unified Ideographs blocks and
/// extensions A-E, the compatibility ideographs and their supplement).
bool is_cjk_ideograph(uint32_t cp);

/// A batch of encoded texts, padded to the longest.
struct EncodedBatch {
  std::vector<std::vector<int64_t>> ids;  // per text, [CLS] ... [SEP], before padding
  std::vector<int64_t> flat_ids;          // [B * L] row-major, padded with [PAD]
  std::vector<int64_t> flat_mask;         // [B * L], 1 for real tokens
  int64_t length = 0;                     // L
  int64_t truncated = 0;                  // how many texts were cut to max_length
};

class WordPieceTokenizer {
 public:
  /// Reads `vocab.txt` (one token per line, id = line number). Throws IoError / DataError (a
  /// duplicate token, or a special token of `config` that the vocabulary lacks).
  static WordPieceTokenizer from_file(const std::filesystem::path& vocab_txt,
                                      TokenizerConfig config = {});
  WordPieceTokenizer() = default;  // empty: assign one that was read
  WordPieceTokenizer(std::vector<std::string> vocab, TokenizerConfig config = {});

  /// The basic tokenizer alone: cleaned, split words and punctuation.
  std::vector<std::string> basic_tokenize(std::string_view text) const;
  /// Word pieces ("play", "##ing"), without special tokens.
  std::vector<std::string> tokenize(std::string_view text) const;
  /// [CLS] pieces [SEP] as ids, truncated to max_length.
  std::vector<int64_t> encode(std::string_view text, bool* truncated = nullptr) const;
  EncodedBatch encode_batch(const std::vector<std::string>& texts) const;

  int64_t size() const { return static_cast<int64_t>(vocab_.size()); }
  /// The id of `token`, or the [UNK] id.
  int64_t id(const std::string& token) const;
  bool contains(const std::string& token) const { return index_.count(token) > 0; }
  const std::string& token(int64_t id) const;
  int64_t unk_id() const { return unk_id_; }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  int64_t pad_id() const { return pad_id_; }
  const std::vector<std::string>& vocab() const { return vocab_; }
  const TokenizerConfig& config() const { return config_; }

  /// Writes vocab.txt atomically.
  void save(const std::filesystem::path& vocab_txt) const;

 private:
  void wordpiece(const std::string& word, std::vector<std::string>& out) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int64_t> index_;
  TokenizerConfig config_;
  int64_t unk_id_ = 0, cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
};

/// How `mudit vocab` builds a vocabulary from a corpus.
struct VocabBuilderConfig {
  int64_t vocab_size = 21128;  // BERT-base-Chinese's size
  int64_t min_frequency = 2;   // a CJK character or a merged piece must occur this often
  bool lowercase = true;
  int64_t max_piece_chars = 16;

  template <class V>
  void visit(V& v) {
    v("vocab_size", vocab_size);
    v("min_frequency", min_frequency);
    v("lowercase", lowercase);
    v("max_piece_chars", max_piece_chars);
  }
};

struct VocabReport {
  int64_t texts = 0;
  int64_t words = 0;
  int64_t cjk_chars = 0;     // distinct CJK ideographs kept
  int64_t pieces = 0;        // WordPiece pieces from merges
  int64_t dropped_rare = 0;  // distinct characters under min_frequency
};

/// A vocabulary for training the text tower from scratch: the special tokens, every character
/// seen at least min_frequency times (CJK ideographs and punctuation as whole tokens, other
/// characters also as "##" continuations), then WordPiece pieces for Latin-script words by
/// likelihood-scored pair merges, most useful first, up to vocab_size.
std::vector<std::string> build_vocab(const std::vector<std::string>& texts,
                                     const VocabBuilderConfig& config,
                                     VocabReport* report = nullptr);

}  // namespace mudit::text
