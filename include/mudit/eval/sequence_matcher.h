#pragma once

// Python's difflib.SequenceMatcher(None, a, b) (no junk function, autojunk on), exactly: the
// Ratcliff / Obershelp recursion of longest matching blocks, the "popular element" heuristic
// (when b has 200 or more items, an item occurring more than len(b) / 100 + 1 times is not
// indexed, though matches may still be extended over it), and the same tie-breaking, so
// ratio() and the matching blocks equal CPython's. The seed's lyric score is built on it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mudit::eval {

struct MatchingBlock {
  int64_t a = 0;     ///< start in a
  int64_t b = 0;     ///< start in b
  int64_t size = 0;  ///< a[a, a + size) == b[b, b + size)
  bool operator==(const MatchingBlock& o) const { return a == o.a && b == o.b && size == o.size; }
};

class SequenceMatcher {
 public:
  /// Over sequences of code points (or any 32-bit symbols).
  SequenceMatcher(std::u32string a, std::u32string b);
  /// Over the code points of UTF-8 texts (as Python compares str); invalid UTF-8 is DataError.
  static SequenceMatcher of_utf8(std::string_view a, std::string_view b);

  /// Non-adjacent matching blocks in increasing order, ending with {len(a), len(b), 0}.
  const std::vector<MatchingBlock>& matching_blocks() const { return blocks_; }
  /// 2 M / (len(a) + len(b)) with M the matched items; 1.0 when both are empty.
  double ratio() const;

 private:
  MatchingBlock find_longest_match(int64_t alo, int64_t ahi, int64_t blo, int64_t bhi);

  std::u32string a_, b_;
  std::vector<std::vector<int64_t>> b2j_;  // per distinct symbol of b (indexed via symbols_)
  std::vector<int32_t> a_symbol_;          // a[i]'s slot in b2j_, -1 when not indexed
  std::vector<int64_t> j2len_, new_j2len_;
  std::vector<int64_t> touched_, new_touched_;
  std::vector<MatchingBlock> blocks_;
};

/// The code points of a UTF-8 text. Throws DataError for invalid UTF-8.
std::u32string utf8_to_u32(std::string_view text);

}  // namespace mudit::eval
