#include "mudit/models/convert.h"

#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"

namespace mudit {
namespace fs = std::filesystem;

namespace {

std::vector<char> read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  MUDIT_CHECK(in, IoError, "cannot open ", file.string());
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void flatten(const c10::IValue& value, const std::string& prefix,
             std::map<std::string, at::Tensor>& out) {
  if (value.isTensor()) {
    out[prefix] = value.toTensor();
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) {
      const std::string k =
          entry.key().isString() ? entry.key().toStringRef() : entry.key().tagKind();
      flatten(entry.value(), prefix.empty() ? k : prefix + "." + k, out);
    }
  }
  // Other values (ints, strings: optimizer steps, epochs) carry no weights.
}

// How to turn a checkpoint LibTorch cannot read into safetensors, once, in Python.
std::string export_hint(const fs::path& file, const std::string& key) {
  return "export it once with python -c \"import torch, safetensors.torch as st; "
         "st.save_file(torch.load('" +
         file.filename().string() + "', map_location='cpu')" +
         (key.empty() ? "" : "['" + key + "']") + ", '" + file.stem().string() + ".safetensors')\"";
}

}  // namespace

std::map<std::string, at::Tensor> read_foreign_checkpoint(const fs::path& file,
                                                          const std::string& key,
                                                          std::string* format) {
  const std::vector<char> bytes = read_bytes(file);
  std::map<std::string, at::Tensor> tensors;
  const bool zip = bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K';
  if (format) *format = zip ? "torch zip" : "safetensors";
  if (!zip) {
    MUDIT_CHECK(bytes.size() >= 9 && bytes[8] == '{', IoError, file.string(),
                " is neither safetensors nor a torch.save zip archive (a legacy torch pickle?): ",
                export_hint(file, key));
    tensors = load_safetensors(file).tensors;
  } else {
    c10::IValue root;
    try {
      root = torch::pickle_load(bytes);
    } catch (const c10::Error&) {
      // LibTorch's unpickler reads plain dicts of tensors but not OrderedDict state dicts.
      MUDIT_THROW(IoError, file.string(),
                  ": LibTorch cannot unpickle this archive (an OrderedDict state dict): ",
                  export_hint(file, key));
    }
    if (!key.empty() && root.isGenericDict()) {
      const auto dict = root.toGenericDict();
      for (const auto& entry : dict) {
        if (entry.key().isString() && entry.key().toStringRef() == key) root = entry.value();
      }
    }
    flatten(root, "", tensors);
  }
  if (!key.empty()) {
    // A safetensors export of the whole dict keeps "generator." in front of every name.
    std::map<std::string, at::Tensor> sub;
    for (const auto& [name, t] : tensors) {
      if (name.rfind(key + ".", 0) == 0) sub[name.substr(key.size() + 1)] = t;
    }
    if (!sub.empty()) tensors = std::move(sub);
  }
  MUDIT_CHECK(!tensors.empty(), DataError, file.string(), ": no tensors found");
  for (auto& [name, t] : tensors) t = t.contiguous();
  return tensors;
}

VocoderConfig vocoder_config_from_hifigan_json(const fs::path& config_json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(config_json));
  } catch (const nlohmann::json::exception& e) {
    MUDIT_THROW(DataError, config_json.string(), ": ", e.what());
  }
  VocoderConfig c;
  try {
    HifiganConfig& g = c.generator;
    g.resblock = j.at("resblock").is_string() ? j.at("resblock").get<std::string>()
                                              : std::to_string(j.at("resblock").get<int>());
    g.upsample_rates = j.at("upsample_rates").get<std::vector<int64_t>>();
    g.upsample_kernel_sizes = j.at("upsample_kernel_sizes").get<std::vector<int64_t>>();
    g.upsample_initial_channel = j.at("upsample_initial_channel").get<int64_t>();
    g.resblock_kernel_sizes = j.at("resblock_kernel_sizes").get<std::vector<int64_t>>();
    g.resblock_dilation_sizes =
        j.at("resblock_dilation_sizes").get<std::vector<std::vector<int64_t>>>();
    g.num_mels = j.value("num_mels", int64_t{80});
    MelConfig& m = c.mel;  // HiFi-GAN's meldataset conventions, the file's sizes
    m = MelConfig::hifigan_22k();
    m.sample_rate = j.value("sampling_rate", m.sample_rate);
    m.n_fft = j.value("n_fft", m.n_fft);
    m.hop_length = j.value("hop_size", m.hop_length);
    m.win_length = j.value("win_size", m.win_length);
    m.n_mels = g.num_mels;
    m.f_min = j.value("fmin", m.f_min);
    if (j.contains("fmax")) {
      if (j.at("fmax").is_null()) {
        m.f_max = std::nullopt;
      } else {
        m.f_max = j.at("fmax").get<double>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    MUDIT_THROW(DataError, config_json.string(), ": not a HiFi-GAN config: ", e.what());
  }
  with_context(config_json.string(), [&] { c.validate(); });
  return c;
}

VocoderConfig vocoder_preset(const std::string& name) {
  check_choice("vocoder preset", name, {"v1", "v2", "v3", "v1_large"});
  VocoderConfig cfg;
  cfg.generator = name == "v1"   ? HifiganConfig::v1()
                  : name == "v2" ? HifiganConfig::v2()
                  : name == "v3" ? HifiganConfig::v3()
                                 : HifiganConfig::v1_large();
  if (name == "v1_large") cfg.mel = MelConfig::mudit_24k();
  return cfg;
}

ConvertReport convert_hifigan(const fs::path& checkpoint, const VocoderConfig& config,
                              const fs::path& out, bool remove_weight_norm) {
  config.validate();
  ConvertReport r;
  const auto tensors = read_foreign_checkpoint(checkpoint, "generator", &r.format);
  HifiganGenerator g(config.generator);
  LoadOptions opts;
  opts.strip_prefixes = {"module."};
  with_context("loading " + checkpoint.string(), [&] { load_state_dict(*g, tensors, opts); });
  std::map<std::string, std::string> extra{{"mudit.source", checkpoint.filename().string()}};
  if (remove_weight_norm) {
    g->remove_weight_norm();
    extra["mudit.weight_norm"] = "removed";
  }
  save_vocoder(out, g, config, 0, extra);
  r.tensors = static_cast<int64_t>(tensors.size());
  r.parameters = count_parameters(*g);
  return r;
}

}  // namespace mudit
