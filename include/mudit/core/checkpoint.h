#pragma once

// Checkpoints: versioned model files, optimizer state, and the folder layout of a run:
//
//   run/checkpoints/step-1000/   model.safetensors, ema.safetensors, optimizer.safetensors,
//                                trainer.json, ... (whatever the trainer writes)
//   run/checkpoints/latest       "step-1000": the newest complete checkpoint
//
// A checkpoint folder appears in one rename after all its files are on disk, so a crash or a
// full disk mid-write never damages `latest` or the checkpoints before it.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mudit/core/state_dict.h"

namespace mudit {

/// The model-file format this build writes and the newest it reads.
inline constexpr int kModelFormat = 1;

/// The `__metadata__` of a mudit model file (DESIGN §7).
struct ModelMeta {
  int format = kModelFormat;  // mudit.format
  std::string arch;           // mudit.arch, e.g. "hifigan", "dit"
  int arch_rev = 1;           // mudit.arch_rev: bumped when the module layout changes
  std::string config;         // mudit.config: the model's resolved YAML
  int64_t step = 0;           // mudit.step
  std::string mudit_version;  // mudit.version (filled on save)
  std::string torch_version;  // mudit.torch_version (filled on save)
  std::map<std::string, std::string> extra;  // any other metadata, kept as is

  std::map<std::string, std::string> to_metadata() const;
  /// Parses metadata; throws CheckpointError for a file that is not a mudit model file or was
  /// written by a newer mudit (saying to upgrade). `source` names the file in errors.
  static ModelMeta from_metadata(const std::map<std::string, std::string>& metadata,
                                 const std::string& source);
};

/// Saves a module with its ModelMeta (versions filled in) atomically.
void save_model(const std::filesystem::path& path, const torch::nn::Module& module, ModelMeta meta);
/// Reads only the metadata of a model file.
ModelMeta read_model_meta(const std::filesystem::path& path);
/// Loads a model file into `module`, first checking that it holds `arch` at `arch_rev`
/// (CheckpointError otherwise). Returns the file's metadata.
ModelMeta load_model(const std::filesystem::path& path, torch::nn::Module& module,
                     const std::string& arch, int arch_rev, const LoadOptions& options = {});

/// Optimizer state as named tensors: for every parameter with state, `<name>.step`,
/// `<name>.exp_avg`, `<name>.exp_avg_sq` (and `<name>.max_exp_avg_sq` with amsgrad); plus
/// `group.<i>.lr`. Supports Adam and AdamW; `named_params` maps names to the optimizer's
/// parameters (usually module.named_parameters()). Throws CheckpointError otherwise.
std::map<std::string, at::Tensor> optimizer_state_dict(
    const torch::optim::Optimizer& optimizer,
    const std::map<std::string, at::Tensor>& named_params);
/// Restores what optimizer_state_dict() saved; strict about names and shapes.
void load_optimizer_state(torch::optim::Optimizer& optimizer,
                          const std::map<std::string, at::Tensor>& named_params,
                          const std::map<std::string, at::Tensor>& state);

/// Retention of a run's checkpoints.
struct CheckpointConfig {
  int64_t keep_last = 3;   // the newest N checkpoints are kept (0: keep all)
  int64_t keep_every = 0;  // also keep every step that is a multiple of K (0: none)

  template <class V>
  void visit(V& v) {
    v("keep_last", keep_last);
    v("keep_every", keep_every);
  }
  void validate() const;
};

/// The checkpoints of one run, in `root` (usually run/checkpoints). Only one process (rank 0)
/// should write.
class CheckpointManager {
 public:
  explicit CheckpointManager(std::filesystem::path root, CheckpointConfig config = {});

  /// Writes checkpoint `step`: `write_files` fills a fresh temporary folder; the manager flushes
  /// every file to disk, publishes the folder as step-N in one rename (replacing an older
  /// step-N), points `latest` at it and prunes. If `write_files` throws, nothing changes.
  /// Returns the published folder.
  std::filesystem::path save(
      int64_t step, const std::function<void(const std::filesystem::path& dir)>& write_files);

  /// Published steps, ascending.
  std::vector<int64_t> steps() const;
  /// The step `latest` names; when that file is missing or stale, the newest published step.
  std::optional<int64_t> latest() const;
  std::filesystem::path dir(int64_t step) const;
  /// The folder to resume from: `step` when given, else the latest. Throws CheckpointError
  /// naming what exists when there is nothing to resume from.
  std::filesystem::path resolve(std::optional<int64_t> step = std::nullopt) const;
  /// Removes folders left by interrupted saves; returns how many.
  size_t remove_partial();

  const std::filesystem::path& root() const { return root_; }

 private:
  void prune(int64_t keep_step);
  std::filesystem::path root_;
  CheckpointConfig config_;
};

}  // namespace mudit
