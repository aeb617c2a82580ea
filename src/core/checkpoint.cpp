#include "mudit/core/checkpoint.h"

#include <ATen/ops/scalar_tensor.h>
#include <fcntl.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/version.h"

namespace mudit {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Model files

std::map<std::string, std::string> ModelMeta::to_metadata() const {
  std::map<std::string, std::string> m = extra;
  m["mudit.format"] = std::to_string(format);
  m["mudit.arch"] = arch;
  m["mudit.arch_rev"] = std::to_string(arch_rev);
  m["mudit.config"] = config;
  m["mudit.step"] = std::to_string(step);
  m["mudit.version"] = mudit_version;
  m["mudit.torch_version"] = torch_version;
  return m;
}

ModelMeta ModelMeta::from_metadata(const std::map<std::string, std::string>& metadata,
                                   const std::string& source) {
  auto get = [&](const std::string& key) -> const std::string* {
    auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
  };
  auto integer = [&](const std::string& key) -> int64_t {
    const std::string* v = get(key);
    MUDIT_CHECK(v, CheckpointError, source, ": metadata lacks ", key);
    try {
      size_t used = 0;
      const long long n = std::stoll(*v, &used);
      MUDIT_CHECK(used == v->size(), CheckpointError, source, ": ", key, " is not an integer");
      return n;
    } catch (const std::logic_error&) {
      MUDIT_THROW(CheckpointError, source, ": ", key, " is not an integer ('", *v, "')");
    }
  };
  MUDIT_CHECK(get("mudit.format"), CheckpointError, source,
              ": not a mudit model file (no mudit.format in its metadata)");
  ModelMeta meta;
  meta.format = static_cast<int>(integer("mudit.format"));
  MUDIT_CHECK(meta.format <= kModelFormat, CheckpointError, source,
              ": written by a newer mudit (model format ", meta.format, "; this build reads up to ",
              kModelFormat, "): upgrade mudit to load it");
  MUDIT_CHECK(meta.format >= 1, CheckpointError, source, ": bad model format ", meta.format);
  const std::string* arch = get("mudit.arch");
  MUDIT_CHECK(arch && !arch->empty(), CheckpointError, source, ": metadata lacks mudit.arch");
  meta.arch = *arch;
  meta.arch_rev = static_cast<int>(integer("mudit.arch_rev"));
  meta.step = integer("mudit.step");
  if (const auto* c = get("mudit.config")) meta.config = *c;
  if (const auto* v = get("mudit.version")) meta.mudit_version = *v;
  if (const auto* v = get("mudit.torch_version")) meta.torch_version = *v;
  static const std::set<std::string> kKnown = {"mudit.format",       "mudit.arch", "mudit.arch_rev",
                                               "mudit.config",       "mudit.step", "mudit.version",
                                               "mudit.torch_version"};
  for (const auto& [k, v] : metadata) {
    if (!kKnown.count(k)) meta.extra[k] = v;
  }
  return meta;
}

void save_model(const fs::path& path, const torch::nn::Module& module, ModelMeta meta) {
  MUDIT_CHECK(!meta.arch.empty(), CheckpointError, "save_model(", path.string(), "): no arch");
  meta.format = kModelFormat;
  meta.mudit_version = MUDIT_VERSION_STRING;
  meta.torch_version = TORCH_VERSION;
  save_module(path, module, meta.to_metadata());
}

ModelMeta read_model_meta(const fs::path& path) {
  SafetensorsReader reader(path);
  return ModelMeta::from_metadata(reader.metadata(), path.string());
}

ModelMeta load_model(const fs::path& path, torch::nn::Module& module, const std::string& arch,
                     int arch_rev, const LoadOptions& options) {
  TensorFile file = load_safetensors(path);
  ModelMeta meta = ModelMeta::from_metadata(file.metadata, path.string());
  MUDIT_CHECK(meta.arch == arch, CheckpointError, path.string(), ": holds a '", meta.arch,
              "' model, not '", arch, "'");
  MUDIT_CHECK(meta.arch_rev == arch_rev, CheckpointError, path.string(), ": '", arch,
              "' layout revision ", meta.arch_rev, " but this build uses revision ", arch_rev);
  with_context("loading " + path.string(),
               [&] { return load_state_dict(module, file.tensors, options); });
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Optimizer state

namespace {

enum class AdamKind { kAdam, kAdamW };

AdamKind adam_kind(const torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<const torch::optim::AdamW*>(&optimizer)) return AdamKind::kAdamW;
  if (dynamic_cast<const torch::optim::Adam*>(&optimizer)) return AdamKind::kAdam;
  MUDIT_THROW(CheckpointError, "optimizer state I/O supports Adam and AdamW only");
}

double group_lr(const torch::optim::OptimizerParamGroup& group, AdamKind kind) {
  if (kind == AdamKind::kAdamW) {
    return static_cast<const torch::optim::AdamWOptions&>(group.options()).lr();
  }
  return static_cast<const torch::optim::AdamOptions&>(group.options()).lr();
}

void set_group_lr(torch::optim::OptimizerParamGroup& group, AdamKind kind, double lr) {
  if (kind == AdamKind::kAdamW) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  } else {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

// The same fields exist on both state classes; one template reads and writes them.
template <class State>
void export_state(const State& s, const std::string& name, std::map<std::string, at::Tensor>& out) {
  out[name + ".step"] = at::scalar_tensor(static_cast<int64_t>(s.step()), at::kLong);
  out[name + ".exp_avg"] = s.exp_avg();
  out[name + ".exp_avg_sq"] = s.exp_avg_sq();
  if (s.max_exp_avg_sq().defined()) out[name + ".max_exp_avg_sq"] = s.max_exp_avg_sq();
}

template <class State>
std::unique_ptr<State> import_state(const std::string& name, const at::Tensor& param,
                                    const std::map<std::string, at::Tensor>& state) {
  auto find = [&](const std::string& key, bool required) -> at::Tensor {
    auto it = state.find(name + "." + key);
    if (it == state.end()) {
      MUDIT_CHECK(!required, CheckpointError, "optimizer state lacks ", name, ".", key);
      return {};
    }
    return it->second;
  };
  auto moments = [&](const std::string& key, bool required) -> at::Tensor {
    at::Tensor t = find(key, required);
    if (!t.defined()) return t;
    MUDIT_CHECK(t.sizes() == param.sizes(), CheckpointError, "optimizer state ", name, ".", key,
                " has shape ", t.sizes(), ", parameter has ", param.sizes());
    return t.to(param.device(), param.scalar_type()).clone();
  };
  auto s = std::make_unique<State>();
  const at::Tensor step = find("step", true);
  s->step(step.item<int64_t>());
  s->exp_avg(moments("exp_avg", true));
  s->exp_avg_sq(moments("exp_avg_sq", true));
  at::Tensor max_sq = moments("max_exp_avg_sq", false);
  if (max_sq.defined()) s->max_exp_avg_sq(max_sq);
  return s;
}

std::map<const c10::TensorImpl*, std::string> names_by_impl(
    const std::map<std::string, at::Tensor>& named_params) {
  std::map<const c10::TensorImpl*, std::string> out;
  for (const auto& [name, p] : named_params) out[p.unsafeGetTensorImpl()] = name;
  return out;
}

}  // namespace

std::map<std::string, at::Tensor> optimizer_state_dict(
    const torch::optim::Optimizer& optimizer,
    const std::map<std::string, at::Tensor>& named_params) {
  const AdamKind kind = adam_kind(optimizer);
  const auto names = names_by_impl(named_params);
  std::map<std::string, at::Tensor> out;
  const auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    out["group." + std::to_string(g) + ".lr"] =
        at::scalar_tensor(group_lr(groups[g], kind), at::kDouble);
    for (const auto& p : groups[g].params()) {
      auto n = names.find(p.unsafeGetTensorImpl());
      MUDIT_CHECK(n != names.end(), CheckpointError,
                  "optimizer holds a parameter that is not among the named parameters");
      auto it = optimizer.state().find(p.unsafeGetTensorImpl());
      if (it == optimizer.state().end()) continue;  // no step taken for it yet
      if (kind == AdamKind::kAdamW) {
        export_state(static_cast<const torch::optim::AdamWParamState&>(*it->second), n->second,
                     out);
      } else {
        export_state(static_cast<const torch::optim::AdamParamState&>(*it->second), n->second, out);
      }
    }
  }
  return out;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer,
                          const std::map<std::string, at::Tensor>& named_params,
                          const std::map<std::string, at::Tensor>& state) {
  const AdamKind kind = adam_kind(optimizer);
  const auto names = names_by_impl(named_params);
  std::set<std::string> expected_keys;
  auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string lr_key = "group." + std::to_string(g) + ".lr";
    auto lr = state.find(lr_key);
    MUDIT_CHECK(lr != state.end(), CheckpointError, "optimizer state lacks ", lr_key,
                " (a different number of parameter groups?)");
    expected_keys.insert(lr_key);
    set_group_lr(groups[g], kind, lr->second.item<double>());
    for (const auto& p : groups[g].params()) {
      auto n = names.find(p.unsafeGetTensorImpl());
      MUDIT_CHECK(n != names.end(), CheckpointError,
                  "optimizer holds a parameter that is not among the named parameters");
      const std::string& name = n->second;
      if (!state.count(name + ".step")) continue;
      for (const char* k : {".step", ".exp_avg", ".exp_avg_sq", ".max_exp_avg_sq"}) {
        expected_keys.insert(name + k);
      }
      void* key = p.unsafeGetTensorImpl();
      if (kind == AdamKind::kAdamW) {
        optimizer.state()[key] = import_state<torch::optim::AdamWParamState>(name, p, state);
      } else {
        optimizer.state()[key] = import_state<torch::optim::AdamParamState>(name, p, state);
      }
    }
  }
  for (const auto& [k, v] : state) {
    MUDIT_CHECK(expected_keys.count(k), CheckpointError, "optimizer state has '", k,
                "', which matches no parameter of the optimizer");
  }
}

// ---------------------------------------------------------------------------------------------
// The checkpoint folder

void CheckpointConfig::validate() const {
  MUDIT_CHECK(keep_last >= 0, ConfigError, "keep_last must be >= 0, got ", keep_last);
  MUDIT_CHECK(keep_every >= 0, ConfigError, "keep_every must be >= 0, got ", keep_every);
}

namespace {

constexpr const char* kStepPrefix = "step-";
constexpr const char* kPartialPrefix = ".partial-";
constexpr const char* kReplacedPrefix = ".replaced-";

std::optional<int64_t> parse_step(const std::string& name) {
  const std::string prefix = kStepPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0 || name.size() == prefix.size()) return {};
  int64_t step = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || step > (INT64_MAX - 9) / 10) return {};
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::string unique_tag() {
  static std::atomic<uint64_t> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

void fsync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  MUDIT_CHECK(fd >= 0, IoError, "cannot open ", p.string(), ": ", std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  MUDIT_CHECK(rc == 0, IoError, "cannot flush ", p.string(), ": ", std::strerror(errno));
}

void fsync_tree(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) fsync_file(e.path());
    if (e.is_directory()) fsync_directory(e.path());
  }
  fsync_directory(dir);
}

}  // namespace

CheckpointManager::CheckpointManager(fs::path root, CheckpointConfig config)
    : root_(std::move(root)), config_(config) {
  config_.validate();
}

fs::path CheckpointManager::dir(int64_t step) const {
  return root_ / (kStepPrefix + std::to_string(step));
}

std::vector<int64_t> CheckpointManager::steps() const {
  std::vector<int64_t> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& e : fs::directory_iterator(root_)) {
    if (!e.is_directory()) continue;
    if (auto s = parse_step(e.path().filename().string())) out.push_back(*s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<int64_t> CheckpointManager::latest() const {
  std::error_code ec;
  const fs::path pointer = root_ / "latest";
  if (fs::is_regular_file(pointer, ec)) {
    std::string text = read_file(pointer);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (auto s = parse_step(text); s && fs::is_directory(dir(*s), ec)) return s;
    log::warn(pointer.string(), " names '", text, "', which is not a complete checkpoint; ",
              "using the newest checkpoint folder instead");
  }
  const auto all = steps();
  if (all.empty()) return std::nullopt;
  return all.back();
}

fs::path CheckpointManager::resolve(std::optional<int64_t> step) const {
  auto describe = [&] {
    std::string have;
    for (int64_t s : steps()) have += (have.empty() ? "" : ", ") + std::to_string(s);
    return have.empty() ? std::string("none") : have;
  };
  if (step) {
    std::error_code ec;
    MUDIT_CHECK(fs::is_directory(dir(*step), ec), CheckpointError, "no checkpoint step-", *step,
                " in ", root_.string(), " (steps present: ", describe(), ")");
    return dir(*step);
  }
  const auto s = latest();
  MUDIT_CHECK(s.has_value(), CheckpointError, "no checkpoint to resume from in ", root_.string());
  return dir(*s);
}

size_t CheckpointManager::remove_partial() {
  size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return 0;
  for (const auto& e : fs::directory_iterator(root_)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kPartialPrefix, 0) == 0 || name.rfind(kReplacedPrefix, 0) == 0) {
      fs::remove_all(e.path(), ec);
      if (!ec) ++removed;
    }
  }
  if (removed)
    log::info("removed ", removed, " unfinished checkpoint folder(s) in ", root_.string());
  return removed;
}

fs::path CheckpointManager::save(int64_t step,
                                 const std::function<void(const fs::path& dir)>& write_files) {
  MUDIT_CHECK(step >= 0, CheckpointError, "checkpoint step must be >= 0, got ", step);
  std::error_code ec;
  fs::create_directories(root_, ec);
  MUDIT_CHECK(!ec, IoError, "cannot create ", root_.string(), ": ", ec.message());
  remove_partial();

  const fs::path partial = root_ / (kPartialPrefix + std::string(kStepPrefix) +
                                    std::to_string(step) + "-" + unique_tag());
  fs::create_directory(partial, ec);
  MUDIT_CHECK(!ec, IoError, "cannot create ", partial.string(), ": ", ec.message());
  try {
    write_files(partial);
    fsync_tree(partial);
  } catch (...) {
    fs::remove_all(partial, ec);
    throw;
  }

  const fs::path target = dir(step);
  fs::path replaced;
  if (fs::exists(target, ec)) {
    replaced = root_ / (kReplacedPrefix + std::string(kStepPrefix) + std::to_string(step) + "-" +
                        unique_tag());
    fs::rename(target, replaced, ec);
    MUDIT_CHECK(!ec, IoError, "cannot move aside ", target.string(), ": ", ec.message());
  }
  fs::rename(partial, target, ec);
  if (ec) {
    const std::string why = ec.message();
    if (!replaced.empty()) fs::rename(replaced, target, ec);
    fs::remove_all(partial, ec);
    MUDIT_THROW(IoError, "cannot publish checkpoint ", target.string(), ": ", why);
  }
  fsync_directory(root_);
  write_file_atomic(root_ / "latest", kStepPrefix + std::to_string(step) + "\n");
  if (!replaced.empty()) fs::remove_all(replaced, ec);
  prune(step);
  return target;
}

void CheckpointManager::prune(int64_t keep_step) {
  const auto all = steps();
  std::set<int64_t> keep = {keep_step};
  if (config_.keep_last == 0) return;
  for (size_t i = all.size() > static_cast<size_t>(config_.keep_last)
                      ? all.size() - static_cast<size_t>(config_.keep_last)
                      : 0;
       i < all.size(); ++i) {
    keep.insert(all[i]);
  }
  std::error_code ec;
  for (int64_t s : all) {
    if (keep.count(s) || (config_.keep_every > 0 && s % config_.keep_every == 0)) continue;
    fs::remove_all(dir(s), ec);
    if (ec) log::warn("cannot remove old checkpoint ", dir(s).string(), ": ", ec.message());
  }
}

}  // namespace mudit
