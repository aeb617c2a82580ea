#include "mudit/models/model_files.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

#include "mudit/audio/io.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/data/manifest.h"

namespace mudit {
namespace fs = std::filesystem;

void VocoderConfig::validate() const {
  generator.validate();
  mel.validate();
  MUDIT_CHECK(generator.num_mels == mel.n_mels && generator.hop_length() == mel.hop_length,
              ConfigError, "vocoder: the generator takes ", generator.num_mels, " mels at hop ",
              generator.hop_length(), " but the mel recipe has ", mel.n_mels, " at hop ",
              mel.hop_length);
}

fs::path resolve_model_file(const fs::path& path, const std::string& module) {
  MUDIT_CHECK(fs::exists(path), IoError, path.string(), ": no such file or folder");
  if (!fs::is_directory(path)) return path;
  const std::string name = module + ".safetensors";
  if (fs::exists(path / name)) return path / name;
  if (fs::is_directory(path / "checkpoints")) {
    CheckpointManager manager(path / "checkpoints");
    const fs::path dir = manager.resolve();
    MUDIT_CHECK(fs::exists(dir / name), CheckpointError, dir.string(), " has no ", name);
    return dir / name;
  }
  MUDIT_THROW(IoError, path.string(), ": neither a model file, a checkpoint folder with ", name,
              ", nor a run folder with checkpoints/");
}

ModelMeta load_trained(const fs::path& file, torch::nn::Module& module, const std::string& arch,
                       bool use_ema) {
  ModelMeta meta = load_model(file, module, arch, 1);
  const fs::path ema = file.parent_path() / "ema.safetensors";
  if (use_ema && file.filename() == "model.safetensors" && fs::exists(ema)) {
    LoadOptions lenient;
    lenient.strict = false;
    const LoadReport report = load_module(ema, module, lenient);
    MUDIT_CHECK(report.unexpected.empty() && report.mis_shaped.empty(), CheckpointError,
                ema.string(), " does not fit ", file.string(), ": ", report.summary());
    log::info("using the EMA weights of ", ema.string(), " (", report.loaded.size(), " tensors)");
  }
  return meta;
}

// --- vocoder files --------------------------------------------------------------------------

Vocoder load_vocoder(const fs::path& file, c10::Device device, bool use_ema) {
  return with_context("vocoder " + file.string(), [&] {
    const ModelMeta meta = read_model_meta(file);
    MUDIT_CHECK(meta.arch == "hifigan", CheckpointError, file.string(), ": holds a '", meta.arch,
                "' model, not a vocoder ('hifigan')");
    Vocoder v;
    v.config = bind_config<VocoderConfig>(parse_config_text(meta.config, file.string()));
    v.generator = HifiganGenerator(v.config.generator);
    // A file converted with the weight norm folded holds plain `weight`s.
    auto wn = meta.extra.find("mudit.weight_norm");
    if (wn != meta.extra.end() && wn->second == "removed") v.generator->remove_weight_norm();
    load_trained(file, *v.generator, "hifigan", use_ema);
    v.generator->to(device);
    v.generator->eval();
    return v;
  });
}

void save_vocoder(const fs::path& file, HifiganGenerator& generator, const VocoderConfig& config,
                  int64_t step, std::map<std::string, std::string> extra) {
  config.validate();
  ModelMeta meta;
  meta.arch = "hifigan";
  meta.config = dump_config(config);
  meta.step = step;
  meta.extra = std::move(extra);
  save_model(file, *generator, meta);
}

// --- codec files ----------------------------------------------------------------------------

namespace {

// A concrete codec's holder as the interface's.
template <class Holder>
Codec as_codec(const Holder& holder) {
  return Codec(std::static_pointer_cast<CodecImpl>(holder.ptr()));
}

struct CodecFileConfig {
  std::string kind;
  ConfigNode vae;
  ConfigNode vocoder;
  ConfigNode griffin_lim;  ///< set instead of `vocoder` for a mel VAE decoded by Griffin-Lim

  template <class V>
  void visit(V& v) {
    v("kind", kind);
    v("vae", vae);
    v("vocoder", vocoder);
    v("griffin_lim", griffin_lim);
  }
};

Codec build_codec(const CodecFileConfig& c) {
  if (c.kind == "wave_vae") return as_codec(WaveVAECodec(bind_config<WaveVAEConfig>(c.vae)));
  MUDIT_CHECK(c.kind == "mel_vae", CheckpointError, "codec kind '", c.kind,
              "' is neither wave_vae nor mel_vae");
  auto vae = bind_config<MelVAEConfig>(c.vae);
  if (!c.griffin_lim.is_null())
    return as_codec(MelVAECodec(std::move(vae), bind_config<GriffinLimConfig>(c.griffin_lim)));
  const auto vocoder = bind_config<VocoderConfig>(c.vocoder);
  return as_codec(MelVAECodec(std::move(vae), vocoder.generator));
}

}  // namespace

Codec load_codec(const fs::path& file, c10::Device device) {
  return with_context("codec " + file.string(), [&] {
    const ModelMeta meta = read_model_meta(file);
    Codec codec{nullptr};
    if (meta.arch == "wave_vae") {
      WaveVAECodec wave(bind_config<WaveVAEConfig>(parse_config_text(meta.config, file.string())));
      load_trained(file, *wave->vae(), "wave_vae", /*use_ema=*/true);
      codec = as_codec(wave);
      log::warn(file.string(), " is a wave VAE without latent statistics; latents stay ",
                "unnormalised (make a codec file with `mudit convert codec`)");
    } else {
      MUDIT_CHECK(meta.arch == "codec", CheckpointError, file.string(), ": holds a '", meta.arch,
                  "' model, not a codec",
                  meta.arch == "mel_vae" ? " (a mel VAE needs a vocoder: join them with `mudit "
                                           "convert codec --vae FILE --vocoder FILE`)"
                                         : "");
      const auto c = bind_config<CodecFileConfig>(parse_config_text(meta.config, file.string()));
      codec = build_codec(c);
      load_model(file, *codec, "codec", 1);
    }
    codec->to(device);
    codec->eval();
    return codec;
  });
}

void save_codec(const fs::path& file, CodecImpl& codec, int64_t step) {
  ConfigNode root = ConfigNode::map();
  root.set("kind", config_to_node(codec.kind()));
  if (auto* wave = dynamic_cast<WaveVAECodecImpl*>(&codec)) {
    root.set("vae", config_to_node(wave->vae()->config()));
  } else if (auto* mel = dynamic_cast<MelVAECodecImpl*>(&codec)) {
    root.set("vae", config_to_node(mel->vae()->config()));
    if (mel->griffin_lim()) {
      root.set("griffin_lim", config_to_node(*mel->griffin_lim()));
    } else {
      VocoderConfig v;
      v.generator = mel->vocoder()->config();
      v.mel = mel->vae()->config().mel;
      root.set("vocoder", config_to_node(v));
    }
  } else {
    MUDIT_THROW(ConfigError, "save_codec: unknown codec kind '", codec.kind(), "'");
  }
  ModelMeta meta;
  meta.arch = "codec";
  meta.config = to_yaml(root);
  meta.step = step;
  meta.extra["mudit.latent_stats_frames"] = std::to_string(codec.latent_stats_frames());
  save_model(file, codec, meta);
}

Codec codec_from_parts(const fs::path& vae, const fs::path& vocoder, bool use_ema,
                       c10::Device device) {
  const fs::path vae_file = resolve_model_file(vae);
  const ModelMeta meta = read_model_meta(vae_file);
  Codec codec{nullptr};
  if (meta.arch == "wave_vae") {
    MUDIT_CHECK(vocoder.empty(), ConfigError, "a wave VAE decodes to audio itself; drop --vocoder");
    auto wave =
        WaveVAECodec(bind_config<WaveVAEConfig>(parse_config_text(meta.config, vae_file.string())));
    load_trained(vae_file, *wave->vae(), "wave_vae", use_ema);
    codec = as_codec(wave);
  } else {
    MUDIT_CHECK(meta.arch == "mel_vae", CheckpointError, vae_file.string(), ": holds a '",
                meta.arch, "' model, not a wave_vae or mel_vae");
    MUDIT_CHECK(!vocoder.empty(), ConfigError,
                "a mel VAE needs a vocoder: add --vocoder FILE|RUN|griffin_lim");
    auto vae_cfg = bind_config<MelVAEConfig>(parse_config_text(meta.config, vae_file.string()));
    if (vocoder == kGriffinLimVocoder) {
      auto mel = MelVAECodec(std::move(vae_cfg), GriffinLimConfig{});
      load_trained(vae_file, *mel->vae(), "mel_vae", use_ema);
      codec = as_codec(mel);
    } else {
      const Vocoder v = load_vocoder(resolve_model_file(vocoder), c10::kCPU, use_ema);
      MUDIT_CHECK(v.config.mel.sample_rate == vae_cfg.mel.sample_rate &&
                      v.config.mel.n_mels == vae_cfg.mel.n_mels &&
                      v.config.mel.hop_length == vae_cfg.mel.hop_length,
                  ConfigError, "the vocoder was trained on ", v.config.mel.n_mels, " mels at ",
                  v.config.mel.sample_rate, " Hz, hop ", v.config.mel.hop_length,
                  "; the mel VAE uses ", vae_cfg.mel.n_mels, " at ", vae_cfg.mel.sample_rate,
                  " Hz, hop ", vae_cfg.mel.hop_length);
      auto mel = MelVAECodec(std::move(vae_cfg), v.generator->config());
      load_trained(vae_file, *mel->vae(), "mel_vae", use_ema);
      load_state_dict(*mel->vocoder(), state_dict(*v.generator));
      codec = as_codec(mel);
    }
  }
  codec->to(device);
  codec->eval();
  return codec;
}

// --- latent statistics ----------------------------------------------------------------------

LatentStatsReport compute_latent_stats(CodecImpl& codec, const fs::path& manifest,
                                       const std::string& split, int64_t max_songs,
                                       const ChunkConfig& chunks,
                                       const std::function<void(int64_t, int64_t)>& progress) {
  std::vector<data::ManifestEntry> songs;
  for (auto& e : data::read_manifest(manifest)) {
    if (split == "all" || e.split == split) songs.push_back(std::move(e));
  }
  if (max_songs > 0 && static_cast<int64_t>(songs.size()) > max_songs) songs.resize(max_songs);
  MUDIT_CHECK(!songs.empty(), DataError, manifest.string(), ": no songs in split '", split, "'");
  // Sums in float64 so millions of frames add up without loss.
  at::Tensor sum = at::zeros({codec.latent_dim()}, at::kDouble);
  at::Tensor sq = at::zeros({codec.latent_dim()}, at::kDouble);
  LatentStatsReport report;
  std::string first_error;
  audio::AudioReadOptions read;
  read.sample_rate = static_cast<int>(codec.sample_rate());
  read.channels = static_cast<int>(codec.channels());
  for (size_t i = 0; i < songs.size(); ++i) {
    try {
      const audio::Audio a = audio::read_audio(data::resolve_audio(songs[i], manifest), read);
      const at::Tensor z = encode_chunked(codec, a.samples, chunks).to(at::kDouble);  // [T', D]
      sum += z.sum(0);
      sq += z.pow(2).sum(0);
      report.frames += z.size(0);
      report.seconds += a.duration();
      ++report.songs;
    } catch (const IoError& e) {
      if (report.skipped++ == 0) first_error = e.what();
    }
    if (progress) progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(songs.size()));
  }
  if (report.skipped > 0) {
    log::warn("latent statistics: skipped ", report.skipped,
              " unreadable song(s); first: ", first_error);
  }
  MUDIT_CHECK(report.frames > 1, DataError, manifest.string(),
              ": no readable audio for latent statistics");
  const double n = static_cast<double>(report.frames);
  const at::Tensor mean = sum / n;
  const at::Tensor var = (sq / n - mean * mean).clamp_min(0) * (n / (n - 1));
  codec.set_latent_stats(mean.to(at::kFloat), var.sqrt().clamp_min(1e-5).to(at::kFloat),
                         report.frames);
  return report;
}

}  // namespace mudit
