#include "mudit/text/tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/utf8.h"

namespace mudit::text {
namespace {

std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) out.push_back(utf8::next(s, pos));
  return out;
}

std::string to_utf8(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) utf8::append(out, cps[i]);
  return out;
}

utf8proc_category_t category(uint32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool is_whitespace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         category(cp) == UTF8PROC_CATEGORY_ZS;
}

// BERT's "control": every category C* (control, format, unassigned, private use, surrogate)
// except tab, newline and carriage return, which count as whitespace.
bool is_control(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_CN || c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF ||
         c == UTF8PROC_CATEGORY_CS || c == UTF8PROC_CATEGORY_CO;
}

// BERT's punctuation: every non-alphanumeric ASCII printable character ("$", "+", "^" ... are
// symbols in Unicode but punctuation here) and every category P*.
bool is_punctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126))
    return true;
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

// NFD, then drop nonspacing marks.
std::vector<uint32_t> strip_accents(const std::vector<uint32_t>& cps) {
  std::vector<uint32_t> out;
  out.reserve(cps.size());
  utf8proc_int32_t buf[32];
  for (uint32_t cp : cps) {
    int last_boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 32,
                                                       UTF8PROC_DECOMPOSE, &last_boundclass);
    if (n <= 0 || n > 32) {
      out.push_back(cp);
      continue;
    }
    for (utf8proc_ssize_t i = 0; i < n; ++i) {
      if (category(static_cast<uint32_t>(buf[i])) != UTF8PROC_CATEGORY_MN)
        out.push_back(static_cast<uint32_t>(buf[i]));
    }
  }
  return out;
}

std::string nfc(const std::string& s) {
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> p(
      utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str())), &std::free);
  return p ? std::string(reinterpret_cast<const char*>(p.get())) : s;
}

std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t pos = 0; pos < s.size();) {
    const uint32_t cp = utf8::next(s, pos);
    if (is_whitespace(cp)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      utf8::append(cur, cp);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Basic tokenization with the three switches; shared by the tokenizer and the vocab builder.
std::vector<std::string> basic_tokens(std::string_view text, bool lowercase, bool accents,
                                      bool split_cjk) {
  // Clean: drop NUL, U+FFFD and control characters; whitespace becomes a space; CJK ideographs
  // get spaces around them.
  std::string cleaned;
  cleaned.reserve(text.size() + 8);
  for (size_t pos = 0; pos < text.size();) {
    const uint32_t cp = utf8::next(text, pos);
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
    if (is_whitespace(cp)) {
      cleaned += ' ';
    } else if (split_cjk && is_cjk_ideograph(cp)) {
      cleaned += ' ';
      utf8::append(cleaned, cp);
      cleaned += ' ';
    } else {
      utf8::append(cleaned, cp);
    }
  }
  if (!accents) cleaned = nfc(cleaned);  // stripping decomposes anyway
  std::vector<std::string> out;
  for (const std::string& word : split_whitespace(cleaned)) {
    std::vector<uint32_t> cps = code_points(word);
    if (lowercase) {
      for (uint32_t& cp : cps)
        cp = static_cast<uint32_t>(utf8proc_tolower(static_cast<int32_t>(cp)));
    }
    if (accents) cps = strip_accents(cps);
    // Every punctuation character is a token of its own.
    size_t start = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
      if (!is_punctuation(cps[i])) continue;
      if (i > start) out.push_back(to_utf8(cps, start, i));
      out.push_back(to_utf8(cps, i, i + 1));
      start = i + 1;
    }
    if (start < cps.size()) out.push_back(to_utf8(cps, start, cps.size()));
  }
  return out;
}

}  // namespace

bool is_cjk_ideograph(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void TokenizerConfig::validate() const {
  MUDIT_CHECK(max_length >= 2, ConfigError,
              "tokenizer.max_length must leave room for [CLS] and [SEP], got ", max_length);
  MUDIT_CHECK(max_chars_per_word > 0, ConfigError, "tokenizer.max_chars_per_word must be positive");
  MUDIT_CHECK(strip_accents >= -1 && strip_accents <= 1, ConfigError,
              "tokenizer.strip_accents is -1 (follow lowercase), 0 or 1, got ", strip_accents);
}

WordPieceTokenizer WordPieceTokenizer::from_file(const std::filesystem::path& vocab_txt,
                                                 TokenizerConfig config) {
  std::ifstream in(vocab_txt, std::ios::binary);
  MUDIT_CHECK(in.good(), IoError, "cannot read vocabulary ", vocab_txt.string());
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  MUDIT_CHECK(!vocab.empty(), DataError, "vocabulary ", vocab_txt.string(), " is empty");
  try {
    return WordPieceTokenizer(std::move(vocab), std::move(config));
  } catch (const DataError& e) {
    throw DataError(vocab_txt.string() + ": " + e.what());
  }
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, TokenizerConfig config)
    : vocab_(std::move(vocab)), config_(std::move(config)) {
  config_.validate();
  index_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) {
    // BERT vocabularies are unique except for blank lines some carry; the first id wins.
    const bool fresh = index_.emplace(vocab_[i], static_cast<int64_t>(i)).second;
    MUDIT_CHECK(fresh || vocab_[i].empty(), DataError, "vocabulary: token '", vocab_[i],
                "' appears twice (lines ", index_.at(vocab_[i]) + 1, " and ", i + 1, ")");
  }
  auto special = [&](const std::string& t) {
    const auto it = index_.find(t);
    MUDIT_CHECK(it != index_.end(), DataError, "vocabulary has no special token '", t, "'");
    return it->second;
  };
  unk_id_ = special(config_.unk_token);
  cls_id_ = special(config_.cls_token);
  sep_id_ = special(config_.sep_token);
  pad_id_ = special(config_.pad_token);
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(std::string_view text) const {
  const bool accents = config_.strip_accents < 0 ? config_.lowercase : config_.strip_accents == 1;
  return basic_tokens(text, config_.lowercase, accents, config_.split_cjk);
}

void WordPieceTokenizer::wordpiece(const std::string& word, std::vector<std::string>& out) const {
  const std::vector<uint32_t> cps = code_points(word);
  if (static_cast<int64_t>(cps.size()) > config_.max_chars_per_word) {
    out.push_back(config_.unk_token);
    return;
  }
  const size_t first = out.size();
  size_t start = 0;
  while (start < cps.size()) {
    size_t end = cps.size();
    std::string match;
    while (start < end) {  // the longest piece in the vocabulary from `start`
      std::string piece = (start > 0 ? "##" : "") + to_utf8(cps, start, end);
      if (index_.count(piece)) {
        match = std::move(piece);
        break;
      }
      --end;
    }
    if (match.empty()) {  // no piece fits: the whole word is unknown
      out.resize(first);
      out.push_back(config_.unk_token);
      return;
    }
    out.push_back(std::move(match));
    start = end;
  }
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (const std::string& word : basic_tokenize(text)) wordpiece(word, out);
  return out;
}

std::vector<int64_t> WordPieceTokenizer::encode(std::string_view text, bool* truncated) const {
  const std::vector<std::string> pieces = tokenize(text);
  const size_t room = static_cast<size_t>(config_.max_length - 2);
  const size_t n = std::min(pieces.size(), room);
  if (truncated) *truncated = pieces.size() > room;
  std::vector<int64_t> ids;
  ids.reserve(n + 2);
  ids.push_back(cls_id_);
  for (size_t i = 0; i < n; ++i) ids.push_back(id(pieces[i]));
  ids.push_back(sep_id_);
  return ids;
}

EncodedBatch WordPieceTokenizer::encode_batch(const std::vector<std::string>& texts) const {
  EncodedBatch b;
  for (const std::string& t : texts) {
    bool cut = false;
    b.ids.push_back(encode(t, &cut));
    b.truncated += cut ? 1 : 0;
    b.length = std::max<int64_t>(b.length, static_cast<int64_t>(b.ids.back().size()));
  }
  b.flat_ids.assign(texts.size() * static_cast<size_t>(b.length), pad_id_);
  b.flat_mask.assign(b.flat_ids.size(), 0);
  for (size_t i = 0; i < b.ids.size(); ++i) {
    for (size_t j = 0; j < b.ids[i].size(); ++j) {
      b.flat_ids[i * static_cast<size_t>(b.length) + j] = b.ids[i][j];
      b.flat_mask[i * static_cast<size_t>(b.length) + j] = 1;
    }
  }
  return b;
}

int64_t WordPieceTokenizer::id(const std::string& token) const {
  const auto it = index_.find(token);
  return it == index_.end() ? unk_id_ : it->second;
}

const std::string& WordPieceTokenizer::token(int64_t id) const {
  MUDIT_CHECK(id >= 0 && id < size(), ShapeError, "token id ", id, " outside the vocabulary (",
              size(), " tokens)");
  return vocab_[static_cast<size_t>(id)];
}

void WordPieceTokenizer::save(const std::filesystem::path& vocab_txt) const {
  std::string text;
  for (const std::string& t : vocab_) text += t + "\n";
  write_file_atomic(vocab_txt, text);
}

// --- vocabulary builder ---------------------------------------------------------------------

std::vector<std::string> build_vocab(const std::vector<std::string>& texts,
                                     const VocabBuilderConfig& config, VocabReport* report) {
  MUDIT_CHECK(config.vocab_size > 5, ConfigError,
              "vocab.vocab_size must exceed the 5 special "
              "tokens, got ",
              config.vocab_size);
  MUDIT_CHECK(config.min_frequency >= 1, ConfigError, "vocab.min_frequency must be at least 1");
  VocabReport rep;
  rep.texts = static_cast<int64_t>(texts.size());
  // Word counts after basic tokenization; single CJK ideographs and punctuation are words too.
  std::map<std::string, int64_t> words;
  for (const std::string& t : texts) {
    for (std::string& w : basic_tokens(t, config.lowercase, config.lowercase, true)) {
      ++words[w];
      ++rep.words;
    }
  }
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::set<std::string> have(vocab.begin(), vocab.end());
  auto add = [&](const std::string& t) {
    if (static_cast<int64_t>(vocab.size()) < config.vocab_size && have.insert(t).second) {
      vocab.push_back(t);
      return true;
    }
    return false;
  };

  // Characters by frequency, as word starts and as continuations.
  std::map<uint32_t, int64_t> initial, inner;
  for (const auto& [w, n] : words) {
    const std::vector<uint32_t> cps = code_points(w);
    for (size_t i = 0; i < cps.size(); ++i) (i == 0 ? initial : inner)[cps[i]] += n;
  }
  auto by_count = [](const std::map<uint32_t, int64_t>& m) {
    std::vector<std::pair<int64_t, uint32_t>> v;
    for (const auto& [cp, n] : m) v.emplace_back(-n, cp);
    std::sort(v.begin(), v.end());
    return v;
  };
  std::set<uint32_t> rare;
  for (const auto& [neg, cp] : by_count(initial)) {
    if (-neg < config.min_frequency) {
      rare.insert(cp);
      continue;
    }
    std::string s;
    utf8::append(s, cp);
    if (add(s) && is_cjk_ideograph(cp)) ++rep.cjk_chars;
  }
  for (const auto& [neg, cp] : by_count(inner)) {
    std::string s = "##";
    utf8::append(s, cp);
    if (-neg < config.min_frequency) {
      if (!have.count(s.substr(2))) rare.insert(cp);
      continue;
    }
    add(s);
  }
  rep.dropped_rare = static_cast<int64_t>(rare.size());

  // WordPiece merges over the multi-character words: each word is a sequence of pieces; merge
  // the pair with the best count(ab) / (count(a) count(b)) until the vocabulary is full.
  struct Word {
    std::vector<std::string> pieces;
    int64_t count;
  };
  std::vector<Word> multi;
  for (const auto& [w, n] : words) {
    const std::vector<uint32_t> cps = code_points(w);
    if (cps.size() < 2) continue;
    Word word{{}, n};
    for (size_t i = 0; i < cps.size(); ++i) {
      std::string s = i == 0 ? "" : "##";
      utf8::append(s, cps[i]);
      word.pieces.push_back(std::move(s));
    }
    multi.push_back(std::move(word));
  }
  auto merged = [](const std::string& a, const std::string& b) {
    return a + (b.rfind("##", 0) == 0 ? b.substr(2) : b);
  };
  auto chars = [](const std::string& p) {
    return static_cast<int64_t>(code_points(p.rfind("##", 0) == 0 ? p.substr(2) : p).size());
  };
  while (static_cast<int64_t>(vocab.size()) < config.vocab_size) {
    std::map<std::string, int64_t> unit;
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const Word& w : multi) {
      for (size_t i = 0; i < w.pieces.size(); ++i) {
        unit[w.pieces[i]] += w.count;
        if (i + 1 < w.pieces.size()) pairs[{w.pieces[i], w.pieces[i + 1]}] += w.count;
      }
    }
    const std::pair<std::string, std::string>* best = nullptr;
    double best_score = -1;
    for (const auto& [p, n] : pairs) {
      if (n < config.min_frequency || chars(p.first) + chars(p.second) > config.max_piece_chars)
        continue;
      const double score = static_cast<double>(n) / (static_cast<double>(unit[p.first]) *
                                                     static_cast<double>(unit[p.second]));
      if (score > best_score) {  // ties: the first pair in order, so builds are reproducible
        best_score = score;
        best = &p;
      }
    }
    if (!best) break;
    const std::string a = best->first, b = best->second, ab = merged(a, b);
    for (Word& w : multi) {
      std::vector<std::string> next;
      for (size_t i = 0; i < w.pieces.size(); ++i) {
        if (i + 1 < w.pieces.size() && w.pieces[i] == a && w.pieces[i + 1] == b) {
          next.push_back(ab);
          ++i;
        } else {
          next.push_back(w.pieces[i]);
        }
      }
      w.pieces = std::move(next);
    }
    if (add(ab)) ++rep.pieces;
  }
  if (report) *report = rep;
  return vocab;
}

}  // namespace mudit::text
