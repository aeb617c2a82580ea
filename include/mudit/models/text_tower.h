#pragma once

// ChinMu's text tower as a unit: the BERT encoder, its WordPiece tokenizer and the pooling, with
// the model file that carries all three (arch "bert": the encoder's HF-named weights, mudit.config
// {bert, tokenizer, pooling}, the vocabulary in mudit.vocab), so a file is all `embed` needs.
//
//   mudit convert hf-bert DIR --out text.safetensors   # DIR: config.json, vocab.txt, weights

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "mudit/models/bert.h"
#include "mudit/text/tokenizer.h"

namespace mudit {

struct TextTowerConfig {
  BertConfig bert;
  text::TokenizerConfig tokenizer;
  /// "mean" (masked mean of the last layer, sentence-transformers' default), "cls" (the [CLS]
  /// state) or "pooler" (tanh pooler over [CLS], BERT's).
  std::string pooling = "mean";
  /// L2-normalise the pooled vector.
  bool normalize = true;

  template <class V>
  void visit(V& v) {
    v("bert", bert);
    v("tokenizer", tokenizer);
    v("pooling", pooling);
    v("normalize", normalize);
  }
  void validate() const;
};

struct TextTower {
  BertModel bert{nullptr};
  text::WordPieceTokenizer tokenizer;
  TextTowerConfig config;

  /// Pooled (and, per config, normalised) embeddings of `texts`: [B, hidden], on the model's
  /// device, in batches of `batch_size`. `truncated` receives how many texts were cut.
  at::Tensor embed(const std::vector<std::string>& texts, int64_t batch_size = 64,
                   int64_t* truncated = nullptr);
  /// The pooled vector of a forward pass (training uses this with gradients).
  at::Tensor pool(const BertModelImpl::Output& out, const at::Tensor& attention_mask) const;
};

/// The pooled state of a BERT forward pass: "mean" (masked mean), "cls" or "pooler".
at::Tensor pool_bert(const BertModelImpl::Output& out, const at::Tensor& attention_mask,
                     const std::string& pooling);
/// A tokenized batch as tensors on `device` that own their memory: ids and mask [B, L] int64.
std::pair<at::Tensor, at::Tensor> batch_tensors(const text::EncodedBatch& batch,
                                                c10::Device device);

/// Reads a text-tower file onto `device`, in eval mode. Throws CheckpointError / IoError.
TextTower load_text_tower(const std::filesystem::path& file, c10::Device device = c10::kCPU);
void save_text_tower(const std::filesystem::path& file, const TextTower& tower, int64_t step = 0);

struct HfBertReport {
  int64_t tensors = 0;
  int64_t parameters = 0;
  int64_t dropped = 0;  ///< checkpoint tensors that are not the encoder's (MLM heads, position_ids)
  std::string weights;  ///< the file the weights came from
  int64_t tokens = 0;   ///< vocabulary size
  TextTowerConfig config;  ///< what the file records (pooling, tokenizer, encoder)
};

/// A Hugging Face BERT folder → text-tower file: config.json; vocab.txt; model.safetensors (or a
/// pytorch_model.bin torch zip of plain tensors); tokenizer_config.json (do_lower_case,
/// strip_accents, tokenize_chinese_chars, model_max_length) and sentence-transformers'
/// sentence_bert_config.json (max_seq_length) and 1_Pooling/config.json (pooling mode) where
/// present; `pooling` other than "" overrides. Strict: every encoder tensor must be there.
HfBertReport convert_hf_bert(const std::filesystem::path& dir, const std::filesystem::path& out,
                             const std::string& pooling = "");

}  // namespace mudit
