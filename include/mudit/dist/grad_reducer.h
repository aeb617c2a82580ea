#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "mudit/dist/comm.h"

namespace mudit::dist {

/// Data-parallel gradient averaging in ~bucket_mb flattened buckets, launched from gradient hooks
/// as buckets fill (overlapping backward), in a fixed bucket order on every rank.
///
/// Buckets hold parameters in reverse order (the order backward produces their gradients), one
/// dtype and device per bucket; bucket i is launched only after buckets 0..i-1, so every rank
/// issues the same collectives in the same order whatever order its hooks fire in. Parameters
/// that do not require grad are left out. World 1: no hooks, no buffers, begin/finish do nothing.
///
///   reducer.begin(/*sync=*/last_micro_step);
///   loss.backward();
///   reducer.finish();  // .grad now holds the mean over ranks
///
/// Averaging is over ranks only: scaling micro-step losses for accumulation is the caller's job.
class GradReducer {
 public:
  GradReducer(std::shared_ptr<Comm> comm, std::vector<at::Tensor> params, double bucket_mb);
  ~GradReducer();  // removes its hooks
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  /// Before each micro-step's backward. sync=false (gradient-accumulation micro-steps): no
  /// communication at all; grads accumulate locally in .grad. One backward per begin().
  void begin(bool sync);
  /// After backward: launches buckets not yet launched (unused parameters count as zero),
  /// waits for all, and writes the cross-rank MEAN of the accumulated gradient into each .grad.
  /// Throws DistError naming the rank and the operation on failure/timeout. A no-op after
  /// begin(false).
  void finish();
  size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;  // in elements, within the bucket's buffer
    bool ready = false;
  };
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    int64_t numel = 0;
    at::Tensor flat;  // [numel], allocated on first use
    size_t pending = 0;
    std::unique_ptr<PendingCollective> work;
  };

  void on_grad(size_t index, const at::Tensor& grad);
  // Marks params_[index] ready with `value` (its accumulated gradient, or undefined for zero)
  // and launches every bucket that can go. Caller holds mutex_.
  void mark_ready(size_t index, const at::Tensor& value);
  void reset_step();

  std::shared_ptr<Comm> comm_;
  std::vector<at::Tensor> params_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<unsigned> hooks_;
  std::mutex mutex_;
  bool sync_ = false;
  size_t next_launch_ = 0;
  std::exception_ptr hook_error_;  // raised in a hook, rethrown by finish()
};

}  // namespace mudit::dist
