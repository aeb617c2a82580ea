// The bench suites; bench.cpp lists them by name.
#pragma once

#include <vector>

#include "mudit/bench/bench.h"

namespace mudit::bench {

/// "ddp": per-step time of the toy transformer (~9.5 M parameters) trained by 1 process and by
/// 2 Gloo ranks with the same per-rank batch, each process pinned to `threads` threads; the
/// ratio is the data-parallel overhead (1.0 = none).
std::vector<Measurement> run_ddp_suite(const BenchOptions& options);

/// "loader": items/s and MB/s of data::Loader over a generated shard set (512 items, batch 16,
/// crops to 256 frames) with 0 workers (synchronous, the baseline), 1 and 2 workers; ratios
/// are against the synchronous loader of the same run. Each is measured twice: reading batches
/// back to back, and with a consumer that sleeps 1 ms per batch (a GPU step), where workers
/// overlap loading with the step.
std::vector<Measurement> run_loader_suite(const BenchOptions& options);

}  // namespace mudit::bench
