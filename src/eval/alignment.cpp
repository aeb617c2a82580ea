#include "mudit/eval/alignment.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "mudit/core/checkpoint.h"
#include "mudit/core/error.h"
#include "mudit/models/text_tower.h"

namespace mudit::eval {

at::Tensor semantic_audio_alignment(ChinMu& chinmu, const at::Tensor& song,
                                    const std::vector<std::string>& descriptions) {
  c10::InferenceMode guard;
  if (descriptions.empty()) return at::empty({0}, at::kDouble);
  const at::Tensor text = chinmu->embed_texts(descriptions);  // [K, D], normalised
  return at::matmul(text, song.to(text.device(), text.scalar_type())).to(at::kCPU, at::kDouble);
}

double acoustic_reference_alignment(const at::Tensor& generated_layers,
                                    const at::Tensor& reference_layers) {
  MUDIT_CHECK(generated_layers.dim() == 2 && generated_layers.sizes() == reference_layers.sizes(),
              ShapeError, "ARA expects two [L, H] layer summaries of one encoder, got ",
              generated_layers.sizes(), " and ", reference_layers.sizes());
  const auto unit = [](const at::Tensor& x) {
    const at::Tensor d = x.to(at::kCPU, at::kDouble);
    return d / d.norm(2, {1}, true).clamp_min(1e-12);
  };
  return at::matmul(unit(generated_layers), unit(reference_layers).t()).mean().item<double>();
}

namespace {

// A tower behind a cache of normalised rows per text.
TextEmbedder cached(TextEmbedder raw) {
  // Shared by copies of the embedder and safe to call from several threads (mudit serve):
  // the tower runs outside the lock; the cache is dropped when it grows past 50 000 texts.
  struct Cache {
    std::mutex mu;
    std::map<std::string, at::Tensor> rows;
  };
  auto cache = std::make_shared<Cache>();
  return [raw, cache](const std::vector<std::string>& texts) {
    c10::InferenceMode guard;
    std::vector<std::string> missing;
    std::vector<at::Tensor> rows(texts.size());
    {
      std::lock_guard<std::mutex> lock(cache->mu);
      for (size_t i = 0; i < texts.size(); ++i) {
        const auto it = cache->rows.find(texts[i]);
        if (it != cache->rows.end()) {
          rows[i] = it->second;
        } else if (std::find(missing.begin(), missing.end(), texts[i]) == missing.end()) {
          missing.push_back(texts[i]);
        }
      }
    }
    if (!missing.empty()) {
      at::Tensor e = raw(missing).to(at::kCPU, at::kFloat);
      e = e / e.norm(2, {1}, true).clamp_min(1e-12);  // a loaded tower may not normalise
      std::lock_guard<std::mutex> lock(cache->mu);
      if (cache->rows.size() + missing.size() > 50000) cache->rows.clear();
      for (size_t i = 0; i < missing.size(); ++i) {
        cache->rows[missing[i]] = e[static_cast<int64_t>(i)];
      }
      for (size_t i = 0; i < texts.size(); ++i) {
        if (!rows[i].defined()) {
          rows[i] = e[std::find(missing.begin(), missing.end(), texts[i]) - missing.begin()];
        }
      }
    }
    return at::stack(rows);
  };
}

}  // namespace

TextEmbedder text_embedder(ChinMu chinmu) {
  return cached([chinmu](const std::vector<std::string>& texts) mutable {
    return chinmu->embed_texts(texts);
  });
}

TextEmbedder text_embedder(const std::filesystem::path& model, c10::Device device) {
  const ModelMeta meta = read_model_meta(model);
  if (meta.arch == "chinmu") return text_embedder(load_chinmu(model, device));
  MUDIT_CHECK(meta.arch == "bert", CheckpointError, model.string(), " holds a '", meta.arch,
              "' model, not a text tower (mudit convert hf-bert) or ChinMu");
  auto tower = std::make_shared<TextTower>(load_text_tower(model, device));
  return cached([tower](const std::vector<std::string>& texts) { return tower->embed(texts); });
}

TagSimilarity tag_similarity(const TextEmbedder& embed, const std::vector<std::string>& a,
                             const std::vector<std::string>& b) {
  TagSimilarity out;
  if (a.empty() || b.empty()) return out;
  c10::InferenceMode guard;
  const at::Tensor cos = at::matmul(embed(a), embed(b).t()).to(at::kCPU, at::kDouble);
  out.pairs = cos.numel();
  out.mean = cos.mean().item<double>();
  out.std = std::sqrt((cos - out.mean).pow(2).mean().item<double>());
  return out;
}

std::map<std::string, TagSimilarity> tag_similarity_by_dimension(
    const TextEmbedder& embed,
    const std::vector<std::map<std::string, std::vector<std::string>>>& a,
    const std::vector<std::map<std::string, std::vector<std::string>>>& b) {
  MUDIT_CHECK(a.size() == b.size(), ShapeError, "tag similarity: ", a.size(), " and ", b.size(),
              " songs");
  std::map<std::string, std::pair<double, double>> sums;  // sum, sum of squares
  std::map<std::string, int64_t> counts;
  for (size_t s = 0; s < a.size(); ++s) {
    for (const auto& [dim, tags] : a[s]) {
      const auto other = b[s].find(dim);
      if (other == b[s].end() || tags.empty() || other->second.empty()) continue;
      const TagSimilarity t = tag_similarity(embed, tags, other->second);
      const double n = static_cast<double>(t.pairs);
      sums[dim].first += t.mean * n;
      sums[dim].second += (t.std * t.std + t.mean * t.mean) * n;
      counts[dim] += t.pairs;
    }
  }
  std::map<std::string, TagSimilarity> out;
  for (const auto& [dim, s] : sums) {
    const double n = static_cast<double>(counts[dim]);
    TagSimilarity& t = out[dim];
    t.pairs = counts[dim];
    t.mean = s.first / n;
    t.std = std::sqrt(std::max(0.0, s.second / n - t.mean * t.mean));
  }
  return out;
}

}  // namespace mudit::eval
