#pragma once

// A generator: the DiT backbone plus the objective it was trained with (MuDiT: DDPM; MuSiT:
// stochastic interpolants) and what it is conditioned on. This is what a generator model file
// (arch "generator") holds in its mudit.config, so sampling can rebuild it.

#include <filesystem>
#include <string>

#include "mudit/diffusion/ddpm.h"
#include "mudit/diffusion/interpolant.h"
#include "mudit/models/dit.h"

namespace mudit {

struct GeneratorConfig {
  DiTConfig dit = DiTConfig::tiny();
  std::string objective = "interpolant";  ///< "interpolant" (MuSiT) | "ddpm" (MuDiT)
  diffusion::InterpolantConfig interpolant;
  diffusion::DdpmConfig ddpm;
  /// Stage 2 trains on ChinMu audio embeddings ("audio"), stage 3 on text embeddings of one
  /// description per step ("text"); at sampling time both are a ChinMu vector.
  std::string condition = "audio";

  template <class V>
  void visit(V& v) {
    v("dit", dit);
    v("objective", objective);
    v("interpolant", interpolant);
    v("ddpm", ddpm);
    v("condition", condition);
  }
  void validate() const;
};

/// DiT with the objective's config; `load_generator` rebuilds one from a model file.
struct Generator {
  GeneratorConfig config;
  DiT dit{nullptr};
};

/// Loads a generator model file. A training checkpoint's model.safetensors with an
/// ema.safetensors beside it (a run with train.ema.enabled) loads the EMA weights unless
/// `use_ema` is false: they are the weights a run is meant to be sampled with.
Generator load_generator(const std::filesystem::path& file, c10::Device device = c10::kCPU,
                         bool use_ema = true);

}  // namespace mudit
