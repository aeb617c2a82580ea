#include "mudit/data/shards.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"

namespace mudit::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kShardFormat = 1;

std::string shape_str(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string shape_str(const std::vector<int64_t>& shape) {
  return shape_str(at::IntArrayRef(shape));
}

}  // namespace

// ---- index -------------------------------------------------------------------------------------

int64_t ShardIndex::items() const {
  int64_t n = 0;
  for (const auto& s : shards) n += s.items;
  return n;
}

const ShardField* ShardIndex::field(const std::string& name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string ShardIndex::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = format;
  j["items"] = items();
  j["fields"] = nlohmann::ordered_json::array();
  for (const auto& f : fields) {
    j["fields"].push_back(
        {{"name", f.name}, {"dtype", safetensors_dtype_name(f.dtype)}, {"shape", f.shape}});
  }
  j["shards"] = nlohmann::ordered_json::array();
  for (const auto& s : shards) {
    j["shards"].push_back(
        {{"file", s.file}, {"items", s.items}, {"bytes", s.bytes}, {"ids", s.ids}});
  }
  return j.dump(1) + "\n";
}

ShardIndex ShardIndex::from_json(std::string_view text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range (a number overflow)
    MUDIT_THROW(DataError, source, ": not valid JSON (", e.what(), ")");
  }
  ShardIndex index;
  try {
    index.format = j.at("format").get<int>();
    MUDIT_CHECK(index.format <= kShardFormat, DataError, source, ": shard format ", index.format,
                " is newer than this mudit reads (", kShardFormat, "); update mudit");
    for (const auto& f : j.at("fields")) {
      ShardField field;
      field.name = f.at("name").get<std::string>();
      try {
        field.dtype = safetensors_dtype(f.at("dtype").get<std::string>());
      } catch (const Error& e) {
        MUDIT_THROW(DataError, source, ": field '", field.name, "': ", e.what());
      }
      field.shape = f.at("shape").get<std::vector<int64_t>>();
      index.fields.push_back(std::move(field));
    }
    for (const auto& s : j.at("shards")) {
      ShardInfo info;
      info.file = s.at("file").get<std::string>();
      info.items = s.at("items").get<int64_t>();
      info.bytes = s.value("bytes", uint64_t{0});
      info.ids = s.at("ids").get<std::vector<std::string>>();
      MUDIT_CHECK(info.items >= 0 && static_cast<int64_t>(info.ids.size()) == info.items, DataError,
                  source, ": shard '", info.file, "' lists ", info.ids.size(), " ids for ",
                  info.items, " items");
      index.shards.push_back(std::move(info));
    }
  } catch (const json::exception& e) {
    MUDIT_THROW(DataError, source, ": malformed shard index (", e.what(), ")");
  }
  return index;
}

ShardIndex ShardIndex::load(const fs::path& dir) {
  const fs::path file = dir / "index.json";
  return from_json(read_file(file), file.string());
}

// ---- writer ------------------------------------------------------------------------------------

ShardWriter::ShardWriter(fs::path dir, ShardWriterOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  MUDIT_CHECK(options_.max_shard_bytes > 0, ConfigError, "shards: max_shard_bytes must be > 0");
  fs::create_directories(dir_);
}

ShardWriter::~ShardWriter() {
  if (finished_) return;
  for (const auto& s : index_.shards) {
    std::error_code ec;
    fs::remove(dir_ / s.file, ec);
  }
}

void ShardWriter::add(const std::string& id, const Item& item) {
  MUDIT_CHECK(!finished_, Error, "shards: add() after finish()");
  MUDIT_CHECK(!item.empty(), DataError, "shards: item '", id, "' has no tensors");
  if (index_.fields.empty() && items_ == 0) {
    for (const auto& [name, t] : item) {
      MUDIT_CHECK(t.dim() >= 1, DataError, "shards: item '", id, "': field '", name,
                  "' is a scalar (fields need a dim 0 to concatenate along)");
      MUDIT_CHECK(name.find(".offsets") == std::string::npos, DataError, "shards: field name '",
                  name, "' is reserved");
      safetensors_dtype_name(t.scalar_type());  // throws for dtypes the format lacks
      index_.fields.push_back({name, t.scalar_type(), t.sizes().slice(1).vec()});
    }
  }
  MUDIT_CHECK(item.size() == index_.fields.size(), DataError, "shards: item '", id, "' has ",
              item.size(), " fields, the first item had ", index_.fields.size());
  uint64_t bytes = 0;
  for (const auto& f : index_.fields) {
    auto it = item.find(f.name);
    MUDIT_CHECK(it != item.end(), DataError, "shards: item '", id, "' lacks field '", f.name, "'");
    const at::Tensor& t = it->second;
    MUDIT_CHECK(t.scalar_type() == f.dtype, DataError, "shards: item '", id, "': field '", f.name,
                "' is ", safetensors_dtype_name(t.scalar_type()), ", earlier items are ",
                safetensors_dtype_name(f.dtype));
    MUDIT_CHECK(
        t.dim() == static_cast<int64_t>(f.shape.size()) + 1 && t.sizes().slice(1).vec() == f.shape,
        DataError, "shards: item '", id, "': field '", f.name, "' has shape ", shape_str(t.sizes()),
        ", earlier items are [*, ", shape_str(f.shape).substr(1));
    bytes += t.numel() * t.element_size();
  }
  if (!pending_ids_.empty() && pending_bytes_ + bytes > options_.max_shard_bytes) flush();
  for (const auto& f : index_.fields) {
    pending_[f.name].push_back(item.at(f.name).detach().to(at::kCPU).contiguous());
  }
  pending_ids_.push_back(id);
  pending_bytes_ += bytes;
  ++items_;
}

void ShardWriter::flush() {
  if (pending_ids_.empty()) return;
  char name[64];
  std::snprintf(name, sizeof name, "-%05zu.safetensors", index_.shards.size());
  const std::string file = options_.prefix + name;
  std::map<std::string, at::Tensor> tensors;
  const int64_t n = static_cast<int64_t>(pending_ids_.size());
  for (const auto& f : index_.fields) {
    auto& parts = pending_[f.name];
    std::vector<int64_t> offsets(n + 1, 0);
    for (int64_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + parts[i].size(0);
    tensors[f.name] = at::cat(parts, 0);  // [Σlen, *shape]
    tensors[f.name + ".offsets"] = at::tensor(offsets, at::kLong);
    parts.clear();
  }
  const std::map<std::string, std::string> metadata = {
      {"mudit.format", std::to_string(kShardFormat)},
      {"mudit.kind", "shard"},
      {"mudit.items", std::to_string(n)}};
  save_safetensors(dir_ / file, tensors, metadata);
  ShardInfo info;
  info.file = file;
  info.items = n;
  info.bytes = fs::file_size(dir_ / file);
  info.ids = std::move(pending_ids_);
  index_.shards.push_back(std::move(info));
  pending_ids_.clear();
  pending_bytes_ = 0;
}

ShardIndex ShardWriter::finish() {
  MUDIT_CHECK(!finished_, Error, "shards: finish() called twice");
  flush();
  write_file_atomic(dir_ / "index.json", index_.to_json());
  finished_ = true;
  return index_;
}

// ---- dataset -----------------------------------------------------------------------------------

struct ShardDataset::Open {
  SafetensorsReader reader;
  std::map<std::string, at::Tensor> data;               // field → [rows, *shape] view
  std::map<std::string, std::vector<int64_t>> offsets;  // field → n+1 offsets
  explicit Open(const fs::path& p) : reader(p) {}
};

struct ShardDataset::Cache {
  std::mutex mutex;
  std::vector<std::shared_ptr<const Open>> shards;
};

ShardDataset::ShardDataset(const fs::path& dir)
    : dir_(dir), index_(ShardIndex::load(dir)), cache_(std::make_unique<Cache>()) {
  for (const auto& s : index_.shards) {
    first_item_.push_back(static_cast<int64_t>(ids_.size()));
    ids_.insert(ids_.end(), s.ids.begin(), s.ids.end());
  }
  cache_->shards.resize(index_.shards.size());
}

ShardDataset::~ShardDataset() = default;

const std::string& ShardDataset::id(int64_t i) const {
  MUDIT_CHECK(i >= 0 && i < size(), DataError, "shards: item ", i, " out of range (", size(),
              " items)");
  return ids_[i];
}

fs::path ShardDataset::shard_path(int64_t shard) const {
  return dir_ / index_.shards.at(shard).file;
}

std::pair<int64_t, int64_t> ShardDataset::locate(int64_t i) const {
  MUDIT_CHECK(i >= 0 && i < size(), DataError, "shards: item ", i, " out of range (", size(),
              " items)");
  const auto it = std::upper_bound(first_item_.begin(), first_item_.end(), i);
  const int64_t shard = (it - first_item_.begin()) - 1;
  return {shard, i - first_item_[shard]};
}

std::shared_ptr<const ShardDataset::Open> ShardDataset::open(int64_t shard) const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  auto& slot = cache_->shards.at(shard);
  if (slot) return slot;
  const fs::path path = shard_path(shard);
  const int64_t n = index_.shards[shard].items;
  auto open = with_context("shard '" + path.string() + "'", [&] {
    auto o = std::make_shared<Open>(path);
    for (const auto& f : index_.fields) {
      const std::string off_name = f.name + ".offsets";
      MUDIT_CHECK(o->reader.contains(f.name) && o->reader.contains(off_name), DataError, "field '",
                  f.name, "' or its offsets missing");
      const TensorEntry& d = o->reader.entry(f.name);
      MUDIT_CHECK(d.dtype == f.dtype, DataError, "field '", f.name, "' is ",
                  safetensors_dtype_name(d.dtype), ", the index says ",
                  safetensors_dtype_name(f.dtype));
      MUDIT_CHECK(d.shape.size() == f.shape.size() + 1 &&
                      std::equal(f.shape.begin(), f.shape.end(), d.shape.begin() + 1),
                  DataError, "field '", f.name, "' has shape ", shape_str(d.shape),
                  ", the index says [*, ", shape_str(f.shape).substr(1));
      const TensorEntry& oe = o->reader.entry(off_name);
      MUDIT_CHECK(oe.dtype == c10::kLong && oe.shape.size() == 1 && oe.shape[0] == n + 1, DataError,
                  "'", off_name, "' must be I64 [", n + 1, "] for ", n, " items, got ",
                  safetensors_dtype_name(oe.dtype), " ", shape_str(oe.shape));
      const at::Tensor ot = o->reader.tensor(off_name);
      const int64_t* p = ot.data_ptr<int64_t>();
      std::vector<int64_t> off(p, p + n + 1);
      const int64_t rows = d.shape[0];
      MUDIT_CHECK(off[0] == 0, DataError, "'", off_name, "'[0] = ", off[0], " (must be 0)");
      for (int64_t k = 1; k <= n; ++k) {
        MUDIT_CHECK(off[k] >= off[k - 1], DataError, "'", off_name, "'[", k, "] = ", off[k],
                    " is less than [", k - 1, "] = ", off[k - 1], " (offsets must not decrease)");
        MUDIT_CHECK(off[k] <= rows, DataError, "'", off_name, "'[", k, "] = ", off[k],
                    " is beyond the ", rows, " rows of '", f.name, "'");
      }
      MUDIT_CHECK(off[n] == rows, DataError, "'", off_name, "'[", n, "] = ", off[n], " but '",
                  f.name, "' has ", rows, " rows");
      o->offsets[f.name] = std::move(off);
      o->data[f.name] = o->reader.tensor_view(f.name);
    }
    return std::shared_ptr<const Open>(std::move(o));
  });
  slot = open;
  return open;
}

void ShardDataset::validate() const {
  for (int64_t s = 0; s < static_cast<int64_t>(index_.shards.size()); ++s) open(s);
}

Item ShardDataset::get(int64_t i) const {
  const auto [shard, row] = locate(i);
  const auto o = open(shard);
  Item item;
  for (const auto& f : index_.fields) {
    const auto& off = o->offsets.at(f.name);
    item[f.name] = o->data.at(f.name).narrow(0, off[row], off[row + 1] - off[row]);
  }
  return item;
}

int64_t ShardDataset::length(int64_t i, const std::string& field) const {
  const auto [shard, row] = locate(i);
  const auto o = open(shard);
  auto it = o->offsets.find(field);
  MUDIT_CHECK(it != o->offsets.end(), DataError, "shards: no field '", field, "'");
  return it->second[row + 1] - it->second[row];
}

}  // namespace mudit::data
