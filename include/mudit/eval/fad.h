#pragma once

// Fréchet audio distance over embeddings, in float64: FAD between two sets, FAD∞ (fadtk's
// extrapolation to an infinite generated set) and per-song scores. Embeddings are [N, D] rows
// from any encoder (mudit eval uses ChinMu's audio windows).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace mudit::eval {

/// Mean [D] and covariance [D, D] (unbiased, N - 1) of rows [N, D], in float64.
struct GaussianStats {
  at::Tensor mean;
  at::Tensor cov;
  int64_t count = 0;
};
GaussianStats gaussian_stats(const at::Tensor& rows);

/// |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), the trace of the
/// square root taken from the eigenvalues of the symmetric PSD product (negative rounding
/// residue clipped to 0), so it is stable where a general matrix square root is not. >= 0 up to
/// rounding; 0 for a set against itself.
double frechet_distance(const GaussianStats& a, const GaussianStats& b);

struct FadInfinity {
  double value = 0;  ///< the extrapolated FAD at 1 / N = 0
  double slope = 0;  ///< d FAD / d (1 / N)
  double r2 = 0;     ///< of the linear fit
  std::vector<int64_t> sizes;
  std::vector<double> fads;  ///< FAD of a random subset of each size against the reference
};

/// fadtk's FAD∞: FAD of random subsets (without replacement) of `steps` sizes evenly spaced
/// from `min_size` to N, a least-squares line of FAD against 1 / size, and its intercept.
/// Throws ConfigError when N < min_size or the sizes do not give two distinct points.
FadInfinity fad_infinity(const at::Tensor& generated, const GaussianStats& reference,
                         int64_t min_size, int64_t steps, uint64_t seed);

/// Per-song scores: each song's rows [K, D] (its windows) against the reference statistics.
std::vector<double> per_song_fad(const std::vector<at::Tensor>& songs,
                                 const GaussianStats& reference);

}  // namespace mudit::eval
