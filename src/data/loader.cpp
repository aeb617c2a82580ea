#include "mudit/data/loader.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/rng.h"

namespace mudit::data {

void LoaderConfig::validate() const {
  MUDIT_CHECK(batch_size >= 1, ConfigError, "loader: batch_size must be >= 1, got ", batch_size);
  MUDIT_CHECK(workers >= 0, ConfigError, "loader: workers must be >= 0, got ", workers);
  MUDIT_CHECK(prefetch >= 1, ConfigError, "loader: prefetch must be >= 1, got ", prefetch);
  MUDIT_CHECK(max_frames >= 0, ConfigError, "loader: max_frames must be >= 0, got ", max_frames);
  check_choice("loader.remainder", remainder, {"drop", "wrap"});
}

std::string LoaderState::to_json() const {
  nlohmann::ordered_json j;
  j["epoch"] = epoch;
  j["position"] = position;
  return j.dump();
}

LoaderState LoaderState::from_json(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    LoaderState s{j.at("epoch").get<int64_t>(), j.at("position").get<int64_t>()};
    MUDIT_CHECK(s.epoch >= 0 && s.position >= 0, DataError, "negative epoch or position");
    return s;
  } catch (const nlohmann::json::exception& e) {
    MUDIT_THROW(DataError, "loader state '", text, "': expected {\"epoch\": E, \"position\": P} (",
                e.what(), ")");
  }
}

int64_t Batch::bytes() const {
  int64_t n = 0;
  for (const auto* m : {&tensors, &masks, &lengths}) {
    for (const auto& [k, t] : *m) n += t.numel() * t.element_size();
  }
  return n;
}

// The worker threads and what they share. Batches are numbered by a global sequence
// (epoch * batches_per_epoch + position); workers claim numbers in order, at most `prefetch`
// ahead of the consumer, and next() takes them back in order, so the worker count changes
// only the timing.
struct Loader::Pipeline {
  std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable ready_cv;
  int64_t next_build = 0;
  int64_t next_return = 0;
  bool stopping = false;
  std::map<int64_t, std::pair<Batch, std::exception_ptr>> ready;
  std::vector<std::thread> threads;
};

Loader::Loader(std::shared_ptr<const ShardDataset> dataset, LoaderConfig config, int rank,
               int world, LoaderState start_state)
    : dataset_(std::move(dataset)), config_(std::move(config)), rank_(rank), world_(world) {
  config_.validate();
  MUDIT_CHECK(dataset_, ConfigError, "loader: no dataset");
  MUDIT_CHECK(world >= 1 && rank >= 0 && rank < world, ConfigError, "loader: rank ", rank,
              " outside a world of ", world);
  const auto& index = dataset_->index();
  if (config_.fields.empty()) {
    for (const auto& f : index.fields) fields_.push_back(f.name);
  } else {
    for (const auto& f : config_.fields) {
      MUDIT_CHECK(index.field(f), ConfigError, "loader: the shards have no field '", f, "'");
    }
    fields_ = config_.fields;
  }
  if (config_.max_frames > 0) {
    MUDIT_CHECK(std::count(fields_.begin(), fields_.end(), config_.crop_field), ConfigError,
                "loader: crop_field '", config_.crop_field, "' is not a loaded field");
    for (const auto& f : config_.aligned_fields) {
      MUDIT_CHECK(std::count(fields_.begin(), fields_.end(), f), ConfigError,
                  "loader: aligned field '", f, "' is not a loaded field");
    }
  }
  const int64_t n = dataset_->size();
  items_per_rank_ = config_.remainder == "wrap" ? (n + world - 1) / world : n / world;
  batches_per_epoch_ = config_.drop_last
                           ? items_per_rank_ / config_.batch_size
                           : (items_per_rank_ + config_.batch_size - 1) / config_.batch_size;
  MUDIT_CHECK(batches_per_epoch_ > 0, DataError, "loader: ", n, " items give rank ", rank, " of ",
              world, " no batch of ", config_.batch_size);
  restore(start_state);
}

Loader::~Loader() {
  stop();
}

std::vector<int64_t> Loader::epoch_items(int64_t epoch) const {
  const int64_t n = dataset_->size();
  at::Tensor perm;
  if (config_.shuffle) {
    at::Generator gen = make_generator(derive_seed(config_.seed, epoch, RngStream::kData));
    perm = at::randperm(n, gen, at::kLong);
  } else {
    perm = at::arange(n, at::kLong);
  }
  const int64_t* p = perm.data_ptr<int64_t>();
  std::vector<int64_t> out(items_per_rank_);
  for (int64_t k = 0; k < items_per_rank_; ++k) out[k] = p[(rank_ + k * world_) % n];
  return out;
}

std::shared_ptr<const std::vector<int64_t>> Loader::order(int64_t epoch) const {
  std::lock_guard<std::mutex> lock(order_mutex_);
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  auto items = std::make_shared<const std::vector<int64_t>>(epoch_items(epoch));
  orders_[epoch] = items;
  while (orders_.size() > 2) orders_.erase(orders_.begin());
  return items;
}

Batch Loader::build(int64_t epoch, int64_t index) const {
  try {
    MUDIT_CHECK(index >= 0 && index < batches_per_epoch_, DataError, "batch ", index,
                " outside the epoch's ", batches_per_epoch_);
    const auto order_ptr = order(epoch);
    const std::vector<int64_t>& order = *order_ptr;
    const int64_t begin = index * config_.batch_size;
    const int64_t end = std::min<int64_t>(begin + config_.batch_size, order.size());
    Batch batch;
    batch.epoch = epoch;
    batch.index = index;
    std::vector<Item> items;
    for (int64_t k = begin; k < end; ++k) {
      const int64_t i = order[k];
      batch.items.push_back(i);
      batch.ids.push_back(dataset_->id(i));
      Item full = dataset_->get(i);
      Item item;
      for (const auto& f : fields_) item[f] = full.at(f);
      if (config_.max_frames > 0) {
        const int64_t len = item.at(config_.crop_field).size(0);
        if (len > config_.max_frames) {
          const uint64_t draw = derive_seed(derive_seed(config_.seed, epoch, RngStream::kAugment),
                                            static_cast<uint64_t>(i), RngStream::kAugment);
          const int64_t start = static_cast<int64_t>(draw % (len - config_.max_frames + 1));
          for (const auto& f : config_.aligned_fields) {
            const int64_t flen = item.at(f).size(0);
            MUDIT_CHECK(flen % len == 0, DataError, "item '", dataset_->id(i), "': field '", f,
                        "' has ", flen, " rows, not a whole multiple of the ", len, " of '",
                        config_.crop_field, "'");
            const int64_t ratio = flen / len;
            item[f] = item[f].narrow(0, start * ratio, config_.max_frames * ratio);
          }
          item[config_.crop_field] = item[config_.crop_field].narrow(0, start, config_.max_frames);
        }
      }
      items.push_back(std::move(item));
    }
    const int64_t b = static_cast<int64_t>(items.size());
    for (const auto& f : fields_) {
      std::vector<int64_t> lens(b);
      int64_t longest = 0;
      for (int64_t k = 0; k < b; ++k) {
        lens[k] = items[k].at(f).size(0);
        longest = std::max(longest, lens[k]);
      }
      const at::Tensor& first = items[0].at(f);
      std::vector<int64_t> shape = {b, longest};
      for (int64_t d = 1; d < first.dim(); ++d) shape.push_back(first.size(d));
      at::Tensor out = at::zeros(shape, first.options());  // [B, T_max, *shape]
      for (int64_t k = 0; k < b; ++k) {
        if (lens[k] > 0) out[k].narrow(0, 0, lens[k]).copy_(items[k].at(f));
      }
      at::Tensor lengths = at::tensor(lens, at::kLong);  // [B]
      batch.masks[f] =
          at::arange(longest, at::kLong).unsqueeze(0) < lengths.unsqueeze(1);  // [B, T]
      batch.lengths[f] = lengths;
      batch.tensors[f] = out;
    }
    return batch;
  } catch (Error& e) {
    e.add_context("loader: batch " + std::to_string(index) + " of epoch " + std::to_string(epoch));
    throw;
  } catch (const std::exception& e) {
    MUDIT_THROW(DataError, "loader: batch ", index, " of epoch ", epoch, ": ", e.what());
  }
}

void Loader::start(int64_t sequence) {
  next_sequence_ = sequence;
  if (config_.workers == 0) return;
  pipeline_ = std::make_unique<Pipeline>();
  Pipeline* p = pipeline_.get();
  p->next_build = p->next_return = sequence;
  for (int w = 0; w < config_.workers; ++w) {
    p->threads.emplace_back([this, p] {
      for (;;) {
        int64_t s = 0;
        {
          std::unique_lock<std::mutex> lock(p->mutex);
          p->work_cv.wait(lock, [&] {
            return p->stopping || p->next_build < p->next_return + config_.prefetch;
          });
          if (p->stopping) return;
          s = p->next_build++;
        }
        Batch batch;
        std::exception_ptr error;
        try {
          batch = build(s / batches_per_epoch_, s % batches_per_epoch_);
        } catch (...) {
          error = std::current_exception();
        }
        {
          std::lock_guard<std::mutex> lock(p->mutex);
          p->ready.emplace(s, std::make_pair(std::move(batch), error));
        }
        p->ready_cv.notify_all();
      }
    });
  }
}

void Loader::stop() {
  if (!pipeline_) return;
  {
    std::lock_guard<std::mutex> lock(pipeline_->mutex);
    pipeline_->stopping = true;
  }
  pipeline_->work_cv.notify_all();
  for (auto& t : pipeline_->threads) t.join();
  pipeline_.reset();
}

Batch Loader::next() {
  if (!pipeline_) {
    Batch b = build(next_sequence_ / batches_per_epoch_, next_sequence_ % batches_per_epoch_);
    ++next_sequence_;
    return b;
  }
  Pipeline* p = pipeline_.get();
  std::unique_lock<std::mutex> lock(p->mutex);
  p->ready_cv.wait(lock, [&] { return p->ready.count(next_sequence_) > 0; });
  auto it = p->ready.find(next_sequence_);
  // A failed batch stays where it is: every later next() reports the same error.
  if (it->second.second) std::rethrow_exception(it->second.second);
  Batch b = std::move(it->second.first);
  p->ready.erase(it);
  p->next_return = ++next_sequence_;
  lock.unlock();
  p->work_cv.notify_all();
  return b;
}

LoaderState Loader::state() const {
  return {next_sequence_ / batches_per_epoch_, next_sequence_ % batches_per_epoch_};
}

void Loader::restore(const LoaderState& s) {
  MUDIT_CHECK(s.epoch >= 0 && s.position >= 0 && s.position < batches_per_epoch_, DataError,
              "loader: cannot resume at batch ", s.position, " of epoch ", s.epoch,
              " (an epoch has ", batches_per_epoch_, " batches)");
  stop();
  start(s.epoch * batches_per_epoch_ + s.position);
}

}  // namespace mudit::data
