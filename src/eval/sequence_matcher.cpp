#include "mudit/eval/sequence_matcher.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <unordered_map>

#include "mudit/core/error.h"

namespace mudit::eval {

std::u32string utf8_to_u32(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    MUDIT_CHECK(n > 0, DataError, "invalid UTF-8 at byte ",
                text.size() - static_cast<size_t>(left));
    out.push_back(static_cast<char32_t>(cp));
    p += n;
    left -= n;
  }
  return out;
}

SequenceMatcher SequenceMatcher::of_utf8(std::string_view a, std::string_view b) {
  return SequenceMatcher(utf8_to_u32(a), utf8_to_u32(b));
}

SequenceMatcher::SequenceMatcher(std::u32string a, std::u32string b)
    : a_(std::move(a)), b_(std::move(b)) {
  const auto la = static_cast<int64_t>(a_.size());
  const auto lb = static_cast<int64_t>(b_.size());
  // b2j: where each symbol of b occurs, in increasing order; popular symbols are dropped.
  std::unordered_map<char32_t, int32_t> slot;
  for (int64_t j = 0; j < lb; ++j) {
    auto [it, fresh] = slot.try_emplace(b_[j], static_cast<int32_t>(b2j_.size()));
    if (fresh) b2j_.emplace_back();
    b2j_[it->second].push_back(j);
  }
  if (lb >= 200) {
    const auto ntest = static_cast<size_t>(lb / 100 + 1);
    for (auto& [symbol, s] : slot) {
      if (b2j_[s].size() > ntest) b2j_[s].clear();
    }
  }
  a_symbol_.resize(la);
  for (int64_t i = 0; i < la; ++i) {
    const auto it = slot.find(a_[i]);
    a_symbol_[i] = it == slot.end() || b2j_[it->second].empty() ? -1 : it->second;
  }
  j2len_.assign(lb + 1, 0);
  new_j2len_.assign(lb + 1, 0);

  // The recursion, with difflib's explicit queue (last in, first out) and final sort.
  std::vector<MatchingBlock> found;
  std::vector<std::array<int64_t, 4>> queue = {{0, la, 0, lb}};
  while (!queue.empty()) {
    const auto [alo, ahi, blo, bhi] = queue.back();
    queue.pop_back();
    const MatchingBlock m = find_longest_match(alo, ahi, blo, bhi);
    if (m.size == 0) continue;
    found.push_back(m);
    if (alo < m.a && blo < m.b) queue.push_back({alo, m.a, blo, m.b});
    if (m.a + m.size < ahi && m.b + m.size < bhi) {
      queue.push_back({m.a + m.size, ahi, m.b + m.size, bhi});
    }
  }
  std::sort(found.begin(), found.end(), [](const MatchingBlock& x, const MatchingBlock& y) {
    return std::tie(x.a, x.b, x.size) < std::tie(y.a, y.b, y.size);
  });
  MatchingBlock run;
  for (const MatchingBlock& m : found) {
    if (run.a + run.size == m.a && run.b + run.size == m.b) {
      run.size += m.size;
    } else {
      if (run.size) blocks_.push_back(run);
      run = m;
    }
  }
  if (run.size) blocks_.push_back(run);
  blocks_.push_back({la, lb, 0});
}

// difflib's find_longest_match: the longest a[i:i+k] == b[j:j+k] within the ranges, earliest
// in a, then earliest in b; then extended over symbols that were not indexed (popular ones).
MatchingBlock SequenceMatcher::find_longest_match(int64_t alo, int64_t ahi, int64_t blo,
                                                  int64_t bhi) {
  int64_t besti = alo, bestj = blo, bestsize = 0;
  // j2len[j + 1] = length of the match ending at a[i - 1], b[j]; only touched slots are reset.
  for (int64_t i = alo; i < ahi; ++i) {
    new_touched_.clear();
    if (a_symbol_[i] >= 0) {
      for (const int64_t j : b2j_[a_symbol_[i]]) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const int64_t k = j2len_[j] + 1;  // j2len of j - 1, shifted by one
        new_j2len_[j + 1] = k;
        new_touched_.push_back(j + 1);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
    }
    for (const int64_t j : touched_) j2len_[j] = 0;
    std::swap(j2len_, new_j2len_);
    std::swap(touched_, new_touched_);
  }
  for (const int64_t j : touched_) j2len_[j] = 0;
  touched_.clear();
  // No junk function, so every symbol counts as non-junk for the extensions.
  while (besti > alo && bestj > blo && a_[besti - 1] == b_[bestj - 1]) {
    --besti;
    --bestj;
    ++bestsize;
  }
  while (besti + bestsize < ahi && bestj + bestsize < bhi &&
         a_[besti + bestsize] == b_[bestj + bestsize]) {
    ++bestsize;
  }
  return {besti, bestj, bestsize};
}

double SequenceMatcher::ratio() const {
  const auto total = static_cast<double>(a_.size() + b_.size());
  if (total == 0) return 1.0;
  int64_t matches = 0;
  for (const MatchingBlock& m : blocks_) matches += m.size;
  return 2.0 * static_cast<double>(matches) / total;
}

}  // namespace mudit::eval
