#pragma once
// Batches from a shard set: background workers with a bounded prefetch queue, random crops to
// `max_frames`, padding with masks, per-rank disjoint epoch-seeded shuffling and a resumable
// position.
//
// Order. Epoch e's order is a permutation of all items drawn from (seed, e) through
// derive_seed(seed, e, RngStream::kData) — the same on every rank. Rank r of W takes positions
// r, r+W, r+2W, ... of it. So every rank has the same number of items, the remainder
// N mod W is either dropped (remainder: drop; those items wait for another epoch's order) or
// filled by wrapping to the start of the permutation (remainder: wrap; a few items appear
// twice in the epoch). Consecutive groups of batch_size items make the batches; the last,
// shorter one is kept unless drop_last. A batch is thus a pure function of (seed, epoch, batch
// index, rank, world) — the worker count never changes it.
//
// Crops. When max_frames > 0, an item whose `crop_field` is longer than max_frames is cut to a
// window of max_frames rows at a start drawn from (seed, epoch, item); each field in
// `aligned_fields` is cut at the same place, scaled by its length ratio to the crop field
// (which must be a whole number, e.g. 16 mel frames per latent frame, or 1). Other fields are
// kept whole.
//
// Padding. Every field is zero-padded along dim 0 to the longest item of the batch; a bool
// mask [B, T] per field is true on real rows, and lengths [B] hold the real lengths.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mudit/data/shards.h"

namespace mudit::data {

struct LoaderConfig {
  int64_t batch_size = 8;
  int workers = 2;                 ///< background threads; 0 builds batches in next() itself
  int prefetch = 4;                ///< batches built ahead of next() (bounded queue)
  bool shuffle = true;             ///< false: the epoch order is the shard order
  bool drop_last = false;          ///< drop the last, shorter batch of each epoch
  std::string remainder = "drop";  ///< equal items per rank: "drop" or "wrap" (see above)
  int64_t max_frames = 0;          ///< crop length along dim 0 of crop_field; 0: no crops
  std::string crop_field = "latents";
  std::vector<std::string> aligned_fields;  ///< fields cut at the crop's place (scaled)
  std::vector<std::string> fields;          ///< fields to load; empty: all
  uint64_t seed = 0;

  template <class V>
  void visit(V& v) {
    v("batch_size", batch_size);
    v("workers", workers);
    v("prefetch", prefetch);
    v("shuffle", shuffle);
    v("drop_last", drop_last);
    v("remainder", remainder);
    v("max_frames", max_frames);
    v("crop_field", crop_field);
    v("aligned_fields", aligned_fields);
    v("fields", fields);
    v("seed", seed);
  }
  void validate() const;
};

/// Where a loader is: the next batch next() returns is batch `position` of epoch `epoch`.
struct LoaderState {
  int64_t epoch = 0;
  int64_t position = 0;
  /// {"epoch": 3, "position": 17}
  std::string to_json() const;
  /// Throws DataError on anything else.
  static LoaderState from_json(const std::string& text);
  bool operator==(const LoaderState& o) const { return epoch == o.epoch && position == o.position; }
};

struct Batch {
  int64_t epoch = 0;
  int64_t index = 0;                          ///< batch number within the epoch
  std::vector<int64_t> items;                 ///< dataset indices
  std::vector<std::string> ids;               ///< their ids
  std::map<std::string, at::Tensor> tensors;  ///< field → [B, T_max, *shape], zero-padded
  std::map<std::string, at::Tensor> masks;    ///< field → [B, T_max] bool, true on real rows
  std::map<std::string, at::Tensor> lengths;  ///< field → [B] int64
  int64_t bytes() const;                      ///< bytes of the padded tensors
};

class Loader {
 public:
  /// Batches of `dataset` for `rank` of `world` ranks, starting at `start`. The dataset must
  /// outlive the loader. Throws ConfigError for bad settings, DataError for an empty share.
  Loader(std::shared_ptr<const ShardDataset> dataset, LoaderConfig config, int rank = 0,
         int world = 1, LoaderState start = {});
  /// Stops and joins the workers.
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// The next batch; epochs follow each other without end (Batch::epoch says which). An error
  /// while building it (a corrupt shard) is rethrown here, naming the shard.
  Batch next();
  /// The position of the batch the next call to next() returns.
  LoaderState state() const;
  /// Continues from `state`: the following next() calls return exactly the batches that
  /// followed `state` before.
  void restore(const LoaderState& state);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t items_per_rank() const { return items_per_rank_; }
  /// The dataset indices rank `rank_` reads in `epoch`, in order (for tests and tools).
  std::vector<int64_t> epoch_items(int64_t epoch) const;
  /// Builds batch `index` of `epoch` directly (what the workers do).
  Batch build(int64_t epoch, int64_t index) const;

 private:
  struct Pipeline;
  void start(int64_t sequence);
  /// epoch_items(epoch), computed once per epoch (the last two are kept).
  std::shared_ptr<const std::vector<int64_t>> order(int64_t epoch) const;
  void stop();

  std::shared_ptr<const ShardDataset> dataset_;
  LoaderConfig config_;
  int rank_ = 0;
  int world_ = 1;
  std::vector<std::string> fields_;
  int64_t items_per_rank_ = 0;
  int64_t batches_per_epoch_ = 0;
  int64_t next_sequence_ = 0;  // epoch * batches_per_epoch + position of the next batch
  std::unique_ptr<Pipeline> pipeline_;
  mutable std::mutex order_mutex_;
  mutable std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> orders_;
};

}  // namespace mudit::data
