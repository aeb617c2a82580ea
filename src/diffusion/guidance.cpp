#include "mudit/diffusion/guidance.h"

#include <ATen/ATen.h>

#include "mudit/core/error.h"

namespace mudit::diffusion {

void GuidanceConfig::validate() const {
  MUDIT_CHECK(description_scale >= 0 && lyric_scale >= 0, ConfigError,
              "guidance scales must be >= 0");
  MUDIT_CHECK(rescale >= 0 && rescale <= 1, ConfigError, "guidance rescale must be in [0, 1], got ",
              rescale);
  MUDIT_CHECK(interval_low >= 0 && interval_low <= interval_high && interval_high <= 1, ConfigError,
              "guidance interval must satisfy 0 <= low <= high <= 1");
}

at::Tensor cfg_rescale(const at::Tensor& guided, const at::Tensor& conditional, double phi) {
  if (phi <= 0) return guided;
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < guided.dim(); ++d) dims.push_back(d);
  const at::Tensor sc = conditional.std(dims, /*correction=*/1, /*keepdim=*/true);
  const at::Tensor sg = guided.std(dims, /*correction=*/1, /*keepdim=*/true).clamp_min(1e-12);
  return phi * (guided * (sc / sg)) + (1 - phi) * guided;
}

Field guided(BranchedModel model, GuidanceConfig g, std::function<double(double)> noise_level,
             int64_t* evaluations) {
  g.validate();
  return [model = std::move(model), g, noise_level = std::move(noise_level), evaluations](
             const at::Tensor& x, const at::Tensor& t) {
    const double level = noise_level(t.flatten()[0].item<double>());
    const bool inside = level >= g.interval_low && level <= g.interval_high;
    const bool off = g.description_scale == 1.0 && g.lyric_scale == 1.0;
    std::vector<Branch> branches = {Branch::kFull};
    if (inside && !off) {
      if (g.description_scale != g.lyric_scale) branches.push_back(Branch::kLyricsOnly);
      branches.push_back(Branch::kUnconditional);
    }
    const int64_t k = static_cast<int64_t>(branches.size());
    if (evaluations) *evaluations += k;
    std::vector<int64_t> rep(static_cast<size_t>(x.dim()), 1);
    rep[0] = k;
    const at::Tensor out = model(x.repeat(rep), t.repeat({k}), branches);
    const std::vector<at::Tensor> parts = out.chunk(k, 0);
    if (k == 1) return parts[0];
    const at::Tensor& c = parts[0];
    const at::Tensor& u = parts.back();
    at::Tensor res;
    if (k == 2) {
      res = u + g.description_scale * (c - u);
    } else {
      const at::Tensor& l = parts[1];
      res = u + g.lyric_scale * (l - u) + g.description_scale * (c - l);
    }
    return cfg_rescale(res, c, g.rescale);
  };
}

}  // namespace mudit::diffusion
