#pragma once

// Alignment metrics on ChinMu (any ChinMu-shaped encoder): the seed's Semantic Audio Alignment
// (SAA) and Acoustic Reference Alignment (ARA), and MuChin's tag semantic similarity.

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mudit/models/chinmu.h"

namespace mudit::eval {

/// SAA: the cosine of a song's audio embedding `song` [D] (ChinMu::embed_song: the mean of its
/// consecutive windows, deterministic where the seed averaged 100 random crops) with the text
/// embedding of each description. [K] for K descriptions.
at::Tensor semantic_audio_alignment(ChinMu& chinmu, const at::Tensor& song,
                                    const std::vector<std::string>& descriptions);

/// ARA of two songs' per-layer time-averaged hidden states [L, H] (ChinMu::audio_layer_means):
/// the mean of the full L x L matrix of cosines between every generated layer and every
/// reference layer (the seed's definition).
double acoustic_reference_alignment(const at::Tensor& generated_layers,
                                    const at::Tensor& reference_layers);

/// A text tower as a function: unit-norm embeddings [N, D] of N texts (ChinMu's text tower, or a
/// BERT-family TextTower loaded from a `mudit convert hf-bert` file; see text_embedder()).
using TextEmbedder = std::function<at::Tensor(const std::vector<std::string>&)>;

/// The text tower of a model file: arch "bert" (a text-tower file) or "chinmu", on `device`.
/// Embeddings are cached per text (tags repeat across songs). Throws CheckpointError for any
/// other model.
TextEmbedder text_embedder(const std::filesystem::path& model, c10::Device device);
/// The same over a loaded ChinMu's text tower.
TextEmbedder text_embedder(ChinMu chinmu);

/// Mean and standard deviation (population) of the pairwise cosines between the text-tower
/// embeddings of two tag sets, and the number of pairs.
struct TagSimilarity {
  double mean = 0;
  double std = 0;
  int64_t pairs = 0;
};
TagSimilarity tag_similarity(const TextEmbedder& embed, const std::vector<std::string>& a,
                             const std::vector<std::string>& b);

/// tag_similarity() per dimension over songs: for every dimension both maps of a song have,
/// the song's pairwise cosines are pooled; dimensions absent from either side are skipped.
std::map<std::string, TagSimilarity> tag_similarity_by_dimension(
    const TextEmbedder& embed,
    const std::vector<std::map<std::string, std::vector<std::string>>>& a,
    const std::vector<std::map<std::string, std::vector<std::string>>>& b);

}  // namespace mudit::eval
