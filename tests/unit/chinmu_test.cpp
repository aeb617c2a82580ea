// ChinMu: retrieval and zero-shot metrics with known values, the InfoNCE loss, the audio tower's
// windows and the model's shapes (training on the synthetic corpus:
// integration/chinmu_train_test.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "mudit/core/error.h"
#include "mudit/eval/retrieval.h"
#include "mudit/eval/zero_shot.h"
#include "mudit/models/chinmu.h"

namespace mudit {
namespace {

TEST(Retrieval, KnownValues) {
  const at::Tensor sim = torch::tensor({{0.9, 0.1, 0.5}, {0.2, 0.3, 0.8}});
  const auto s = eval::retrieval_scores(sim, {{1}, {2}});
  EXPECT_EQ(s.queries, 2);
  EXPECT_DOUBLE_EQ(s.recall.at(1), 0.5);  // query 0 finds item 1 third
  EXPECT_DOUBLE_EQ(s.recall.at(5), 1.0);
  EXPECT_NEAR(s.map_at_10, (1.0 / 3 + 1.0) / 2, 1e-12);
  EXPECT_NEAR(s.chance_recall.at(1), 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(s.chance_recall.at(5), 1.0);
  // Two relevant items ranked 1st and 4th: AP = (1/1 + 2/4) / 2.
  const auto m = eval::retrieval_scores(torch::tensor({{0.9, 0.8, 0.1, 0.7}}), {{0, 2}});
  EXPECT_DOUBLE_EQ(m.map_at_10, 0.75);
  EXPECT_DOUBLE_EQ(m.chance_recall.at(1), 0.5);
  EXPECT_NEAR(m.chance_recall.at(5), 1.0, 1e-12);
  // Chance of R@10 among 100 items with one relevant: 10 %.
  const auto c = eval::retrieval_scores(torch::rand({3, 100}), {{0}, {1}, {2}});
  EXPECT_NEAR(c.chance_recall.at(10), 0.1, 1e-12);
  EXPECT_THROW(eval::retrieval_scores(sim, {{1}}), ShapeError);
  EXPECT_THROW(eval::retrieval_scores(sim, {{1}, {3}}), ShapeError);
  EXPECT_THROW(eval::retrieval_scores(sim, {{1}, {}}), ShapeError);
}

TEST(ZeroShot, KnownValues) {
  // Classes along x and y; songs 0, 1 are class 0 (one guessed wrong), songs 2, 3, 4 class 1,
  // song 5 unlabelled.
  const at::Tensor classes = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const at::Tensor audio = torch::tensor(
      {{0.9f, 0.1f}, {0.2f, 0.8f}, {0.1f, 0.9f}, {0.3f, 0.7f}, {0.4f, 0.6f}, {1.0f, 0.0f}});
  const auto s = eval::zero_shot_scores(audio, classes, {0, 0, 1, 1, 1, -1});
  EXPECT_EQ(s.songs, 5);
  EXPECT_EQ(s.class_counts, (std::vector<int64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(s.accuracy, 4.0 / 5);
  EXPECT_DOUBLE_EQ(s.balanced_accuracy, (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(s.chance, 0.5);
  // Only class 1 present: balanced accuracy over it alone, chance 1.
  const auto one = eval::zero_shot_scores(audio, classes, {-1, -1, 1, 1, -1, -1});
  EXPECT_DOUBLE_EQ(one.balanced_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(one.chance, 1.0);
  EXPECT_EQ(eval::zero_shot_scores(audio, classes, std::vector<int64_t>(6, -1)).songs, 0);
  EXPECT_THROW(eval::zero_shot_scores(audio, classes, {0, 0, 2, 1, 1, 1}), ShapeError);
  EXPECT_THROW(eval::zero_shot_scores(audio, classes, {0, 1}), ShapeError);
  EXPECT_THROW(eval::zero_shot_scores(audio, torch::ones({2, 3}), {0, 0, 1, 1, 1, 1}), ShapeError);
}

TEST(ZeroShot, SyntheticLabels) {
  using eval::synthetic_label;
  EXPECT_EQ(synthetic_label("mode", R"({"mode": "major"})"), 0);
  EXPECT_EQ(synthetic_label("mode", R"({"mode": "minor"})"), 1);
  EXPECT_EQ(synthetic_label("mode", R"({"mode": "gong"})"), -1);  // pentatonic: left out
  EXPECT_EQ(synthetic_label("tempo", R"({"bpm": 140, "meter": "4/4"})"), 0);
  EXPECT_EQ(synthetic_label("tempo", R"({"bpm": 120, "meter": "3/4"})"), 0);
  EXPECT_EQ(synthetic_label("tempo", R"({"bpm": 89.5, "meter": "4/4"})"), 1);
  EXPECT_EQ(synthetic_label("tempo", R"({"bpm": 100, "meter": "4/4"})"), -1);
  // 6/8 at 150 quarter-note BPM is felt at 100 dotted quarters: neither fast nor slow.
  EXPECT_EQ(synthetic_label("tempo", R"({"bpm": 150, "meter": "6/8"})"), -1);
  EXPECT_EQ(synthetic_label("tempo", R"({"bpm": 120, "meter": "6/8"})"), 1);
  EXPECT_EQ(synthetic_label("voice", R"({"voice": {"gender": "female", "source": "gcin"}})"), 0);
  EXPECT_EQ(synthetic_label("voice", R"({"voice": {"gender": "male", "source": "espeak"}})"), 1);
  EXPECT_EQ(synthetic_label("voice", R"({"voice": {"gender": "male", "source": "none"}})"), -1);
  EXPECT_EQ(synthetic_label("mode", "{}"), -1);
  EXPECT_EQ(synthetic_label("mode", "not json"), -1);
  EXPECT_EQ(synthetic_label("colour", R"({"mode": "major"})"), -1);
  for (const auto& a : eval::synthetic_attributes()) {
    for (const auto& [reg, prompts] : a.prompts) {
      EXPECT_EQ(prompts.size(), a.classes.size()) << a.name << " " << reg;
    }
  }
}

TEST(InfoNce, KnownValueAndSymmetry) {
  // Orthonormal pairs: logits = scale * I, loss = -log(e^s / (e^s + (B - 1))).
  const at::Tensor e = torch::eye(3);
  const at::Tensor scale = torch::tensor(10.0);
  const double want = -std::log(std::exp(10.0) / (std::exp(10.0) + 2.0));
  EXPECT_NEAR(info_nce(e, e, scale).item<double>(), want, 1e-6);
  torch::manual_seed(1);
  const at::Tensor t = torch::nn::functional::normalize(
      torch::randn({4, 8}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const at::Tensor a = torch::nn::functional::normalize(
      torch::randn({4, 8}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  EXPECT_NEAR(info_nce(t, a, scale).item<double>(), info_nce(a, t, scale).item<double>(), 1e-6);
  // Matching pairs score lower than shuffled ones.
  EXPECT_LT(info_nce(t, t, scale).item<double>(), info_nce(t, a, scale).item<double>());
  EXPECT_THROW(info_nce(t.slice(0, 0, 1), a.slice(0, 0, 1), scale), ShapeError);
}

ChinMuConfig tiny_with_vocab() {
  ChinMuConfig c = ChinMuConfig::tiny();
  c.vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "slow", "fast", "piano", "摇", "滚"};
  c.text.bert.vocab_size = 10;
  c.audio.window_seconds = 1.0;
  return c;
}

TEST(ChinMu, ShapesWindowsAndNames) {
  torch::manual_seed(2);
  ChinMu m(tiny_with_vocab());
  m->eval();
  torch::NoGradGuard no_grad;
  const int64_t w = m->config().audio.window_samples();
  EXPECT_EQ(w, 24000);
  const at::Tensor wav = torch::randn({2, w}) * 0.1;
  const at::Tensor a = m->encode_audio(wav);
  EXPECT_EQ(a.sizes(), (c10::IntArrayRef{2, 128}));
  EXPECT_TRUE(torch::allclose(a.norm(2, 1), torch::ones({2}), 1e-5, 1e-6));
  EXPECT_EQ(m->audio_sequence(wav).sizes(),
            (c10::IntArrayRef{2, m->config().audio.window_frames(), 128}));
  const at::Tensor t = m->embed_texts({"slow piano", "摇滚 fast", ""});
  EXPECT_EQ(t.sizes(), (c10::IntArrayRef{3, 128}));
  // A song is the normalised mean of its windows; a tail under half a window is dropped.
  const at::Tensor song = torch::randn({w * 2 + w / 4}) * 0.1;
  const at::Tensor windows = m->encode_audio(song.slice(0, 0, 2 * w).view({2, w}));
  const at::Tensor want = torch::nn::functional::normalize(
      windows.mean(0), torch::nn::functional::NormalizeFuncOptions().dim(0));
  EXPECT_TRUE(torch::allclose(m->embed_song(song), want, 1e-5, 1e-6));
  // A song shorter than one window is padded, not dropped.
  EXPECT_EQ(m->embed_song(song.slice(0, 0, w / 4)).sizes(), (c10::IntArrayRef{128}));
  EXPECT_THROW(m->encode_audio(torch::zeros({1, w + 1})), ShapeError);
  EXPECT_NEAR(1.0 / m->scale().item<double>(), 0.07, 1e-6);
  bool text_names = false, audio_names = false;
  for (const auto& p : m->named_parameters()) {
    text_names |= p.key() == "text.encoder.layer.1.attention.self.query.weight";
    audio_names |= p.key() == "audio.encoder.layer.1.output.dense.weight";
  }
  EXPECT_TRUE(text_names);
  EXPECT_TRUE(audio_names);
  ChinMuConfig bad = tiny_with_vocab();
  bad.text.bert.vocab_size = 11;
  EXPECT_THROW(ChinMu{bad}, ConfigError);
}

}  // namespace
}  // namespace mudit
