#pragma once

// The plan head: tempo, meter and key read from a description's ChinMu text embedding, for the
// descriptions that do not state them (an amateur's "slow and wistful, for late nights"); what a
// description states is read by parse_plan_hints (mudit/generation/plan_text.h) and comes first.
// Linear read-outs over the standardised embedding, fitted by L-BFGS on labelled descriptions:
//   tempo  log2(quarter-note BPM / 120), least squares
//   key    24 classes (12 tonics x major / minor), softmax
//   meter  the meters of the fitting songs, softmax
// A key is given only when its probability reaches `key_confidence`: a guessed tonic is worse
// than none (the model then chooses), while a tempo guess is always given.
//
//   mudit fit-plan-head --manifest train.jsonl --chinmu RUN --valid valid.jsonl --out
//   head.safetensors mudit bundle ... --plan-head head.safetensors

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mudit/generation/plan.h"

namespace mudit::generation {

struct PlanHeadConfig {
  int64_t embed_dim = 0;            ///< the ChinMu embedding's size
  std::vector<std::string> meters;  ///< meter classes, in output order
  double key_confidence = 0.5;      ///< a key is given from this probability on
  template <class V>
  void visit(V& v) {
    v("embed_dim", embed_dim);
    v("meters", meters);
    v("key_confidence", key_confidence);
  }
  void validate() const;
};

/// A description's labelled facts (the song's), or what the head reads from its embedding.
struct PlanFacts {
  double bpm = 0;     ///< quarter-note BPM as written (PlanHints::bpm's convention)
  std::string meter;  ///< "4/4", "3/4", "6/8", ...
  bool has_key = false;
  PlanKey key;
  double key_probability = 0;  ///< the head's probability of `key` (facts from labels: 1)
};

class PlanHeadImpl : public torch::nn::Module {
 public:
  explicit PlanHeadImpl(PlanHeadConfig config);
  /// Raw outputs [N, 1 + 24 + M] from embeddings [N, E]: log2(BPM / 120), key logits (tonic
  /// 0..11 major, then 0..11 minor), meter logits.
  at::Tensor forward(const at::Tensor& embeddings);
  /// The facts of each embedding [N, E] (or [E]).
  std::vector<PlanFacts> read(const at::Tensor& embeddings);
  const PlanHeadConfig& config() const { return config_; }

 private:
  friend struct PlanHeadAccess;
  PlanHeadConfig config_;
  at::Tensor mean_, scale_;  // embedding standardisation [E]
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(PlanHead);

struct PlanHeadFitOptions {
  double l2 = 1e-3;              ///< weight decay on the standardised embedding (mean-loss scale)
  int64_t max_iterations = 500;  ///< L-BFGS
  double key_confidence = 0.5;   ///< stored in the head's config
};

/// Fits a head on embeddings [N, E] and their facts (every row with a tempo, meter and key).
/// Throws ShapeError / DataError.
PlanHead fit_plan_head(const at::Tensor& embeddings, const std::vector<PlanFacts>& facts,
                       const PlanHeadFitOptions& options = {});

/// Model file (arch "plan_head"). Throws CheckpointError / IoError.
void save_plan_head(const std::filesystem::path& file, PlanHead& head);
PlanHead load_plan_head(const std::filesystem::path& file);

}  // namespace mudit::generation
