#pragma once

// Weights from other projects into mudit model files (`mudit convert`).
//
// Official HiFi-GAN (jik876/hifi-gan) generator checkpoints `g_XXXXXXXX` are torch.save
// dictionaries {"generator": state_dict}. LibTorch's unpickler reads torch.save zip archives of
// plain dicts of tensors, but not the OrderedDict a state_dict() is, nor the legacy (pre-1.6)
// pickle format of the 2020 releases; export such a checkpoint to safetensors once:
//
//   python -c "import torch, safetensors.torch as st; st.save_file(torch.load('g_02500000', \
//     map_location='cpu')['generator'], 'g_02500000.safetensors')"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

#include "mudit/models/model_files.h"

namespace mudit {

/// The tensors of a foreign checkpoint: a safetensors file, or a torch.save zip archive holding
/// plain dicts of tensors (nested dicts are flattened with '.'). When the top level has `key` (e.g.
/// "generator"), only that entry is returned. `format` receives "safetensors" or "torch zip".
/// Throws IoError for anything LibTorch cannot read, with the Python one-liner that exports it.
std::map<std::string, at::Tensor> read_foreign_checkpoint(const std::filesystem::path& file,
                                                          const std::string& key = "",
                                                          std::string* format = nullptr);

/// A vocoder config from an official HiFi-GAN config.json: the generator fields (resblock,
/// upsample_rates, ...) and the mel recipe (sampling_rate, n_fft, hop_size, win_size,
/// num_mels, fmin, fmax) on top of HiFi-GAN's meldataset conventions.
VocoderConfig vocoder_config_from_hifigan_json(const std::filesystem::path& config_json);

/// A vocoder config by preset name: v1, v2, v3 (the 22.05 kHz HiFi-GAN recipe) or v1_large (the
/// MuDiT 24 kHz recipe). ConfigError naming the choices otherwise.
VocoderConfig vocoder_preset(const std::string& name);

struct ConvertReport {
  int64_t tensors = 0;
  int64_t parameters = 0;
  std::string format;  ///< "safetensors" or "torch zip"
};

/// Official generator weights + config -> a mudit vocoder file (strict: every tensor must fit).
/// With `remove_weight_norm` the weights are folded (faster inference; the file records it).
ConvertReport convert_hifigan(const std::filesystem::path& checkpoint, const VocoderConfig& config,
                              const std::filesystem::path& out, bool remove_weight_norm);

}  // namespace mudit
