#pragma once

// Cross-modal retrieval metrics (ChinMu's text -> audio and audio -> text): recall at K and mean
// average precision at K over a similarity matrix with a set of relevant items per query.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mudit::eval {

struct RetrievalScores {
  int64_t queries = 0;
  int64_t items = 0;
  std::map<int64_t, double> recall;  ///< K -> share of queries with a relevant item in the top K
  double map_at_10 = 0;              ///< mean over queries of AP@10
  /// Chance level of R@K: the expected recall of a random ranking, averaged over queries.
  std::map<int64_t, double> chance_recall;
};

/// `similarity` [Q, N] (higher = closer); `relevant[q]` the item indices relevant to query q
/// (at least one each). AP@10 = sum over relevant items ranked k <= 10 of precision@k, divided by
/// min(10, |relevant|). Ties rank the lower index first.
RetrievalScores retrieval_scores(const at::Tensor& similarity,
                                 const std::vector<std::vector<int64_t>>& relevant,
                                 const std::vector<int64_t>& ks = {1, 5, 10});

}  // namespace mudit::eval
