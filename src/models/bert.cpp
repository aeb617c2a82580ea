#include "mudit/models/bert.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/tanh.h>
#include <ATen/ops/zeros_like.h>

#include "mudit/core/error.h"

namespace mudit {

void BertConfig::validate() const {
  MUDIT_CHECK(vocab_size > 0 && hidden_size > 0 && num_hidden_layers > 0 && intermediate_size > 0 &&
                  max_position_embeddings > 0 && type_vocab_size > 0,
              ConfigError, "bert: sizes must be positive");
  MUDIT_CHECK(num_attention_heads > 0 && hidden_size % num_attention_heads == 0, ConfigError,
              "bert: hidden_size (", hidden_size, ") must be a multiple of num_attention_heads (",
              num_attention_heads, ")");
  MUDIT_CHECK(hidden_act == "gelu" || hidden_act == "gelu_new" || hidden_act == "gelu_tanh",
              ConfigError, "bert: hidden_act '", hidden_act,
              "' is not gelu, gelu_new or gelu_tanh");
  MUDIT_CHECK(pad_token_id >= 0 && pad_token_id < vocab_size, ConfigError,
              "bert: pad_token_id outside the vocabulary");
  MUDIT_CHECK(hidden_dropout_prob >= 0 && hidden_dropout_prob < 1 &&
                  attention_probs_dropout_prob >= 0 && attention_probs_dropout_prob < 1,
              ConfigError, "bert: dropout probabilities must be in [0, 1)");
}

BertConfig BertConfig::base_chinese() {
  return BertConfig{};
}

BertConfig BertConfig::tiny(int64_t vocab) {
  BertConfig c;
  c.vocab_size = vocab;
  c.hidden_size = 128;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 512;
  c.max_position_embeddings = 128;
  return c;
}

bool is_hf_bert_extra(const std::string& name) {
  return name == "embeddings.position_ids" || name.rfind("cls.", 0) == 0;
}

// --- layers ---------------------------------------------------------------------------------

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : heads_(c.num_attention_heads), dropout_(c.attention_probs_dropout_prob) {
  query_ = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key_ = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value_ = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor BertSelfAttentionImpl::forward(const at::Tensor& x, const at::Tensor& mask) {
  const int64_t b = x.size(0), l = x.size(1), h = x.size(2);
  auto split = [&](const at::Tensor& t) {
    return t.view({b, l, heads_, h / heads_}).transpose(1, 2);  // [B, heads, L, H / heads]
  };
  const at::Tensor q = split(query_(x)), k = split(key_(x)), v = split(value_(x));
  const at::Tensor o = at::scaled_dot_product_attention(
      q, k, v, mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
      is_training() ? dropout_ : 0.0);          // [B, heads, L, H / heads]
  return o.transpose(1, 2).reshape({b, l, h});  // [B, L, H]
}

BertResidualOutputImpl::BertResidualOutputImpl(int64_t in, int64_t out, const BertConfig& c) {
  dense_ = register_module("dense", torch::nn::Linear(in, out));
  norm_ = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out}).eps(c.layer_norm_eps)));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertResidualOutputImpl::forward(const at::Tensor& h, const at::Tensor& residual) {
  return norm_(dropout_(dense_(h)) + residual);  // post-LN
}

BertLayerImpl::BertLayerImpl(const BertConfig& c) : tanh_gelu_(c.hidden_act != "gelu") {
  // HF nests these as attention.self / attention.output / intermediate.dense / output.
  auto attention = register_module("attention", std::make_shared<torch::nn::Module>());
  self_ = attention->register_module("self", BertSelfAttention(c));
  attention_output_ =
      attention->register_module("output", BertResidualOutput(c.hidden_size, c.hidden_size, c));
  auto intermediate = register_module("intermediate", std::make_shared<torch::nn::Module>());
  intermediate_ =
      intermediate->register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
  output_ = register_module("output", BertResidualOutput(c.intermediate_size, c.hidden_size, c));
}

at::Tensor BertLayerImpl::forward(const at::Tensor& x, const at::Tensor& mask) {
  const at::Tensor a = attention_output_(self_(x, mask), x);                      // [B, L, H]
  const at::Tensor i = at::gelu(intermediate_(a), tanh_gelu_ ? "tanh" : "none");  // [B, L, I]
  return output_(i, a);
}

// --- model ----------------------------------------------------------------------------------

BertModelImpl::BertModelImpl(BertConfig config) : config_(std::move(config)) {
  config_.validate();
  const auto& c = config_;
  auto embeddings = register_module("embeddings", std::make_shared<torch::nn::Module>());
  word_ = embeddings->register_module(
      "word_embeddings",
      torch::nn::Embedding(
          torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)));
  position_ = embeddings->register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_ = embeddings->register_module("token_type_embeddings",
                                            torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  embed_norm_ = embeddings->register_module(
      "LayerNorm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  embed_dropout_ =
      embeddings->register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  auto list = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers_.emplace_back(c);
    list->push_back(layers_.back());
  }
  if (c.add_pooler) {
    auto pooler = register_module("pooler", std::make_shared<torch::nn::Module>());
    pooler_ = pooler->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  }
  // BERT's initialisation: N(0, 0.02) weights, zero biases, unit LayerNorms, a zero pad row.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& n = p.key();
    if (n.find("LayerNorm") != std::string::npos) {
      p.value().fill_(n.size() >= 6 && n.compare(n.size() - 6, 6, "weight") == 0 ? 1.0 : 0.0);
    } else if (n.size() >= 4 && n.compare(n.size() - 4, 4, "bias") == 0) {
      p.value().zero_();
    } else {
      p.value().normal_(0.0, 0.02);
    }
  }
  word_->weight[c.pad_token_id].zero_();
}

BertModelImpl::Output BertModelImpl::forward(const at::Tensor& ids,
                                             const at::Tensor& attention_mask,
                                             const at::Tensor& token_type_ids) {
  MUDIT_CHECK(ids.dim() == 2 && ids.size(1) > 0, ShapeError, "bert expects ids [B, L], got ",
              ids.sizes());
  const int64_t l = ids.size(1);
  MUDIT_CHECK(l <= config_.max_position_embeddings, ShapeError, "bert: ", l,
              " tokens exceed max_position_embeddings ", config_.max_position_embeddings);
  const at::Tensor positions = at::arange(l, ids.options().dtype(at::kLong));  // [L]
  const at::Tensor types = token_type_ids.defined() ? token_type_ids : at::zeros_like(ids);
  at::Tensor h = word_(ids) + position_(positions).unsqueeze(0) + token_type_(types);  // [B, L, H]
  h = embed_dropout_(embed_norm_(h));
  at::Tensor mask;  // [B, 1, 1, L], true where a key may be attended to
  if (attention_mask.defined()) {
    MUDIT_CHECK(attention_mask.sizes() == ids.sizes(), ShapeError,
                "bert: attention_mask must match ids ", ids.sizes(), ", got ",
                attention_mask.sizes());
    mask = attention_mask.to(ids.device()).ne(0).view({ids.size(0), 1, 1, l});
  }
  for (auto& layer : layers_) h = layer(h, mask);
  Output out;
  out.hidden = h;
  if (pooler_) out.pooled = at::tanh(pooler_(h.select(1, 0)));
  return out;
}

at::Tensor masked_mean(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  const at::Tensor m = attention_mask.to(hidden.dtype()).unsqueeze(-1);  // [B, L, 1]
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);                 // [B, H]
}

}  // namespace mudit
