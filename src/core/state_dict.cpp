#include "mudit/core/state_dict.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <set>
#include <sstream>

#include "mudit/core/error.h"
#include "mudit/core/safetensors.h"

namespace mudit {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string mapped_name(std::string name, const LoadOptions& o) {
  for (const auto& p : o.strip_prefixes) {
    if (starts_with(name, p)) name = name.substr(p.size());
  }
  for (const auto& [from, to] : o.renames) {
    if (starts_with(name, from)) name = to + name.substr(from.size());
  }
  if (o.rename) name = o.rename(name);
  return name;
}

// The other weight-norm spelling of `name`, or "" when it has none.
std::string weight_norm_alias(const std::string& name) {
  static const std::pair<std::string, std::string> kPairs[] = {
      {"weight_g", "parametrizations.weight.original0"},
      {"weight_v", "parametrizations.weight.original1"}};
  // Matches the whole name or a dotted last component ("ups.0.weight_g").
  auto swap = [&](const std::string& from, const std::string& to) -> std::string {
    if (name == from) return to;
    if (ends_with(name, "." + from)) return name.substr(0, name.size() - from.size()) + to;
    return "";
  };
  for (const auto& [legacy, modern] : kPairs) {
    if (auto s = swap(legacy, modern); !s.empty()) return s;
    if (auto s = swap(modern, legacy); !s.empty()) return s;
  }
  return "";
}

std::string shape_str(at::IntArrayRef s) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  out << ']';
  return out.str();
}

std::string dtype_str(c10::ScalarType t) {
  try {
    return safetensors_dtype_name(t);
  } catch (const Error&) {
    return c10::toString(t);
  }
}

void append_list(std::ostringstream& out, bool& first, const char* label,
                 const std::vector<std::string>& items) {
  if (items.empty()) return;
  out << (first ? "" : "; ") << items.size() << ' ' << label << " (";
  for (size_t i = 0; i < items.size(); ++i) out << (i ? ", " : "") << items[i];
  out << ')';
  first = false;
}

}  // namespace

std::map<std::string, at::Tensor> state_dict(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) out[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) out[item.key()] = item.value();
  return out;
}

bool LoadReport::complete() const {
  return missing.empty() && unexpected.empty() && mis_shaped.empty() && mis_typed.empty();
}

std::string LoadReport::summary() const {
  std::ostringstream out;
  bool first = true;
  append_list(out, first, "missing", missing);
  append_list(out, first, "unexpected", unexpected);
  append_list(out, first, "mis-shaped", mis_shaped);
  append_list(out, first, "mis-typed", mis_typed);
  if (first) out << loaded.size() << " tensors loaded";
  return out.str();
}

LoadReport load_state_dict(torch::nn::Module& module,
                           const std::map<std::string, at::Tensor>& tensors,
                           const LoadOptions& options) {
  std::map<std::string, at::Tensor> targets = state_dict(module);
  LoadReport report;
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;  // (target, source)
  std::set<std::string> used;

  for (const auto& [raw, source] : tensors) {
    std::string name = mapped_name(raw, options);
    if (!targets.count(name) && options.weight_norm_aliases) {
      const std::string alias = weight_norm_alias(name);
      if (!alias.empty() && targets.count(alias)) name = alias;
    }
    auto it = targets.find(name);
    if (it == targets.end()) {
      report.unexpected.push_back(raw);
      continue;
    }
    MUDIT_CHECK(used.insert(name).second, CheckpointError, "checkpoint tensors '", raw,
                "' and another both map to '", name, "'");
    const at::Tensor& target = it->second;
    if (source.sizes() != target.sizes()) {
      report.mis_shaped.push_back(name + ": checkpoint " + shape_str(source.sizes()) +
                                  " vs module " + shape_str(target.sizes()));
      continue;
    }
    if (source.scalar_type() != target.scalar_type()) {
      if (options.convert_dtype && source.is_floating_point() && target.is_floating_point()) {
        report.converted.push_back(name + ": " + dtype_str(source.scalar_type()) + " -> " +
                                   dtype_str(target.scalar_type()));
      } else {
        report.mis_typed.push_back(name + ": checkpoint " + dtype_str(source.scalar_type()) +
                                   " vs module " + dtype_str(target.scalar_type()));
        continue;
      }
    }
    copies.emplace_back(target, source);
    report.loaded.push_back(name);
  }
  for (const auto& [name, t] : targets) {
    if (!used.count(name)) report.missing.push_back(name);
  }

  if (options.strict && !report.complete()) {
    MUDIT_THROW(CheckpointError, "state dict does not fit the module: ", report.summary());
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) target.copy_(source);
  return report;
}

void save_module(const std::filesystem::path& path, const torch::nn::Module& module,
                 const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, state_dict(module), metadata);
}

LoadReport load_module(const std::filesystem::path& path, torch::nn::Module& module,
                       const LoadOptions& options) {
  return with_context("loading " + path.string(), [&] {
    return load_state_dict(module, load_safetensors(path).tensors, options);
  });
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace mudit
