#include "mudit/eval/retrieval.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "mudit/core/error.h"

namespace mudit::eval {

RetrievalScores retrieval_scores(const at::Tensor& similarity,
                                 const std::vector<std::vector<int64_t>>& relevant,
                                 const std::vector<int64_t>& ks) {
  MUDIT_CHECK(similarity.dim() == 2, ShapeError, "retrieval: similarity must be [Q, N], got ",
              similarity.sizes());
  const int64_t q = similarity.size(0), n = similarity.size(1);
  MUDIT_CHECK(static_cast<int64_t>(relevant.size()) == q, ShapeError, "retrieval: ", q,
              " queries but ", relevant.size(), " relevance lists");
  RetrievalScores s;
  s.queries = q;
  s.items = n;
  if (q == 0) return s;
  const at::Tensor sim = similarity.to(at::kCPU, at::kDouble).contiguous();
  const double* p = sim.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < q; ++i) {
    const std::set<int64_t> rel(relevant[static_cast<size_t>(i)].begin(),
                                relevant[static_cast<size_t>(i)].end());
    MUDIT_CHECK(!rel.empty() && *rel.begin() >= 0 && *rel.rbegin() < n, ShapeError,
                "retrieval: query ", i, " needs relevant items in [0, ", n, ")");
    std::iota(order.begin(), order.end(), 0);
    const double* row = p + i * n;
    std::stable_sort(order.begin(), order.end(),
                     [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    int64_t first = n;  // rank (1-based) of the first relevant item
    double ap = 0;
    int64_t hits = 0;
    for (int64_t r = 0; r < n; ++r) {
      if (!rel.count(order[static_cast<size_t>(r)])) continue;
      first = std::min(first, r + 1);
      if (r < 10) ap += static_cast<double>(++hits) / static_cast<double>(r + 1);
    }
    s.map_at_10 += ap / static_cast<double>(std::min<size_t>(10, rel.size())) / q;
    const double m = static_cast<double>(rel.size());
    for (int64_t k : ks) {
      s.recall[k] += (first <= k ? 1.0 : 0.0) / static_cast<double>(q);
      // P(at least one of m relevant among k random picks of n) = 1 - C(n-m, k) / C(n, k).
      double none = 1;
      for (int64_t j = 0; j < std::min(k, n); ++j)
        none *= std::max(0.0, (static_cast<double>(n) - m - j) / (static_cast<double>(n) - j));
      s.chance_recall[k] += (1 - none) / static_cast<double>(q);
    }
  }
  return s;
}

}  // namespace mudit::eval
