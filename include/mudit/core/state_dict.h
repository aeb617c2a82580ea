#pragma once

// Module state by name, as PyTorch's state_dict: "blocks.0.attn.qkv.weight". Loading matches
// names (after optional renames) and reports every missing, unexpected, mis-shaped and mis-typed
// tensor at once.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mudit {

/// Parameters and buffers of `module` by state-dict name (the tensors themselves, not copies).
std::map<std::string, at::Tensor> state_dict(const torch::nn::Module& module);

/// Number of parameter elements of `module` (buffers excluded).
int64_t count_parameters(const torch::nn::Module& module);

/// How checkpoint names are matched to a module.
struct LoadOptions {
  /// Missing, unexpected, mis-shaped or mis-typed tensors are an error (and nothing is loaded).
  bool strict = true;
  /// Accept another floating dtype and convert (e.g. a bf16 checkpoint into an fp32 model);
  /// reported under `converted`. Integer/bool tensors never convert.
  bool convert_dtype = false;
  /// Prefixes removed from checkpoint names where present, in order ("module.", "generator.").
  std::vector<std::string> strip_prefixes;
  /// Prefix renames applied after stripping, in order: {"enc.", "encoder."}.
  std::vector<std::pair<std::string, std::string>> renames;
  /// A last, arbitrary mapping of checkpoint names (applied after the renames), or empty.
  std::function<std::string(const std::string&)> rename;
  /// Treat `X.weight_g` / `X.weight_v` and `X.parametrizations.weight.original0` / `original1`
  /// (PyTorch's two weight-norm layouts) as the same tensors.
  bool weight_norm_aliases = true;
};

/// What a load did. Names are the module's names, except `unexpected` (checkpoint names).
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the module, not in the checkpoint
  std::vector<std::string> unexpected;  // in the checkpoint, not in the module
  std::vector<std::string> mis_shaped;  // "name: checkpoint [a, b] vs module [c, d]"
  std::vector<std::string> mis_typed;   // "name: checkpoint BF16 vs module F32"
  std::vector<std::string> converted;   // dtype converted under convert_dtype

  /// Every module tensor loaded from a tensor of the right shape and type, none left over.
  bool complete() const;
  /// One line listing every problem: "2 missing (a, b); 1 unexpected (c)".
  std::string summary() const;
};

/// Copies `tensors` into the module's parameters and buffers by name, onto each one's device
/// (and dtype, under convert_dtype), without recording autograd history. In strict mode any
/// problem throws CheckpointError listing all of them and leaves the module unchanged; in
/// lenient mode whatever fits is loaded and the report says the rest.
LoadReport load_state_dict(torch::nn::Module& module,
                           const std::map<std::string, at::Tensor>& tensors,
                           const LoadOptions& options = {});

/// Saves the module's state dict to a safetensors file (atomically) with `metadata`.
void save_module(const std::filesystem::path& path, const torch::nn::Module& module,
                 const std::map<std::string, std::string>& metadata = {});

/// Loads a safetensors file into the module (see load_state_dict); errors name the file.
LoadReport load_module(const std::filesystem::path& path, torch::nn::Module& module,
                       const LoadOptions& options = {});

}  // namespace mudit
