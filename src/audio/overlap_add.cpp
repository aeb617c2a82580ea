#include "mudit/audio/overlap_add.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "mudit/core/error.h"

namespace mudit {

void OverlapAddPlan::validate() const {
  MUDIT_CHECK(units > 0, ConfigError, "overlap-add: nothing to process (0 units)");
  MUDIT_CHECK(window >= 1 && overlap >= 0 && overlap < window, ConfigError,
              "overlap-add: need window >= 1 and 0 <= overlap < window, got window ", window,
              " and overlap ", overlap);
  MUDIT_CHECK(out_per_unit >= 1, ConfigError, "overlap-add: out_per_unit must be >= 1");
}

int64_t OverlapAddPlan::count() const {
  if (units <= window) return 1;
  const int64_t step = window - overlap;
  return 1 + (units - window + step - 1) / step;
}

at::Tensor overlap_add(const OverlapAddPlan& plan,
                       const std::function<at::Tensor(int64_t, int64_t)>& fn,
                       const std::function<void(int64_t, int64_t)>& progress) {
  plan.validate();
  const int64_t n = plan.count();
  const int64_t step = plan.window - plan.overlap;
  const int64_t r = plan.out_per_unit;
  at::Tensor out;     // [C, units * r]
  at::Tensor weight;  // [units * r]
  for (int64_t k = 0; k < n; ++k) {
    const int64_t start = k * step;
    const int64_t length = std::min(plan.window, plan.units - start);
    at::Tensor y = fn(start, length).to(at::kCPU, at::kFloat);  // [C, length * r]
    MUDIT_CHECK(y.dim() == 2 && y.size(1) == length * r, ShapeError, "overlap-add: window ", k,
                " returned ", y.sizes(), ", expected [C, ", length * r, "]");
    if (n == 1) {
      if (progress) progress(1, 1);
      return y.contiguous();
    }
    if (!out.defined()) {
      out = at::zeros({y.size(0), plan.units * r});
      weight = at::zeros({plan.units * r});
    }
    // Ramps over the shared columns: (i + 0.5) / m rising, its complement falling.
    const int64_t m = plan.overlap * r;
    at::Tensor w = at::ones({length * r});
    if (m > 0) {
      const at::Tensor ramp = (at::arange(m, at::kFloat) + 0.5) / static_cast<double>(m);  // [m]
      if (k > 0) w.slice(0, 0, m).copy_(ramp);
      if (k + 1 < n) w.slice(0, length * r - m).mul_(ramp.flip(0));
    }
    out.slice(1, start * r, (start + length) * r).add_(y * w);  // [C, length * r]
    weight.slice(0, start * r, (start + length) * r).add_(w);
    if (progress) progress(k + 1, n);
  }
  return out / weight.clamp_min(1e-12);  // [C, units * r]
}

}  // namespace mudit
