#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include "mudit/core/checkpoint.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

using test::error_of;

ModelMeta linear_meta(int64_t step) {
  ModelMeta m;
  m.arch = "test_linear";
  m.config = "in: 3\nout: 2\n";
  m.step = step;
  return m;
}

TEST(ModelFile, MetadataRoundTrip) {
  test::TempDir dir;
  torch::nn::Linear lin(3, 2);
  ModelMeta meta = linear_meta(42);
  meta.extra["note"] = "hello";
  save_model(dir / "m.safetensors", *lin, meta);
  const ModelMeta back = read_model_meta(dir / "m.safetensors");
  EXPECT_EQ(back.format, kModelFormat);
  EXPECT_EQ(back.arch, "test_linear");
  EXPECT_EQ(back.arch_rev, 1);
  EXPECT_EQ(back.step, 42);
  EXPECT_EQ(back.config, "in: 3\nout: 2\n");
  EXPECT_EQ(back.extra.at("note"), "hello");
  EXPECT_FALSE(back.mudit_version.empty());
  EXPECT_FALSE(back.torch_version.empty());

  torch::nn::Linear other(3, 2);
  load_model(dir / "m.safetensors", *other, "test_linear", 1);
  EXPECT_TRUE(torch::equal(other->weight, lin->weight));
}

TEST(ModelFile, RefusesNewerFormatsWrongArchAndForeignFiles) {
  test::TempDir dir;
  torch::nn::Linear lin(3, 2);
  auto meta = linear_meta(1).to_metadata();
  meta["mudit.format"] = std::to_string(kModelFormat + 1);
  save_module(dir / "future.safetensors", *lin, meta);
  EXPECT_THAT(error_of([&] { read_model_meta(dir / "future.safetensors"); }),
              HasSubstr("written by a newer mudit (model format 2; this build reads up to 1): "
                        "upgrade mudit"));

  save_model(dir / "m.safetensors", *lin, linear_meta(1));
  EXPECT_THAT(error_of([&] { load_model(dir / "m.safetensors", *lin, "hifigan", 1); }),
              HasSubstr("holds a 'test_linear' model, not 'hifigan'"));
  EXPECT_THAT(error_of([&] { load_model(dir / "m.safetensors", *lin, "test_linear", 2); }),
              HasSubstr("layout revision 1 but this build uses revision 2"));

  save_module(dir / "plain.safetensors", *lin);
  EXPECT_THAT(error_of([&] { read_model_meta(dir / "plain.safetensors"); }),
              HasSubstr("not a mudit model file"));
}

// Files of every past format stay readable (tests/data/formats/v<N>/).
TEST(ModelFile, ReadsFormatV1) {
  const fs::path path = fs::path(MUDIT_TEST_DATA_DIR) / "formats/v1/test_linear.safetensors";
  const ModelMeta meta = read_model_meta(path);
  EXPECT_EQ(meta.format, 1);
  EXPECT_EQ(meta.step, 7);
  torch::nn::Linear lin(3, 2);
  load_model(path, *lin, "test_linear", 1);
  EXPECT_TRUE(torch::allclose(lin->weight, torch::arange(6, torch::kFloat).reshape({2, 3}) / 10));
  EXPECT_TRUE(torch::allclose(lin->bias, torch::tensor({-1.0f, 1.0f})));
}

template <class Optim, class Options>
void check_optimizer_round_trip(Options options) {
  torch::manual_seed(0);
  torch::nn::Linear a(4, 3), b(4, 3);
  Optim opt_a(a->parameters(), options);
  auto step = [](torch::nn::Linear& m, torch::optim::Optimizer& o, int64_t i) {
    o.zero_grad();
    const auto x = torch::ones({2, 4}) * static_cast<double>(i + 1);
    m->forward(x).pow(2).sum().backward();
    o.step();
  };
  for (int i = 0; i < 3; ++i) step(a, opt_a, i);
  auto named = [](torch::nn::Linear& m) {
    std::map<std::string, at::Tensor> out;
    for (const auto& p : m->named_parameters()) out[p.key()] = p.value();
    return out;
  };
  const auto saved = optimizer_state_dict(opt_a, named(a));
  EXPECT_EQ(saved.at("weight.step").template item<int64_t>(), 3);
  test::TempDir dir;
  save_safetensors(dir / "opt.safetensors", saved);

  {
    torch::NoGradGuard no_grad;
    b->weight.copy_(a->weight);
    b->bias.copy_(a->bias);
  }
  Optim opt_b(b->parameters(), options);
  load_optimizer_state(opt_b, named(b), load_safetensors(dir / "opt.safetensors").tensors);
  step(a, opt_a, 3);
  step(b, opt_b, 3);
  EXPECT_TRUE(torch::equal(a->weight, b->weight));
  EXPECT_TRUE(torch::equal(a->bias, b->bias));
}

TEST(OptimizerState, AdamResumesExactly) {
  check_optimizer_round_trip<torch::optim::Adam>(torch::optim::AdamOptions(1e-2));
}

TEST(OptimizerState, AdamWWithAmsgradResumesExactly) {
  check_optimizer_round_trip<torch::optim::AdamW>(
      torch::optim::AdamWOptions(1e-2).weight_decay(0.1).amsgrad(true));
}

TEST(OptimizerState, ForeignKeysAreRefused) {
  torch::nn::Linear lin(2, 2);
  torch::optim::Adam opt(lin->parameters(), torch::optim::AdamOptions(1e-3));
  std::map<std::string, at::Tensor> named;
  for (const auto& p : lin->named_parameters()) named[p.key()] = p.value();
  auto state = optimizer_state_dict(opt, named);
  state["ghost.step"] = torch::tensor(1);
  EXPECT_THAT(error_of([&] { load_optimizer_state(opt, named, state); }),
              HasSubstr("'ghost.step', which matches no parameter"));
}

void write_marker(const fs::path& dir, int64_t step) {
  write_file_atomic(dir / "trainer.json", "{\"step\": " + std::to_string(step) + "}\n");
}

TEST(CheckpointManager, PublishesPrunesAndResolves) {
  test::TempDir dir;
  CheckpointManager mgr(dir / "checkpoints", CheckpointConfig{/*keep_last=*/2, /*keep_every=*/2});
  EXPECT_FALSE(mgr.latest().has_value());
  EXPECT_THAT(error_of([&] { mgr.resolve(); }), HasSubstr("no checkpoint to resume from"));
  for (int64_t s = 1; s <= 5; ++s) mgr.save(s, [&](const fs::path& d) { write_marker(d, s); });
  EXPECT_EQ(mgr.steps(), (std::vector<int64_t>{2, 4, 5}));  // last two, plus every second
  EXPECT_EQ(mgr.latest(), 5);
  EXPECT_EQ(read_file(dir / "checkpoints" / "latest"), "step-5\n");
  EXPECT_EQ(read_file(mgr.resolve() / "trainer.json"), "{\"step\": 5}\n");
  EXPECT_EQ(mgr.resolve(2), dir / "checkpoints" / "step-2");
  EXPECT_THAT(error_of([&] { mgr.resolve(3); }),
              HasSubstr("no checkpoint step-3 in " + (dir / "checkpoints").string() +
                        " (steps present: 2, 4, 5)"));
}

TEST(CheckpointManager, FailedWriteChangesNothing) {
  test::TempDir dir;
  CheckpointManager mgr(dir / "ck");
  mgr.save(1, [](const fs::path& d) { write_marker(d, 1); });
  EXPECT_THROW(mgr.save(2,
                        [](const fs::path& d) {
                          write_marker(d, 2);
                          MUDIT_THROW(IoError, "disk full");
                        }),
               IoError);
  EXPECT_EQ(mgr.steps(), std::vector<int64_t>{1});
  EXPECT_EQ(mgr.latest(), 1);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir / "ck")) entries += e.exists() ? 1 : 0;
  EXPECT_EQ(entries, 2u);  // step-1 and latest: no temporary left
}

TEST(CheckpointManager, ResavingAStepReplacesIt) {
  test::TempDir dir;
  CheckpointManager mgr(dir / "ck");
  mgr.save(3, [](const fs::path& d) { write_marker(d, 3); });
  mgr.save(3, [](const fs::path& d) { write_file_atomic(d / "trainer.json", "second\n"); });
  EXPECT_EQ(read_file(mgr.resolve(3) / "trainer.json"), "second\n");
  EXPECT_EQ(mgr.steps(), std::vector<int64_t>{3});
}

TEST(CheckpointManager, StaleLatestFallsBackToTheNewestFolder) {
  test::TempDir dir;
  CheckpointManager mgr(dir / "ck", CheckpointConfig{0, 0});
  mgr.save(1, [](const fs::path& d) { write_marker(d, 1); });
  mgr.save(2, [](const fs::path& d) { write_marker(d, 2); });
  fs::remove_all(dir / "ck" / "step-2");
  EXPECT_EQ(mgr.latest(), 1);
  write_file_atomic(dir / "ck" / "latest", "garbage");
  EXPECT_EQ(mgr.latest(), 1);
}

TEST(CheckpointManager, RemovesPartialFolders) {
  test::TempDir dir;
  CheckpointManager mgr(dir / "ck");
  fs::create_directories(dir / "ck" / ".partial-step-9-123-0");
  dir.write("ck/.partial-step-9-123-0/model.safetensors", "half");
  EXPECT_EQ(mgr.remove_partial(), 1u);
  EXPECT_TRUE(mgr.steps().empty());
}

TEST(CheckpointConfig, Validates) {
  EXPECT_THROW(CheckpointManager(fs::path("/tmp/x"), CheckpointConfig{-1, 0}), ConfigError);
}

}  // namespace
}  // namespace mudit
