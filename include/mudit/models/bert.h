#pragma once

// ChinMu's text tower: a BERT-family encoder (Devlin et al. 2019) — word, position and token-type
// embeddings, post-LN transformer layers with GELU, an optional tanh pooler — whose module and
// parameter names are Hugging Face's BertModel state-dict keys (`embeddings.word_embeddings`,
// `encoder.layer.N.attention.self.query`, `encoder.layer.N.attention.output.LayerNorm`,
// `encoder.layer.N.intermediate.dense`, `encoder.layer.N.output.dense`, `pooler.dense`), so
// Chinese BERT, RoBERTa-wwm, BGE or MiniLM safetensors load with the strict loader.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mudit {

/// The encoder's shape, with the field names of a Hugging Face config.json.
struct BertConfig {
  int64_t vocab_size = 21128;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  /// "gelu" (erf, BERT's) or "gelu_new" / "gelu_tanh" (the tanh approximation).
  std::string hidden_act = "gelu";
  int64_t pad_token_id = 0;
  /// Build the pooler (`pooler.dense`, tanh over the [CLS] state).
  bool add_pooler = true;

  template <class V>
  void visit(V& v) {
    v("vocab_size", vocab_size);
    v("hidden_size", hidden_size);
    v("num_hidden_layers", num_hidden_layers);
    v("num_attention_heads", num_attention_heads);
    v("intermediate_size", intermediate_size);
    v("max_position_embeddings", max_position_embeddings);
    v("type_vocab_size", type_vocab_size);
    v("layer_norm_eps", layer_norm_eps);
    v("hidden_dropout_prob", hidden_dropout_prob);
    v("attention_probs_dropout_prob", attention_probs_dropout_prob);
    v("hidden_act", hidden_act);
    v("pad_token_id", pad_token_id);
    v("add_pooler", add_pooler);
  }
  void validate() const;

  /// bert-base-chinese / chinese-roberta-wwm-ext / bge-base-zh: 768-d, 12 layers, 21128 tokens
  /// (102 M parameters).
  static BertConfig base_chinese();
  /// For tests and the tiny ChinMu: 128-d, 2 layers, 2 heads, 512 intermediate.
  static BertConfig tiny(int64_t vocab_size);
};

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& c);
  /// x [B, L, H], mask [B, 1, 1, L] bool (true = attend) or undefined.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask);

 private:
  int64_t heads_;
  double dropout_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr};
};
TORCH_MODULE(BertSelfAttention);

/// A Linear + dropout + residual + LayerNorm, HF's `BertSelfOutput` / `BertOutput`.
class BertResidualOutputImpl : public torch::nn::Module {
 public:
  BertResidualOutputImpl(int64_t in, int64_t out, const BertConfig& c);
  at::Tensor forward(const at::Tensor& h, const at::Tensor& residual);

 private:
  torch::nn::Linear dense_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(BertResidualOutput);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask);

 private:
  bool tanh_gelu_;
  BertSelfAttention self_{nullptr};
  BertResidualOutput attention_output_{nullptr};
  torch::nn::Linear intermediate_{nullptr};
  BertResidualOutput output_{nullptr};
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(BertConfig config);

  struct Output {
    at::Tensor hidden;  // [B, L, H], the last layer
    at::Tensor pooled;  // [B, H], tanh(pooler(hidden[:, 0])), undefined without the pooler
  };
  /// ids [B, L] int64, attention_mask [B, L] (1 = token, 0 = padding; undefined: all tokens),
  /// token_type_ids [B, L] (undefined: zeros).
  Output forward(const at::Tensor& ids, const at::Tensor& attention_mask = {},
                 const at::Tensor& token_type_ids = {});

  const BertConfig& config() const { return config_; }

 private:
  BertConfig config_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, token_type_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  torch::nn::Dropout embed_dropout_{nullptr};
  std::vector<BertLayer> layers_;
  torch::nn::Linear pooler_{nullptr};
};
TORCH_MODULE(BertModel);

/// Mean of the token states where attention_mask is 1 (sentence-transformers' mean pooling):
/// hidden [B, L, H], mask [B, L] → [B, H].
at::Tensor masked_mean(const at::Tensor& hidden, const at::Tensor& attention_mask);

/// The Hugging Face checkpoint names a BertModel file may carry besides its own: the prefix
/// `bert.` of task models, `embeddings.position_ids` (a buffer), and MLM / NSP heads (`cls.*`).
/// Returns true for names to drop before a strict load.
bool is_hf_bert_extra(const std::string& name);

}  // namespace mudit
