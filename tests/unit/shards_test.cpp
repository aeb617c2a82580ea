// Shards (write, read, Python interop, corrupt files) and the loader (order, crops, masks,
// resume, workers).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "mudit/core/safetensors.h"
#include "mudit/data/loader.h"
#include "mudit/data/shards.h"
#include "unit/test_util.h"

namespace mudit::data {
namespace {
namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;

// Item i: latents [10 + i % 7, 4] F32 = i, mel [4 * that, 2] F32 = row index / 4,
// phonemes [3 + i % 5] I64, chinmu [8] F32.
Item make_item(int i) {
  const int64_t t = 10 + i % 7;
  return {
      {"latents", torch::full({t, 4}, static_cast<float>(i))},
      {"mel", torch::arange(4 * t).to(torch::kFloat).div(4).floor().unsqueeze(1).repeat({1, 2})},
      {"phonemes", torch::arange(3 + i % 5, torch::kLong) + i},
      {"chinmu", torch::full({8}, static_cast<float>(-i))}};
}

ShardIndex write_set(const fs::path& dir, int n, uint64_t max_bytes = 1 << 12) {
  ShardWriterOptions opts;
  opts.max_shard_bytes = max_bytes;
  ShardWriter w(dir, opts);
  for (int i = 0; i < n; ++i) w.add("item" + std::to_string(i), make_item(i));
  return w.finish();
}

TEST(Shards, RoundTripAcrossSeveralShards) {
  TempDir d;
  const ShardIndex index = write_set(d.path(), 40);
  EXPECT_GT(index.shards.size(), 2u);
  EXPECT_EQ(index.items(), 40);
  ASSERT_NE(index.field("latents"), nullptr);
  EXPECT_EQ(index.field("latents")->shape, std::vector<int64_t>{4});
  EXPECT_EQ(index.field("phonemes")->dtype, torch::kLong);
  ShardDataset ds(d.path());
  ds.validate();
  ASSERT_EQ(ds.size(), 40);
  for (int i = 0; i < 40; ++i) {
    const Item got = ds.get(i);
    const Item want = make_item(i);
    EXPECT_EQ(ds.id(i), "item" + std::to_string(i));
    for (const auto& [name, t] : want) EXPECT_TRUE(torch::equal(got.at(name), t)) << name << i;
    EXPECT_EQ(ds.length(i, "latents"), 10 + i % 7);
  }
  EXPECT_EQ(ShardIndex::from_json(index.to_json(), "x").items(), 40);
}

TEST(Shards, WriterRejectsInconsistentItemsAndCleansUp) {
  TempDir d;
  {
    ShardWriterOptions opts;
    opts.max_shard_bytes = 64;
    ShardWriter w(d.path(), opts);
    w.add("a", make_item(0));
    w.add("b", make_item(1));
    Item bad = make_item(2);
    bad["latents"] = torch::zeros({5, 3});
    EXPECT_NE(error_of([&] { w.add("c", bad); }).find("item 'c': field 'latents' has shape [5, 3]"),
              std::string::npos);
    bad = make_item(2);
    bad["phonemes"] = bad["phonemes"].to(torch::kInt);
    EXPECT_NE(error_of([&] { w.add("c", bad); }).find("is I32, earlier items are I64"),
              std::string::npos);
    bad = make_item(2);
    bad.erase("mel");
    EXPECT_NE(error_of([&] { w.add("c", bad); }).find("has 3 fields"), std::string::npos);
    EXPECT_TRUE(fs::exists(d / "shard-00000.safetensors"));
  }  // no finish(): the written shards go away, no index appears
  EXPECT_FALSE(fs::exists(d / "shard-00000.safetensors"));
  EXPECT_FALSE(fs::exists(d / "index.json"));
}

// Rewrites one tensor of a shard file in place.
void patch_shard(const fs::path& file, const std::string& name, const torch::Tensor& value) {
  TensorFile f = load_safetensors(file);
  f.tensors[name] = value;
  save_safetensors(file, f.tensors, f.metadata);
}

TEST(Shards, CorruptShardsNameTheFileAndTheOffset) {
  TempDir d;
  write_set(d.path(), 12, 1 << 20);  // one shard
  const fs::path shard = d / "shard-00000.safetensors";
  const std::string good = test::read_file(shard);
  auto reopen_error = [&] { return error_of([&] { ShardDataset(d.path()).get(0); }); };

  // Truncated file.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() / 2);
  std::string e = reopen_error();
  EXPECT_NE(e.find("shard-00000.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("outside the data section"), std::string::npos) << e;

  // Non-monotone offsets.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good;
  auto off = load_safetensors(shard).tensors.at("latents.offsets").clone();
  auto o = off.accessor<int64_t, 1>();
  std::swap(o[3], o[4]);
  patch_shard(shard, "latents.offsets", off);
  e = reopen_error();
  EXPECT_NE(e.find("shard '" + shard.string() + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("'latents.offsets'[4] = "), std::string::npos) << e;
  EXPECT_NE(e.find("offsets must not decrease"), std::string::npos) << e;

  // Offsets beyond the data.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good;
  off = load_safetensors(shard).tensors.at("phonemes.offsets").clone();
  off[5] = 100000;
  patch_shard(shard, "phonemes.offsets", off);
  e = reopen_error();
  EXPECT_NE(e.find("'phonemes.offsets'[5] = 100000 is beyond the"), std::string::npos) << e;

  // Offsets that stop short of the data, and a wrong offsets length.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good;
  off = load_safetensors(shard).tensors.at("chinmu.offsets").clone();
  off[12] = 90;
  patch_shard(shard, "chinmu.offsets", off);
  EXPECT_NE(reopen_error().find("'chinmu.offsets'[12] = 90 but 'chinmu' has 96 rows"),
            std::string::npos);
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good;
  patch_shard(shard, "chinmu.offsets", torch::zeros({5}, torch::kLong));
  EXPECT_NE(reopen_error().find("must be I64 [13] for 12 items"), std::string::npos);

  // A dtype that disagrees with the index.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good;
  patch_shard(shard, "chinmu", torch::zeros({96}, torch::kDouble));
  EXPECT_NE(reopen_error().find("field 'chinmu' is F64, the index says F32"), std::string::npos);

  // Missing shard and malformed index.
  fs::remove(shard);
  EXPECT_NE(reopen_error().find("shard-00000.safetensors"), std::string::npos);
  d.write("index.json", "{\"format\": 1}");
  EXPECT_NE(error_of([&] { ShardDataset ds(d.path()); }).find("malformed shard index"),
            std::string::npos);
  d.write("index.json", R"({"format": 9, "fields": [], "shards": []})");
  EXPECT_NE(error_of([&] { ShardDataset ds(d.path()); }).find("update mudit"), std::string::npos);
}

TEST(Shards, PythonReadsShards) {
  const std::string python = MUDIT_TEST_PYTHON;
  if (python.empty()) GTEST_SKIP() << "no test Python";
  TempDir d;
  write_set(d.path(), 20);
  const auto script = d.write("check.py", R"(
import json, sys
try:
    from safetensors.numpy import load_file
except ImportError:
    sys.exit(77)
root = sys.argv[1]
index = json.load(open(root + "/index.json"))
i = 0
for shard in index["shards"]:
    f = load_file(root + "/" + shard["file"])
    for k in range(shard["items"]):
        o = f["latents.offsets"]
        lat = f["latents"][o[k]:o[k + 1]]
        assert lat.shape == (10 + i % 7, 4), lat.shape
        assert (lat == i).all()
        p = f["phonemes.offsets"]
        assert list(f["phonemes"][p[k]:p[k + 1]]) == [i + j for j in range(3 + i % 5)]
        assert shard["ids"][k] == "item%d" % i
        i += 1
assert i == index["items"] == 20
)");
  const int status = std::system(
      ("'" + python + "' '" + script.string() + "' '" + d.path().string() + "'").c_str());
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (rc == 77) GTEST_SKIP() << "Python lacks safetensors";
  EXPECT_EQ(rc, 0);
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_set(dir_.path(), 23);
    dataset_ = std::make_shared<const ShardDataset>(dir_.path());
  }
  TempDir dir_;
  std::shared_ptr<const ShardDataset> dataset_;
};

std::vector<int64_t> epoch_ids(Loader& loader) {
  std::vector<int64_t> items;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    const Batch batch = loader.next();
    items.insert(items.end(), batch.items.begin(), batch.items.end());
  }
  return items;
}

TEST_F(LoaderTest, RanksAreDisjointAndCoverTheEpoch) {
  LoaderConfig cfg;
  cfg.batch_size = 4;
  cfg.workers = 0;
  std::set<int64_t> seen;
  int64_t total = 0;
  for (int rank = 0; rank < 3; ++rank) {
    Loader loader(dataset_, cfg, rank, 3);
    EXPECT_EQ(loader.items_per_rank(), 7);  // 23 / 3, remainder dropped
    EXPECT_EQ(loader.batches_per_epoch(), 2);
    const auto items = epoch_ids(loader);
    total += static_cast<int64_t>(items.size());
    seen.insert(items.begin(), items.end());
  }
  EXPECT_EQ(total, 21);
  EXPECT_EQ(seen.size(), 21u);  // disjoint

  cfg.remainder = "wrap";
  seen.clear();
  for (int rank = 0; rank < 3; ++rank) {
    Loader loader(dataset_, cfg, rank, 3);
    EXPECT_EQ(loader.items_per_rank(), 8);
    const auto items = epoch_ids(loader);
    seen.insert(items.begin(), items.end());
  }
  EXPECT_EQ(seen.size(), 23u);  // every item; one wraps around

  // A new epoch is a new permutation; the same (seed, epoch) the same one.
  Loader a(dataset_, cfg, 0, 1);
  EXPECT_NE(a.epoch_items(0), a.epoch_items(1));
  Loader b(dataset_, cfg, 0, 1);
  EXPECT_EQ(a.epoch_items(1), b.epoch_items(1));
  cfg.seed = 5;
  Loader c(dataset_, cfg, 0, 1);
  EXPECT_NE(a.epoch_items(0), c.epoch_items(0));
}

TEST_F(LoaderTest, CropsPadsAndMasks) {
  LoaderConfig cfg;
  cfg.batch_size = 5;
  cfg.workers = 0;
  cfg.max_frames = 12;
  cfg.crop_field = "latents";
  cfg.aligned_fields = {"mel"};
  Loader loader(dataset_, cfg);
  bool cropped = false;
  for (int b = 0; b < 4; ++b) {
    const Batch batch = loader.next();
    const int64_t n = static_cast<int64_t>(batch.items.size());
    const auto& lat = batch.tensors.at("latents");  // [B, T, 4]
    const auto& mel = batch.tensors.at("mel");      // [B, 4T, 2]
    ASSERT_EQ(lat.size(0), n);
    EXPECT_LE(lat.size(1), 12);
    EXPECT_EQ(mel.size(1), 4 * lat.size(1));
    EXPECT_EQ(batch.tensors.at("chinmu").sizes(), (torch::IntArrayRef{n, 8}));
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = batch.items[k];
      const int64_t full = 10 + i % 7;
      const int64_t len = batch.lengths.at("latents")[k].item<int64_t>();
      EXPECT_EQ(len, std::min<int64_t>(full, 12));
      EXPECT_EQ(batch.masks.at("latents")[k].sum().item<int64_t>(), len);
      EXPECT_TRUE(batch.masks.at("latents")[k].slice(0, 0, len).all().item<bool>());
      EXPECT_TRUE(lat[k].slice(0, 0, len).eq(static_cast<float>(i)).all().item<bool>());
      EXPECT_TRUE(lat[k].slice(0, len).eq(0).all().item<bool>());  // zero padding
      EXPECT_EQ(batch.lengths.at("mel")[k].item<int64_t>(), 4 * len);
      // mel row r of the item holds floor(r / 4): the crop start in latent frames.
      const int64_t start = mel[k][0][0].item<int64_t>();
      EXPECT_TRUE(mel[k]
                      .slice(0, 0, 4 * len)
                      .select(1, 0)
                      .eq(torch::arange(4 * len).div(4).floor().add(start).to(torch::kFloat))
                      .all()
                      .item<bool>());
      EXPECT_LE(start + len, full);
      if (full > 12) cropped = true;
      EXPECT_EQ(batch.lengths.at("phonemes")[k].item<int64_t>(), 3 + i % 5);  // never cropped
    }
  }
  EXPECT_TRUE(cropped);
}

void expect_same(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.items, b.items);
  for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;
}

TEST_F(LoaderTest, WorkerCountDoesNotChangeBatchesAndResumeContinuesExactly) {
  LoaderConfig cfg;
  cfg.batch_size = 3;
  cfg.max_frames = 11;
  cfg.seed = 9;
  cfg.workers = 0;
  Loader sync(dataset_, cfg);
  std::vector<Batch> want;
  for (int i = 0; i < 20; ++i) want.push_back(sync.next());  // crosses into epoch 2
  EXPECT_EQ(want.back().epoch, 2);

  for (int workers : {1, 3}) {
    cfg.workers = workers;
    cfg.prefetch = 2;
    Loader loader(dataset_, cfg);
    for (int i = 0; i < 7; ++i) expect_same(loader.next(), want[i]);
    const std::string saved = loader.state().to_json();
    EXPECT_EQ(saved, R"({"epoch":0,"position":7})");
    for (int i = 7; i < 12; ++i) expect_same(loader.next(), want[i]);
    // A fresh loader started at the saved state, and the same loader rewound.
    Loader resumed(dataset_, cfg, 0, 1, LoaderState::from_json(saved));
    for (int i = 7; i < 20; ++i) expect_same(resumed.next(), want[i]);
    loader.restore(LoaderState::from_json(saved));
    for (int i = 7; i < 20; ++i) expect_same(loader.next(), want[i]);
  }
  EXPECT_NE(error_of([] { LoaderState::from_json("{\"epoch\": 1}"); }).find("loader state"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              sync.restore({0, 99});
            }).find("cannot resume at batch 99"),
            std::string::npos);
}

TEST_F(LoaderTest, WorkerErrorsSurfaceInNextWithTheShardName) {
  // Break the second shard's offsets after the dataset was opened lazily.
  const fs::path shard = dataset_->shard_path(1);
  TensorFile f = load_safetensors(shard);
  f.tensors["latents.offsets"] = f.tensors["latents.offsets"].flip(0).contiguous();
  save_safetensors(shard, f.tensors, f.metadata);
  LoaderConfig cfg;
  cfg.batch_size = 23;
  cfg.workers = 2;
  Loader loader(dataset_, cfg);
  const std::string e = error_of([&] { loader.next(); });
  EXPECT_NE(e.find("loader: batch 0 of epoch 0"), std::string::npos) << e;
  EXPECT_NE(e.find(shard.string()), std::string::npos) << e;
  EXPECT_EQ(error_of([&] { loader.next(); }), e);  // the failure stays; nothing skips it
}

TEST_F(LoaderTest, BadSettingsAreConfigErrors) {
  LoaderConfig cfg;
  cfg.remainder = "wrapp";
  EXPECT_NE(error_of([&] { Loader l(dataset_, cfg); }).find("did you mean 'wrap'"),
            std::string::npos);
  cfg = {};
  cfg.fields = {"nope"};
  EXPECT_NE(error_of([&] { Loader l(dataset_, cfg); }).find("no field 'nope'"), std::string::npos);
  cfg = {};
  cfg.batch_size = 24;
  cfg.drop_last = true;
  EXPECT_NE(error_of([&] { Loader l(dataset_, cfg); }).find("no batch of 24"), std::string::npos);
}

}  // namespace
}  // namespace mudit::data
