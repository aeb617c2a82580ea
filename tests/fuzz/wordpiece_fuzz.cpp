// The WordPiece tokenizer (basic tokenization, accents, CJK, word pieces) on arbitrary bytes,
// with a vocabulary of specials, single characters and a few pieces. Every id must be in range
// and every sequence within max_length.
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "mudit/text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  static const mudit::text::WordPieceTokenizer tok = [] {
    std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (char c = 'a'; c <= 'z'; ++c) {
      v.emplace_back(1, c);
      v.push_back(std::string("##") + c);
    }
    for (const char* w : {"play", "##ing", "rock", "歌", "快", ",", ".", "!"}) v.push_back(w);
    mudit::text::TokenizerConfig c;
    c.max_length = 64;
    return mudit::text::WordPieceTokenizer(v, c);
  }();
  mudit::fuzz::expect_clean([&] {
    const std::string_view text = mudit::fuzz::as_text(data, size);
    tok.tokenize(text);
    bool truncated = false;
    const std::vector<int64_t> ids = tok.encode(text, &truncated);
    if (ids.size() > 64 || ids.size() < 2) __builtin_trap();
    for (int64_t id : ids)
      if (id < 0 || id >= tok.size()) __builtin_trap();
  });
  return 0;
}
