#pragma once
// Shards: prepared training items (latents, ChinMu vectors, phoneme ids, ...) in safetensors
// files that Python's `safetensors` reads too. An item is a set of named tensors, each of any
// length along dim 0 and a fixed trailing shape per field (latents [T, D], phonemes [L],
// chinmu [512]). A shard file holds, per field, one array of all its items concatenated along
// dim 0 and an int64 array `<field>.offsets` of n_items + 1 row offsets, so item i of a field is
// rows [offsets[i], offsets[i+1]):
//
//   shard-00000.safetensors   latents [ΣT, 64] F32, latents.offsets [n+1] I64,
//                             phonemes [ΣL] I64, phonemes.offsets [n+1] I64, ...
//   index.json                {"format": 1, "items": N,
//                              "fields": [{"name": "latents", "dtype": "F32", "shape": [64]}, ...],
//                              "shards": [{"file": "shard-00000.safetensors", "items": n,
//                                          "bytes": B, "ids": ["s_0001", ...]}, ...]}
//
// In Python: f = safetensors.numpy.load_file(p); o = f["latents.offsets"];
// item_i = f["latents"][o[i]:o[i+1]].

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mudit::data {

/// One item: field name → tensor [len, *trailing].
using Item = std::map<std::string, at::Tensor>;

struct ShardField {
  std::string name;
  c10::ScalarType dtype = c10::kFloat;
  std::vector<int64_t> shape;  ///< per-item shape after dim 0 (empty for 1-D fields)
};

struct ShardInfo {
  std::string file;  ///< relative to the index's folder
  int64_t items = 0;
  uint64_t bytes = 0;
  std::vector<std::string> ids;
};

/// index.json of a shard set.
struct ShardIndex {
  int format = 1;
  std::vector<ShardField> fields;
  std::vector<ShardInfo> shards;

  int64_t items() const;
  const ShardField* field(const std::string& name) const;
  std::string to_json() const;
  /// Throws DataError naming `source` on a malformed or newer-format index.
  static ShardIndex from_json(std::string_view text, const std::string& source);
  /// Reads `dir`/index.json. Throws IoError / DataError.
  static ShardIndex load(const std::filesystem::path& dir);
};

struct ShardWriterOptions {
  uint64_t max_shard_bytes = 256ull << 20;  ///< a new shard starts before this size is passed
  std::string prefix = "shard";             ///< file names: <prefix>-00000.safetensors, ...
};

/// Writes items into shards of at most `max_shard_bytes` (a single larger item gets a shard of
/// its own). Each shard appears atomically when full; index.json appears last, in finish(), so
/// a folder with an index is complete. Destroyed without finish() (an exception), it removes
/// the shards it wrote.
class ShardWriter {
 public:
  explicit ShardWriter(std::filesystem::path dir, ShardWriterOptions options = {});
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  /// Adds one item. The first item fixes the fields, their dtypes and trailing shapes; a later
  /// item that differs is a DataError naming it. Tensors may live on any device.
  void add(const std::string& id, const Item& item);
  /// Writes the last shard and index.json; returns the index.
  ShardIndex finish();
  int64_t items() const { return items_; }

 private:
  void flush();

  std::filesystem::path dir_;
  ShardWriterOptions options_;
  ShardIndex index_;
  std::map<std::string, std::vector<at::Tensor>> pending_;
  std::vector<std::string> pending_ids_;
  uint64_t pending_bytes_ = 0;
  int64_t items_ = 0;
  bool finished_ = false;
};

/// Random access to the items of a shard set. Shards open (memory-mapped) on first use and are
/// validated then: every field present with the index's dtype and trailing shape, offsets int64
/// of length n+1, starting at 0, never decreasing, ending at the field's row count. A corrupt
/// shard is a DataError (IoError for an unreadable or truncated file) naming the shard file and,
/// for offsets, the offset. Thread-safe.
class ShardDataset {
 public:
  /// Reads `dir`/index.json. Shards open lazily; call validate() to open them all now.
  explicit ShardDataset(const std::filesystem::path& dir);
  ~ShardDataset();

  int64_t size() const { return static_cast<int64_t>(ids_.size()); }
  const ShardIndex& index() const { return index_; }
  const std::string& id(int64_t i) const;
  /// Item i: every field as a CPU tensor [len, *trailing] viewing the mapped file (no copy).
  Item get(int64_t i) const;
  /// Length along dim 0 of `field` in item i.
  int64_t length(int64_t i, const std::string& field) const;
  /// (shard number, row within the shard) of item i.
  std::pair<int64_t, int64_t> locate(int64_t i) const;
  std::filesystem::path shard_path(int64_t shard) const;
  /// Opens and validates every shard.
  void validate() const;

 private:
  struct Open;
  std::shared_ptr<const Open> open(int64_t shard) const;

  std::filesystem::path dir_;
  ShardIndex index_;
  std::vector<std::string> ids_;
  std::vector<int64_t> first_item_;  // per shard: global index of its first item
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

}  // namespace mudit::data
