// The tiny ChinMu preset trains on a synthetic corpus: the contrastive loss of a fixed batch
// falls, every step drew distinct songs, and validation reports retrieval per register.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "integration/synth_corpus.h"
#include "mudit/core/config.h"
#include "mudit/core/state_dict.h"
#include "mudit/data/manifest.h"
#include "mudit/dist/comm.h"
#include "mudit/eval/zero_shot.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/model_files.h"
#include "mudit/train/trainer.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

const std::string kConfigs = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/chinmu/";

TEST(ChinMuTraining, TinyPresetLearnsAndValidates) {
  if (!test::have_soundfont()) GTEST_SKIP() << "no General MIDI soundfont installed";
  test::TempDir dir;
  test::make_corpus(dir.path() / "corpus", 16, 6, 5, 0.25);

  ConfigNode tree = load_config_file(kConfigs + "tiny.yaml");
  const std::string manifest = (dir.path() / "corpus" / "manifest.jsonl").string();
  for (const std::string& o :
       {"data.manifest='" + manifest + "'", std::string("data.valid_manifest=''"),
        "run_dir='" + (dir.path() / "run").string() + "'", std::string("train.steps=60"),
        std::string("train.batch_size=8"), std::string("train.log_every=20"),
        std::string("train.validate_every=0"), std::string("train.checkpoint_every=0"),
        std::string("train.schedule.warmup_steps=5"), std::string("train.schedule.total_steps=60"),
        std::string("train.optim.lr=1e-3")}) {
    apply_override(tree, o);
  }
  const auto run = bind_config<train::RunConfig>(tree);
  train::TaskContext ctx;
  ctx.seed = run.train.seed;
  ctx.batch_size = run.train.batch_size;
  ctx.model = run.model;
  ctx.data = run.data;
  auto task = train::make_task(run.task, ctx);
  const train::Batch fixed = task->batch(0, 0);
  EXPECT_EQ(fixed.at("audio").sizes(), (c10::IntArrayRef{8, 5 * 24000}));
  EXPECT_EQ(fixed.at("ids").size(0), 8);
  double before = 0;
  {
    torch::NoGradGuard no_grad;
    before = task->losses(fixed, 0, 0).at("loss").item<double>();
  }
  EXPECT_NEAR(before, std::log(8.0), 0.5);  // an untrained model is near chance
  auto comm = dist::init_comm(dist::DistEnv{}, dist::DistConfig{}, c10::Device(c10::kCPU));
  const train::TrainResult result = train::train(run, *task, comm);
  EXPECT_EQ(result.step, 60);
  EXPECT_EQ(result.skipped_steps, 0);
  double after = 0;
  {
    torch::NoGradGuard no_grad;
    after = task->losses(fixed, 0, 0).at("loss").item<double>();
  }
  std::cout << "  InfoNCE on a fixed batch of 8: " << before << " -> " << after << "\n";
  EXPECT_LT(after, before - 0.3);
  const auto m = task->validate(60);
  for (const char* k : {"t2a_r10_amateur", "t2a_map10_professional", "a2t_r1_amateur",
                        "chance_t2a_r10_professional"}) {
    ASSERT_TRUE(m.count(k)) << k;
    EXPECT_GE(m.at(k), 0.0);
    EXPECT_LE(m.at(k), 1.0);
  }
  // Zero-shot accuracy is reported for each attribute whose two classes both occur among the
  // validation songs, in both registers, and for no other.
  for (const auto& a : eval::synthetic_attributes()) {
    std::set<int64_t> seen;
    for (const auto& e : data::read_manifest(manifest)) {
      if (e.split == "valid") seen.insert(eval::synthetic_label(a.name, e.meta));
    }
    seen.erase(-1);
    for (const char* reg : {"amateur", "professional"}) {
      const std::string k = "zs_" + a.name + "_" + reg;
      ASSERT_EQ(m.count(k), seen.size() == 2 ? 1u : 0u) << k;
      if (m.count(k)) {
        std::cout << "  " << k << " " << m.at(k) << "\n";
        EXPECT_GE(m.at(k), 0.0);
        EXPECT_LE(m.at(k), 1.0);
      }
    }
  }
  // The run's model file loads as ChinMu (arch "chinmu", vocabulary inside) with the trained
  // weights.
  ChinMu saved = load_chinmu(resolve_model_file(dir.path() / "run"));
  const auto trained = state_dict(*task->modules().front().second);
  const auto loaded = state_dict(*saved);
  ASSERT_EQ(loaded.size(), trained.size());
  for (const auto& [k, t] : trained) EXPECT_TRUE(torch::equal(loaded.at(k), t)) << k;
  EXPECT_EQ(saved->tokenizer().size(), saved->config().text.bert.vocab_size);
}

}  // namespace
}  // namespace mudit
