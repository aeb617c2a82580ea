// The BERT text tower: Hugging Face names, masking, pooling, the text-tower file and
// `convert_hf_bert` on a synthetic Hugging Face folder (real weights: parity/minilm_parity_test).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "mudit/core/checkpoint.h"
#include "mudit/core/error.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/text_tower.h"
#include "test_util.h"

namespace mudit {
namespace {

std::vector<std::string> vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "rock", "pop", "slow", "fast", "歌"};
}

TEST(Bert, ParameterNamesAreHuggingFaces) {
  BertConfig c = BertConfig::tiny(10);
  BertModel m(c);
  const auto sd = state_dict(*m);
  for (const char* name :
       {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
        "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.attention.self.value.bias",
        "encoder.layer.0.attention.output.dense.weight",
        "encoder.layer.0.attention.output.LayerNorm.bias",
        "encoder.layer.1.intermediate.dense.weight", "encoder.layer.1.output.dense.weight",
        "encoder.layer.1.output.LayerNorm.weight", "pooler.dense.weight"}) {
    EXPECT_EQ(sd.count(name), 1u) << name;
  }
  EXPECT_EQ(sd.size(), 5u + 2 * 16 + 2);
  c.add_pooler = false;
  EXPECT_EQ(state_dict(*BertModel(c)).count("pooler.dense.weight"), 0u);
  // The pad row starts at zero, as Hugging Face initialises it.
  EXPECT_EQ(sd.at("embeddings.word_embeddings.weight")[0].abs().sum().item<double>(), 0.0);
  BertConfig bad = BertConfig::tiny(10);
  bad.num_attention_heads = 3;
  EXPECT_THROW(BertModel{bad}, ConfigError);
}

TEST(Bert, PaddingDoesNotChangeTheRealTokens) {
  torch::manual_seed(3);
  BertModel m(BertConfig::tiny(10));
  m->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::tensor({{2, 5, 6, 3}}, at::kLong);
  const at::Tensor padded = torch::tensor({{2, 5, 6, 3, 0, 0}}, at::kLong);
  const at::Tensor mask = torch::tensor({{1, 1, 1, 1, 0, 0}}, at::kLong);
  const auto a = m(ids);
  const auto b = m(padded, mask);
  EXPECT_TRUE(torch::allclose(a.hidden, b.hidden.slice(1, 0, 4), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(masked_mean(a.hidden, torch::ones({1, 4})),
                              masked_mean(b.hidden, mask), 1e-5, 1e-6));
  // Without the mask the padding is attended to, and the states differ.
  EXPECT_FALSE(torch::allclose(a.hidden, m(padded).hidden.slice(1, 0, 4), 1e-3, 1e-3));
  EXPECT_THROW(m(torch::zeros({1, 200}, at::kLong)), ShapeError);  // 128 positions
}

TEST(TextTower, FileRoundTripAndPooling) {
  test::TempDir dir;
  torch::manual_seed(5);
  TextTower t;
  t.config.bert = BertConfig::tiny(10);
  t.config.tokenizer.max_length = 16;
  t.tokenizer = text::WordPieceTokenizer(vocab(), t.config.tokenizer);
  t.bert = BertModel(t.config.bert);
  t.bert->eval();
  const std::vector<std::string> texts = {"rock 歌", "slow pop, fast", ""};
  const at::Tensor e = t.embed(texts, 2);
  ASSERT_EQ(e.sizes(), (c10::IntArrayRef{3, 128}));
  EXPECT_TRUE(torch::allclose(e.norm(2, 1), torch::ones({3}), 1e-5, 1e-6));
  // Batched and one at a time agree (padding is masked).
  EXPECT_TRUE(torch::allclose(e[1], t.embed({texts[1]})[0], 1e-5, 1e-6));
  save_text_tower(dir / "t.safetensors", t);
  TextTower back = load_text_tower(dir / "t.safetensors");
  EXPECT_EQ(back.tokenizer.vocab(), vocab());
  EXPECT_EQ(back.config.tokenizer.max_length, 16);
  EXPECT_TRUE(torch::equal(back.embed(texts, 2), e));
  back.config.pooling = "cls";
  back.config.normalize = false;
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::tensor({{2, 5, 9, 3}}, at::kLong);
  EXPECT_TRUE(torch::allclose(back.embed({"rock 歌"}), back.bert(ids).hidden.select(1, 0)));
  // A file of another arch is refused by name.
  EXPECT_NE(test::error_of([&] {
              ModelMeta meta;
              meta.arch = "hifigan";
              save_model(dir / "x.safetensors", *t.bert, meta);
              load_text_tower(dir / "x.safetensors");
            }).find("not a text tower"),
            std::string::npos);
}

// A Hugging Face folder: config.json, vocab.txt, model.safetensors with a `bert.` prefix and an
// MLM head, as BertForMaskedLM checkpoints (bert-base-chinese) ship.
void write_hf_folder(const test::TempDir& dir, const BertModel& m, int64_t vocab_in_config) {
  dir.write("hf/config.json", R"({"architectures": ["BertForMaskedLM"], "model_type": "bert",
    "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 512, "max_position_embeddings": 128, "type_vocab_size": 2,
    "vocab_size": )" + std::to_string(vocab_in_config) +
                                  R"(, "hidden_act": "gelu",
    "layer_norm_eps": 1e-12, "pad_token_id": 0, "directionality": "bidi"})");
  std::string v;
  for (const auto& t : vocab()) v += t + "\n";
  dir.write("hf/vocab.txt", v);
  dir.write("hf/tokenizer_config.json", R"({"do_lower_case": false, "model_max_length": 32})");
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [k, t] : state_dict(*m)) tensors["bert." + k] = t;
  tensors["cls.predictions.bias"] = torch::zeros({10});
  tensors["bert.embeddings.position_ids"] = torch::arange(128).unsqueeze(0);
  save_safetensors(dir / "hf/model.safetensors", tensors);
}

TEST(TextTower, ConvertHfBertFolder) {
  test::TempDir dir;
  torch::manual_seed(9);
  BertModel m(BertConfig::tiny(10));
  m->eval();
  write_hf_folder(dir, m, 10);
  const HfBertReport r = convert_hf_bert(dir / "hf", dir / "t.safetensors");
  EXPECT_EQ(r.dropped, 2);
  EXPECT_EQ(r.tensors, 39);
  TextTower t = load_text_tower(dir / "t.safetensors");
  EXPECT_EQ(t.config.pooling, "cls");  // no sentence-transformers pooling config
  EXPECT_FALSE(t.config.normalize);
  EXPECT_FALSE(t.config.tokenizer.lowercase);
  EXPECT_EQ(t.config.tokenizer.max_length, 32);
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::tensor({{2, 5, 9, 3}}, at::kLong);
  EXPECT_TRUE(torch::allclose(t.embed({"rock 歌"}), m(ids).hidden.select(1, 0)));
  // Pooling from the command line; the pooler exists, so "pooler" works.
  convert_hf_bert(dir / "hf", dir / "p.safetensors", "pooler");
  EXPECT_TRUE(
      torch::allclose(load_text_tower(dir / "p.safetensors").embed({"rock 歌"}), m(ids).pooled));
}

TEST(TextTower, ConvertHfBertRefusesBadFoldersAndWritesNothing) {
  test::TempDir dir;
  BertModel m(BertConfig::tiny(10));
  write_hf_folder(dir, m, 12);  // config says 12 tokens, vocab.txt has 10
  EXPECT_NE(test::error_of([&] {
              convert_hf_bert(dir / "hf", dir / "t.safetensors");
            }).find("vocab.txt has 10 tokens, config.json vocab_size 12"),
            std::string::npos);
  std::filesystem::remove(dir / "hf/vocab.txt");
  EXPECT_NE(test::error_of([&] {
              convert_hf_bert(dir / "hf", dir / "t.safetensors");
            }).find("no vocab.txt"),
            std::string::npos);
  write_hf_folder(dir, BertModel(BertConfig::tiny(10)), 10);
  save_safetensors(dir / "hf/model.safetensors",
                   {{"bert.pooler.dense.weight", torch::ones({128, 128})}});
  EXPECT_NE(
      test::error_of([&] { convert_hf_bert(dir / "hf", dir / "t.safetensors"); }).find("missing"),
      std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "t.safetensors"));
}

}  // namespace
}  // namespace mudit
