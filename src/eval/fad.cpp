#include "mudit/eval/fad.h"

#include <ATen/ATen.h>

#include <cmath>
#include <numeric>
#include <random>

#include "mudit/core/error.h"

namespace mudit::eval {

GaussianStats gaussian_stats(const at::Tensor& rows) {
  MUDIT_CHECK(rows.dim() == 2 && rows.size(0) >= 1, ShapeError,
              "gaussian_stats expects [N, D] rows with N >= 1, got ", rows.sizes());
  const at::Tensor x = rows.to(at::kCPU, at::kDouble);
  GaussianStats s;
  s.count = x.size(0);
  s.mean = x.mean(0);
  const at::Tensor c = x - s.mean;
  s.cov = s.count > 1 ? at::matmul(c.t(), c) / static_cast<double>(s.count - 1)
                      : at::zeros({x.size(1), x.size(1)}, x.options());
  return s;
}

namespace {

// The symmetric square root of a PSD matrix through its eigendecomposition.
at::Tensor psd_sqrt(const at::Tensor& m) {
  const auto [values, vectors] = at::linalg_eigh(0.5 * (m + m.t()));
  return at::matmul(vectors * values.clamp_min(0).sqrt().unsqueeze(0), vectors.t());
}

}  // namespace

double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  MUDIT_CHECK(a.mean.defined() && b.mean.defined() && a.mean.sizes() == b.mean.sizes(), ShapeError,
              "frechet_distance: the two sets' embeddings differ in size");
  const at::Tensor root_a = psd_sqrt(a.cov);
  const at::Tensor product = at::matmul(at::matmul(root_a, b.cov), root_a);
  const at::Tensor eig = at::linalg_eigvalsh(0.5 * (product + product.t()));
  const double cross = eig.clamp_min(0).sqrt().sum().item<double>();
  const double mean_term = (a.mean - b.mean).pow(2).sum().item<double>();
  return mean_term + a.cov.trace().item<double>() + b.cov.trace().item<double>() - 2.0 * cross;
}

FadInfinity fad_infinity(const at::Tensor& generated, const GaussianStats& reference,
                         int64_t min_size, int64_t steps, uint64_t seed) {
  MUDIT_CHECK(generated.dim() == 2, ShapeError, "fad_infinity expects [N, D], got ",
              generated.sizes());
  const int64_t n = generated.size(0);
  MUDIT_CHECK(min_size >= 2 && steps >= 2 && n >= min_size, ConfigError, "FAD∞ needs at least ",
              min_size, " embeddings (min_size >= 2) and 2 or more steps; got ", n, " and ", steps,
              " steps");
  FadInfinity out;
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t s = 0; s < steps; ++s) {
    const auto size = static_cast<int64_t>(
        std::llround(static_cast<double>(min_size) +
                     static_cast<double>(n - min_size) * static_cast<double>(s) / (steps - 1)));
    if (!out.sizes.empty() && out.sizes.back() == size) continue;
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const at::Tensor pick =
        at::tensor(std::vector<int64_t>(order.begin(), order.begin() + size), at::kLong);
    out.sizes.push_back(size);
    out.fads.push_back(
        frechet_distance(gaussian_stats(generated.index_select(0, pick)), reference));
  }
  MUDIT_CHECK(out.sizes.size() >= 2, ConfigError, "FAD∞: the subset sizes from ", min_size, " to ",
              n, " give fewer than two distinct points");
  // Least squares of fad = value + slope / size.
  const auto m = static_cast<double>(out.sizes.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < out.sizes.size(); ++i) {
    const double x = 1.0 / static_cast<double>(out.sizes[i]), y = out.fads[i];
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
  }
  const double vx = sxx - sx * sx / m, vy = syy - sy * sy / m, cxy = sxy - sx * sy / m;
  out.slope = cxy / vx;
  out.value = (sy - out.slope * sx) / m;
  out.r2 = vy > 0 ? cxy * cxy / (vx * vy) : 1.0;
  return out;
}

std::vector<double> per_song_fad(const std::vector<at::Tensor>& songs,
                                 const GaussianStats& reference) {
  std::vector<double> out;
  out.reserve(songs.size());
  for (const at::Tensor& s : songs) out.push_back(frechet_distance(gaussian_stats(s), reference));
  return out;
}

}  // namespace mudit::eval
