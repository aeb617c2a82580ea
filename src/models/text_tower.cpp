#include "mudit/models/text_tower.h"

#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/tensor.h>
#include <torch/nn/functional/normalization.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/convert.h"

namespace mudit {
namespace fs = std::filesystem;

void TextTowerConfig::validate() const {
  bert.validate();
  tokenizer.validate();
  check_choice("pooling", pooling, {"mean", "cls", "pooler"});
  MUDIT_CHECK(pooling != "pooler" || bert.add_pooler, ConfigError,
              "pooling: pooler needs bert.add_pooler");
  MUDIT_CHECK(tokenizer.max_length <= bert.max_position_embeddings, ConfigError,
              "tokenizer.max_length (", tokenizer.max_length, ") exceeds the encoder's ",
              bert.max_position_embeddings, " positions");
}

at::Tensor pool_bert(const BertModelImpl::Output& out, const at::Tensor& mask,
                     const std::string& pooling) {
  if (pooling == "mean") return masked_mean(out.hidden, mask);  // [B, H]
  if (pooling == "cls") return out.hidden.select(1, 0);
  MUDIT_CHECK(out.pooled.defined(), ConfigError, "pooling '", pooling, "' needs the pooler");
  return out.pooled;
}

std::pair<at::Tensor, at::Tensor> batch_tensors(const text::EncodedBatch& b, c10::Device device) {
  const int64_t n = static_cast<int64_t>(b.ids.size());
  auto tensor = [&](const std::vector<int64_t>& v) {
    return at::tensor(v, at::kLong).view({n, b.length}).to(device);  // [B, L], a copy
  };
  return {tensor(b.flat_ids), tensor(b.flat_mask)};
}

at::Tensor TextTower::pool(const BertModelImpl::Output& out, const at::Tensor& mask) const {
  at::Tensor v = pool_bert(out, mask, config.pooling);  // [B, H]
  if (config.normalize) {
    v = torch::nn::functional::normalize(
        v, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
  }
  return v;
}

at::Tensor TextTower::embed(const std::vector<std::string>& texts, int64_t batch_size,
                            int64_t* truncated) {
  MUDIT_CHECK(batch_size > 0, ConfigError, "embed: batch size must be positive");
  torch::NoGradGuard no_grad;
  const c10::Device device = bert->parameters().front().device();
  std::vector<at::Tensor> parts;
  int64_t cut = 0;
  for (size_t begin = 0; begin < texts.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(texts.size(), begin + static_cast<size_t>(batch_size));
    const text::EncodedBatch b =
        tokenizer.encode_batch({texts.begin() + begin, texts.begin() + end});
    cut += b.truncated;
    const auto [ids, mask] = batch_tensors(b, device);
    parts.push_back(pool(bert(ids, mask), mask));
  }
  if (truncated) *truncated = cut;
  if (parts.empty()) return at::empty({0, config.bert.hidden_size}, at::TensorOptions(device));
  return at::cat(parts, 0);  // [B, H]
}

TextTower load_text_tower(const fs::path& file, c10::Device device) {
  return with_context("text tower " + file.string(), [&] {
    const ModelMeta meta = read_model_meta(file);
    MUDIT_CHECK(meta.arch == "bert", CheckpointError, file.string(), ": holds a '", meta.arch,
                "' model, not a text tower ('bert')");
    TextTower t;
    t.config = bind_config<TextTowerConfig>(parse_config_text(meta.config, file.string()));
    const auto vocab = meta.extra.find("mudit.vocab");
    MUDIT_CHECK(vocab != meta.extra.end(), CheckpointError, file.string(),
                ": no vocabulary (mudit.vocab)");
    std::vector<std::string> tokens;
    std::istringstream in(vocab->second);
    for (std::string line; std::getline(in, line);) tokens.push_back(line);
    t.tokenizer = text::WordPieceTokenizer(std::move(tokens), t.config.tokenizer);
    MUDIT_CHECK(t.tokenizer.size() == t.config.bert.vocab_size, CheckpointError, file.string(),
                ": ", t.tokenizer.size(), " vocabulary entries for an encoder of ",
                t.config.bert.vocab_size);
    t.bert = BertModel(t.config.bert);
    load_model(file, *t.bert, "bert", 1);
    t.bert->to(device);
    t.bert->eval();
    return t;
  });
}

void save_text_tower(const fs::path& file, const TextTower& tower, int64_t step) {
  tower.config.validate();
  ModelMeta meta;
  meta.arch = "bert";
  meta.config = dump_config(tower.config);
  meta.step = step;
  std::string vocab;
  for (const std::string& t : tower.tokenizer.vocab()) vocab += t + "\n";
  meta.extra["mudit.vocab"] = std::move(vocab);
  save_model(file, *tower.bert, std::move(meta));
}

// --- Hugging Face folders -------------------------------------------------------------------

namespace {

nlohmann::json read_json(const fs::path& file) {
  try {
    return nlohmann::json::parse(read_file(file));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
}

template <class T>
void take(const nlohmann::json& j, const char* key, T& out) {
  if (j.contains(key) && !j[key].is_null()) out = j[key].get<T>();
}

BertConfig bert_config_from_json(const fs::path& file) {
  const nlohmann::json j = read_json(file);
  BertConfig c;
  try {
    take(j, "vocab_size", c.vocab_size);
    take(j, "hidden_size", c.hidden_size);
    take(j, "num_hidden_layers", c.num_hidden_layers);
    take(j, "num_attention_heads", c.num_attention_heads);
    take(j, "intermediate_size", c.intermediate_size);
    take(j, "max_position_embeddings", c.max_position_embeddings);
    take(j, "type_vocab_size", c.type_vocab_size);
    take(j, "layer_norm_eps", c.layer_norm_eps);
    take(j, "hidden_dropout_prob", c.hidden_dropout_prob);
    take(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
    take(j, "hidden_act", c.hidden_act);
    take(j, "pad_token_id", c.pad_token_id);
    std::string position = "absolute";
    take(j, "position_embedding_type", position);
    MUDIT_CHECK(position == "absolute", ConfigError, file.string(), ": position_embedding_type '",
                position, "' is not supported (only absolute)");
    std::string type = "bert";
    take(j, "model_type", type);
    MUDIT_CHECK(type == "bert" || type == "roberta" || type == "xlm-roberta", ConfigError,
                file.string(), ": model_type '", type, "' is not a BERT-family encoder");
    MUDIT_CHECK(type == "bert", ConfigError, file.string(), ": model_type '", type,
                "' offsets its positions by the pad id; convert a 'bert' model_type checkpoint "
                "(Chinese RoBERTa-wwm and BGE ship as 'bert')");
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file.string() + ": " + e.what());
  }
  c.validate();
  return c;
}

}  // namespace

HfBertReport convert_hf_bert(const fs::path& dir, const fs::path& out, const std::string& pooling) {
  return with_context("convert hf-bert " + dir.string(), [&] {
    MUDIT_CHECK(fs::is_directory(dir), IoError, dir.string(), " is not a folder");
    MUDIT_CHECK(fs::exists(dir / "config.json"), IoError, "no config.json in ", dir.string());
    MUDIT_CHECK(fs::exists(dir / "vocab.txt"), IoError, "no vocab.txt in ", dir.string());
    TextTower t;
    t.config.bert = bert_config_from_json(dir / "config.json");
    text::TokenizerConfig& tc = t.config.tokenizer;
    tc.max_length = t.config.bert.max_position_embeddings;
    if (fs::exists(dir / "tokenizer_config.json")) {
      const nlohmann::json j = read_json(dir / "tokenizer_config.json");
      take(j, "do_lower_case", tc.lowercase);
      if (j.contains("strip_accents") && j["strip_accents"].is_boolean())
        tc.strip_accents = j["strip_accents"].get<bool>() ? 1 : 0;
      take(j, "tokenize_chinese_chars", tc.split_cjk);
      if (j.contains("model_max_length") && j["model_max_length"].is_number_integer())
        tc.max_length = std::min(tc.max_length, j["model_max_length"].get<int64_t>());
      for (auto [key, field] : {std::pair{"unk_token", &tc.unk_token},
                                {"cls_token", &tc.cls_token},
                                {"sep_token", &tc.sep_token},
                                {"pad_token", &tc.pad_token},
                                {"mask_token", &tc.mask_token}}) {
        if (j.contains(key) && j[key].is_string()) *field = j[key].get<std::string>();
      }
    }
    if (fs::exists(dir / "sentence_bert_config.json")) {
      const nlohmann::json j = read_json(dir / "sentence_bert_config.json");
      if (j.contains("max_seq_length") && j["max_seq_length"].is_number_integer())
        tc.max_length = j["max_seq_length"].get<int64_t>();
    }
    t.config.pooling = "cls";
    t.config.normalize = false;
    if (fs::exists(dir / "1_Pooling" / "config.json")) {
      const nlohmann::json j = read_json(dir / "1_Pooling" / "config.json");
      bool mean = false, cls = false;
      take(j, "pooling_mode_mean_tokens", mean);
      take(j, "pooling_mode_cls_token", cls);
      MUDIT_CHECK(mean != cls, ConfigError, dir.string(),
                  "/1_Pooling/config.json: mudit pools by mean or by [CLS], one of them");
      t.config.pooling = mean ? "mean" : "cls";
      // sentence-transformers normalises when modules.json lists a Normalize module.
      t.config.normalize = fs::exists(dir / "modules.json") &&
                           read_file(dir / "modules.json").find("Normalize") != std::string::npos;
    }
    if (!pooling.empty()) t.config.pooling = pooling;

    HfBertReport report;
    const fs::path weights = fs::exists(dir / "model.safetensors") ? dir / "model.safetensors"
                                                                   : dir / "pytorch_model.bin";
    MUDIT_CHECK(fs::exists(weights), IoError, "no model.safetensors or pytorch_model.bin in ",
                dir.string());
    report.weights = weights.string();
    std::map<std::string, at::Tensor> tensors;
    for (auto& [name, tensor] : read_foreign_checkpoint(weights)) {
      std::string n = name.rfind("bert.", 0) == 0 ? name.substr(5) : name;
      if (is_hf_bert_extra(n)) {
        ++report.dropped;
        continue;
      }
      tensors.emplace(std::move(n), tensor);
    }
    t.config.bert.add_pooler = tensors.count("pooler.dense.weight") > 0;
    if (t.config.pooling == "pooler" && !t.config.bert.add_pooler)
      throw ConfigError("pooling 'pooler': the checkpoint has no pooler.dense");
    t.tokenizer = text::WordPieceTokenizer::from_file(dir / "vocab.txt", tc);
    MUDIT_CHECK(t.tokenizer.size() == t.config.bert.vocab_size, DataError, dir.string(),
                ": vocab.txt has ", t.tokenizer.size(), " tokens, config.json vocab_size ",
                t.config.bert.vocab_size);
    t.bert = BertModel(t.config.bert);
    LoadOptions strict;
    strict.convert_dtype = true;  // fp16 / bf16 releases load into the float32 encoder
    load_state_dict(*t.bert, tensors, strict);
    report.tensors = static_cast<int64_t>(tensors.size());
    report.parameters = count_parameters(*t.bert);
    save_text_tower(out, t);
    report.tokens = t.tokenizer.size();
    report.config = t.config;
    return report;
  });
}

}  // namespace mudit
