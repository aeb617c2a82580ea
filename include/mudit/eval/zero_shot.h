#pragma once

// Zero-shot attribute classification with a text/audio embedding model (ChinMu): each class of
// an attribute is described by a few prompts, their text embeddings are averaged into a class
// vector, and a song is given the class whose vector is closest to its audio embedding. The
// synthetic corpus labels every song (mode, tempo, singer) in its manifest `meta`, so the
// accuracy can be scored without any training on the attribute.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mudit::eval {

struct ZeroShotAttribute {
  std::string name;                  ///< "mode"
  std::vector<std::string> classes;  ///< {"major", "minor"}
  /// Register ("amateur", "professional") -> per class, its prompts (Chinese and English).
  std::map<std::string, std::vector<std::vector<std::string>>> prompts;
};

/// The synthetic corpus's attributes, with prompts in each register's words:
///   mode   major / minor (songs in a pentatonic mode are left out)
///   tempo  fast (felt beat >= 120 BPM) / slow (< 90 BPM; the songs between are left out)
///   voice  female / male singer (instrumental songs are left out)
const std::vector<ZeroShotAttribute>& synthetic_attributes();

/// A song's class index for `attribute` from its manifest `meta` (JSON object text, as written
/// by mudit synth), or -1 when it has none (see synthetic_attributes; also an unknown attribute
/// or a meta without the field).
int64_t synthetic_label(const std::string& attribute, const std::string& meta_json);

struct ZeroShotScores {
  int64_t songs = 0;                  ///< labelled songs scored
  double accuracy = 0;                ///< share of them classified right
  double balanced_accuracy = 0;       ///< mean over the classes present of their recall
  double chance = 0;                  ///< balanced accuracy of a random guess: 1 / classes present
  std::vector<int64_t> class_counts;  ///< songs per class
};

/// `audio` [N, D] song embeddings, `classes` [C, D] class vectors (both compared by inner
/// product: pass unit vectors for cosine), `labels[n]` in [-1, C) (-1: not scored).
ZeroShotScores zero_shot_scores(const at::Tensor& audio, const at::Tensor& classes,
                                const std::vector<int64_t>& labels);

}  // namespace mudit::eval
