#pragma once

// Model files of the codec stage (safetensors with mudit's metadata, DESIGN §7), and how they
// come out of training runs:
//
//   vocoder file  arch "hifigan":  generator weights (`ups.N`, `resblocks.N.convs1.M`, ...) and
//                 mudit.config {generator: HifiganConfig, mel: MelConfig}. A "hifigan" run's
//                 checkpoints/step-N/model.safetensors is one; `mudit convert hifigan` makes one
//                 from an official checkpoint.
//   codec file    arch "codec": `vae.*` (+ `vocoder.*`) and the latent statistics, with
//                 mudit.config {kind: wave_vae | mel_vae, vae: ..., vocoder: VocoderConfig}.
//                 `mudit convert codec` makes one from trained runs.
//   VAE file      arch "wave_vae" / "mel_vae": a VAE run's model.safetensors (config = the VAE's).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "mudit/audio/features.h"
#include "mudit/core/checkpoint.h"
#include "mudit/models/codec.h"
#include "mudit/models/hifigan.h"

namespace mudit {

/// What a vocoder file's config holds: the generator and the mel recipe it was trained on.
struct VocoderConfig {
  HifiganConfig generator = HifiganConfig::v1();
  MelConfig mel = MelConfig::hifigan_22k();

  template <class V>
  void visit(V& v) {
    v("generator", generator);
    v("mel", mel);
  }
  /// Also checks that the generator takes the recipe's mels at its hop.
  void validate() const;
};

struct Vocoder {
  HifiganGenerator generator{nullptr};
  VocoderConfig config;
};

/// The file a path names: a file as it is; a checkpoint folder's `<module>.safetensors`; a run
/// folder's latest checkpoint's. Throws IoError / CheckpointError saying what is missing.
std::filesystem::path resolve_model_file(const std::filesystem::path& path,
                                         const std::string& module = "model");

/// Loads a module's weights from a model file of `arch`, then, when `use_ema` and the file's
/// folder has an ema.safetensors, the averaged weights over them. Returns the file's metadata.
ModelMeta load_trained(const std::filesystem::path& file, torch::nn::Module& module,
                       const std::string& arch, bool use_ema);

/// Reads a vocoder file (arch "hifigan") onto `device`, in eval mode.
Vocoder load_vocoder(const std::filesystem::path& file, c10::Device device = c10::kCPU,
                     bool use_ema = true);
void save_vocoder(const std::filesystem::path& file, HifiganGenerator& generator,
                  const VocoderConfig& config, int64_t step = 0,
                  std::map<std::string, std::string> extra = {});

/// Reads a codec file (arch "codec"), or a wave VAE file (arch "wave_vae": no latent
/// statistics), onto `device`, in eval mode. A mel VAE file alone is refused (it needs a
/// vocoder: make a codec file with `mudit convert codec`).
Codec load_codec(const std::filesystem::path& file, c10::Device device = c10::kCPU);
void save_codec(const std::filesystem::path& file, CodecImpl& codec, int64_t step = 0);

/// What `vocoder` names in codec_from_parts() for a mel VAE decoded by Griffin-Lim.
inline constexpr const char* kGriffinLimVocoder = "griffin_lim";

/// A codec from trained parts: a wave VAE or mel VAE file (or run), plus for a mel VAE a
/// vocoder file (or run), or kGriffinLimVocoder (32 iterations, momentum 0.99, no weights). EMA
/// weights are used where the checkpoints have them and `use_ema`.
Codec codec_from_parts(const std::filesystem::path& vae, const std::filesystem::path& vocoder,
                       bool use_ema, c10::Device device = c10::kCPU);

/// What compute_latent_stats() measured.
struct LatentStatsReport {
  int64_t songs = 0;
  int64_t skipped = 0;  ///< unreadable songs (counted, named in the log)
  int64_t frames = 0;
  double seconds = 0;
};

/// Per-channel mean and std of the codec's latents over the songs of `split` ("all": every
/// one) of a manifest (at most `max_songs`, 0: all), encoded in chunks; stored in the codec.
/// Throws DataError when no song could be read.
LatentStatsReport compute_latent_stats(CodecImpl& codec, const std::filesystem::path& manifest,
                                       const std::string& split, int64_t max_songs,
                                       const ChunkConfig& chunks,
                                       const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mudit
