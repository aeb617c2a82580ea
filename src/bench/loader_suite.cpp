#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/suites.h"
#include "mudit/core/rng.h"
#include "mudit/data/loader.h"
#include "mudit/data/shards.h"
#include "mudit/generation/shard_fields.h"

namespace mudit::bench {
namespace fs = std::filesystem;

namespace {

// 512 songs' worth of prepared items: latents [200-800, 64] F32, phonemes [50-200] I64,
// chinmu [512] F32 (about 75 MB in 5 shards).
void write_shards(const fs::path& dir) {
  at::Generator gen = make_generator(7);
  data::ShardWriterOptions opts;
  opts.max_shard_bytes = 16ull << 20;
  data::ShardWriter writer(dir, opts);
  for (int i = 0; i < 512; ++i) {
    const int64_t t = 200 + at::randint(600, {1}, gen).item<int64_t>();
    const int64_t l = 50 + at::randint(150, {1}, gen).item<int64_t>();
    writer.add("item" + std::to_string(i),
               {{generation::fields::kLatents, at::randn({t, 64}, gen)},
                {generation::fields::kPhonemes, at::randint(140, {l}, gen, at::kLong)},
                {"chinmu", at::randn({512}, gen)}});
  }
  writer.finish();
}

}  // namespace

std::vector<Measurement> run_loader_suite(const BenchOptions& options) {
  const fs::path work =
      options.work_dir.empty()
          ? fs::temp_directory_path() / ("mudit-bench-loader-" + std::to_string(::getpid()))
          : options.work_dir / "loader";
  fs::remove_all(work);
  write_shards(work);
  at::set_num_threads(options.threads);
  auto dataset = std::make_shared<const data::ShardDataset>(work);
  dataset->validate();
  std::vector<Measurement> out;
  double base_items = 0, base_step = 0;
  for (int workers : {0, 1, 2}) {
    data::LoaderConfig cfg;
    cfg.batch_size = 16;
    cfg.workers = workers;
    cfg.prefetch = 4;
    cfg.max_frames = 256;
    cfg.crop_field = generation::fields::kLatents;
    data::Loader loader(dataset, cfg);
    for (int i = 0; i < options.warmup; ++i) loader.next();
    int64_t items = 0, bytes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < options.repeats * 4; ++i) {
      const data::Batch b = loader.next();
      items += static_cast<int64_t>(b.items.size());
      bytes += b.bytes();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string name = std::to_string(workers) + (workers == 1 ? " worker" : " workers");
    const double items_s = items / s;
    if (workers == 0) base_items = items_s;
    out.push_back({"loader", name + " items/s", items_s, "items/s"});
    out.push_back({"loader", name + " MB/s", bytes / s / 1e6, "MB/s"});
    if (workers > 0) out.push_back({"loader", name + " vs sync", items_s / base_items, "x"});

    // The same with a consumer that waits 1 ms per batch (a GPU step the CPU does not work
    // in): the workers load the next batches meanwhile.
    const auto t1 = std::chrono::steady_clock::now();
    items = 0;
    for (int i = 0; i < options.repeats * 4; ++i) {
      items += static_cast<int64_t>(loader.next().items.size());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const double s1 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    if (workers == 0) base_step = items / s1;
    out.push_back({"loader", name + " +1ms step items/s", items / s1, "items/s"});
    if (workers > 0) {
      out.push_back({"loader", name + " +1ms step vs sync", items / s1 / base_step, "x"});
    }
  }
  fs::remove_all(work);
  return out;
}

}  // namespace mudit::bench
