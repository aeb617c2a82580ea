#pragma once

// Classifier-free guidance (Ho & Salimans 2022) with separate lyric, plan and description
// scales, as a wrapper that turns a network evaluated on condition branches into the Field the
// samplers take. The conditions are added in a chain — u (none), l (lyrics), p (lyrics and the
// musical plan), c (everything) — and
//   guided = u + s_lyrics (l - u) + s_plan (p - l) + s_description (c - p),
// so equal scales give the usual u + s (c - u). A branch is evaluated only where it matters:
// a level whose scale equals the next one's drops out (its two terms telescope), and u drops
// out when the first scale is 1; all scales 1 is one evaluation. All branches go through the
// network as one batch. Options:
// CFG-rescale (Lin et al. 2024: the guided output's per-sample std matched to c's, mixed by phi)
// and a guidance interval (Kynkäänniemi et al. 2024: guide only at noise levels inside it).

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

#include "mudit/diffusion/samplers.h"

namespace mudit::diffusion {

/// Which conditions a block of the batch keeps (dropped ones use the learned null embeddings).
enum class Branch { kFull, kLyricsOnly, kUnconditional, kLyricsPlan };

/// The network over K stacked copies of the batch: x [K*B, ...], t [K*B], block k conditioned
/// as branches[k] says; returns [K*B, ...].
using BranchedModel = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& t,
                                               const std::vector<Branch>& branches)>;

struct GuidanceConfig {
  double description_scale = 1.0;  ///< 1 and lyric_scale 1: no guidance
  double lyric_scale = 1.0;
  /// The musical plan's scale; negative: the description's (the plan guided with it, as before
  /// plans existed).
  double plan_scale = -1.0;
  double rescale = 0.0;  ///< phi in [0, 1]; 0: off
  /// Guide where the noise level (1 = pure noise, 0 = data) is in [interval_low, interval_high].
  double interval_low = 0.0;
  double interval_high = 1.0;

  template <class V>
  void visit(V& v) {
    v("description_scale", description_scale);
    v("lyric_scale", lyric_scale);
    v("plan_scale", plan_scale);
    v("rescale", rescale);
    v("interval_low", interval_low);
    v("interval_high", interval_high);
  }
  void validate() const;
};

/// The guided Field. `noise_level(t)` maps the sampler's time value to [0, 1] (DDPM:
/// t / (T - 1); interpolants: 1 - t). `evaluations`, when given, counts network rows per call
/// (K for K branches) — for tests and benchmarks.
Field guided(BranchedModel model, GuidanceConfig config, std::function<double(double)> noise_level,
             int64_t* evaluations = nullptr);

/// The branches guided() evaluates for a config inside its interval (kFull first), and their
/// weights: guided = sum_k weights[k] * output[k].
void guidance_branches(const GuidanceConfig& config, std::vector<Branch>& branches,
                       std::vector<double>& weights);

/// CFG-rescale of `guided` towards the std of `conditional` (per sample, over all but dim 0).
at::Tensor cfg_rescale(const at::Tensor& guided, const at::Tensor& conditional, double phi);

}  // namespace mudit::diffusion
