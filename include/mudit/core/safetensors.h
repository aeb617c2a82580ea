#pragma once

// safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}), then the raw
// little-endian tensor bytes. mudit stores weights, optimizer state, shards and embeddings in it;
// files written here read in Python's `safetensors` and the other way round.
//
// Reading is defensive: the header length, every offset, dtype and shape are checked against the
// file before anything is allocated, so a truncated or malicious file gives an IoError naming the
// file and the problem — never a crash or an allocation larger than the file.

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mudit {

/// Where one tensor lives in a safetensors file.
struct TensorEntry {
  std::string name;
  c10::ScalarType dtype = c10::kFloat;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section (after the header)
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
};

/// The safetensors name of a dtype ("F32", "BF16", ...); throws IoError for dtypes the format
/// lacks. Supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
std::string safetensors_dtype_name(c10::ScalarType dtype);
/// The dtype of a safetensors name; throws IoError naming the unknown dtype.
c10::ScalarType safetensors_dtype(const std::string& name);

/// An open safetensors file: header parsed and validated, data memory-mapped (or read into
/// memory when mapping is impossible). Cheap to keep open; tensors are read on demand.
class SafetensorsReader {
 public:
  /// Opens and validates `path`. Throws IoError (missing, unreadable, truncated, bad header).
  explicit SafetensorsReader(const std::filesystem::path& path);
  ~SafetensorsReader();
  SafetensorsReader(SafetensorsReader&&) noexcept;
  SafetensorsReader& operator=(SafetensorsReader&&) noexcept;

  const std::filesystem::path& path() const;
  /// Entries in data order.
  const std::vector<TensorEntry>& entries() const;
  const std::map<std::string, std::string>& metadata() const;
  bool contains(const std::string& name) const;
  /// Throws IoError when the file has no tensor `name`.
  const TensorEntry& entry(const std::string& name) const;
  /// Size of the header JSON and of the data section in bytes.
  uint64_t header_bytes() const;
  uint64_t data_bytes() const;

  /// The tensor as a CPU tensor with its own copy of the bytes.
  at::Tensor tensor(const std::string& name) const;
  /// The tensor as a CPU tensor over the mapped file, without copying; it keeps the mapping
  /// alive. Writes to it stay private to this process. Falls back to a copy when the bytes are
  /// not aligned for the dtype.
  at::Tensor tensor_view(const std::string& name) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Every tensor of a file with its metadata.
struct TensorFile {
  std::map<std::string, at::Tensor> tensors;    // CPU tensors, each owning its bytes
  std::map<std::string, std::string> metadata;  // __metadata__
};

/// Reads a whole file. Throws IoError.
TensorFile load_safetensors(const std::filesystem::path& path);

/// The bytes of a safetensors file holding `tensors` (any device; made contiguous on the CPU)
/// and `metadata`. Tensors are laid out by decreasing element size, then by name, so every
/// tensor is aligned to its element size; the header is padded with spaces to a multiple of 8.
std::string encode_safetensors(const std::map<std::string, at::Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata = {});

/// Writes a file atomically: a temporary file in the same folder, flushed to disk (fsync), then
/// renamed over `path`. A failure leaves any previous file untouched and no temporary behind.
/// Throws IoError.
void save_safetensors(const std::filesystem::path& path,
                      const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace mudit
