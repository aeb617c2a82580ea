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

void guidance_branches(const GuidanceConfig& g, std::vector<Branch>& branches,
                       std::vector<double>& weights) {
  // The chain u -> l -> p -> c with the scale of each step.
  const double plan = g.plan_scale < 0 ? g.description_scale : g.plan_scale;
  std::vector<Branch> chain = {Branch::kUnconditional, Branch::kLyricsOnly, Branch::kLyricsPlan,
                               Branch::kFull};
  std::vector<double> scale = {0.0, g.lyric_scale, plan, g.description_scale};
  for (size_t i = chain.size() - 2; i >= 1; --i) {  // telescope equal neighbouring scales
    if (scale[i] == scale[i + 1]) {
      chain.erase(chain.begin() + static_cast<long>(i));
      scale.erase(scale.begin() + static_cast<long>(i));
    }
  }
  if (scale[1] == 1.0) {  // u + 1 (x - u) = x
    chain.erase(chain.begin());
    scale.erase(scale.begin());
    scale[0] = 0.0;
  }
  // guided = L0 + sum_{i>=1} s_i (L_i - L_{i-1}): the weight of L_i is s_i - s_{i+1} (+1 for L0).
  std::vector<double> w(chain.size(), 0.0);
  w[0] = 1.0;
  for (size_t i = 1; i < chain.size(); ++i) {
    w[i] += scale[i];
    w[i - 1] -= scale[i];
  }
  // kFull first (CFG-rescale matches its std).
  branches.assign(chain.rbegin(), chain.rend());
  weights.assign(w.rbegin(), w.rend());
}

Field guided(BranchedModel model, GuidanceConfig g, std::function<double(double)> noise_level,
             int64_t* evaluations) {
  g.validate();
  std::vector<Branch> inside_branches;
  std::vector<double> inside_weights;
  guidance_branches(g, inside_branches, inside_weights);
  return [model = std::move(model), g, noise_level = std::move(noise_level), evaluations,
          inside_branches, inside_weights](const at::Tensor& x, const at::Tensor& t) {
    const double level = noise_level(t.flatten()[0].item<double>());
    const bool inside = level >= g.interval_low && level <= g.interval_high;
    const std::vector<Branch> branches =
        inside ? inside_branches : std::vector<Branch>{Branch::kFull};
    const int64_t k = static_cast<int64_t>(branches.size());
    if (evaluations) *evaluations += k;
    std::vector<int64_t> rep(static_cast<size_t>(x.dim()), 1);
    rep[0] = k;
    const at::Tensor out = model(x.repeat(rep), t.repeat({k}), branches);
    const std::vector<at::Tensor> parts = out.chunk(k, 0);
    if (k == 1) return parts[0];
    at::Tensor res = parts[0] * inside_weights[0];
    for (int64_t i = 1; i < k; ++i)
      res = res + parts[static_cast<size_t>(i)] * inside_weights[static_cast<size_t>(i)];
    return cfg_rescale(res, parts[0], g.rescale);
  };
}

}  // namespace mudit::diffusion
