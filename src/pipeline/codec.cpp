#include "mudit/pipeline/codec.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

#include "mudit/audio/overlap_add.h"
#include "mudit/core/error.h"
#include "mudit/core/safetensors.h"

namespace mudit::pipeline {
namespace fs = std::filesystem;

namespace {

std::string meta_at(const std::map<std::string, std::string>& meta, const std::string& key,
                    const fs::path& file) {
  auto it = meta.find(key);
  MUDIT_CHECK(it != meta.end(), DataError, file.string(), ": not a latents file (no '", key,
              "' in its metadata)");
  return it->second;
}

}  // namespace

EncodeReport encode_file(CodecImpl& codec, const fs::path& audio_file, const fs::path& latents_file,
                         const ChunkConfig& chunks, bool normalize, const ChunkProgress& progress) {
  MUDIT_CHECK(!normalize || codec.has_latent_stats(), ConfigError,
              "this codec has no latent statistics to normalise with (make a codec file with ",
              "`mudit convert codec`, or pass --raw)");
  audio::AudioReadOptions read;
  read.sample_rate = static_cast<int>(codec.sample_rate());
  read.channels = static_cast<int>(codec.channels());
  const audio::Audio a = audio::read_audio(audio_file, read);
  at::Tensor z = encode_chunked(codec, a.samples, chunks, progress);  // [T', D]
  if (normalize) z = codec.normalize(z);
  EncodeReport r;
  r.samples = a.frames();
  r.frames = z.size(0);
  r.seconds = a.duration();
  r.normalized = normalize;
  save_safetensors(latents_file, {{"latents", z}},
                   {{"mudit.kind", "latents"},
                    {"codec", codec.kind()},
                    {"sample_rate", std::to_string(codec.sample_rate())},
                    {"hop_length", std::to_string(codec.hop_length())},
                    {"samples", std::to_string(r.samples)},
                    {"normalized", normalize ? "true" : "false"},
                    {"source", audio_file.string()}});
  return r;
}

int64_t decode_file(CodecImpl& codec, const fs::path& latents_file, const fs::path& audio_file,
                    const ChunkConfig& chunks, const audio::AudioWriteOptions& write,
                    const ChunkProgress& progress) {
  const TensorFile f = load_safetensors(latents_file);
  const std::string kind = meta_at(f.metadata, "codec", latents_file);
  const int64_t rate = std::stoll(meta_at(f.metadata, "sample_rate", latents_file));
  const int64_t hop = std::stoll(meta_at(f.metadata, "hop_length", latents_file));
  MUDIT_CHECK(kind == codec.kind() && rate == codec.sample_rate() && hop == codec.hop_length(),
              DataError, latents_file.string(), " was made by a ", kind, " codec at ", rate,
              " Hz, hop ", hop, "; this codec is ", codec.kind(), " at ", codec.sample_rate(),
              " Hz, hop ", codec.hop_length());
  auto it = f.tensors.find("latents");
  MUDIT_CHECK(
      it != f.tensors.end() && it->second.dim() == 2 && it->second.size(1) == codec.latent_dim(),
      DataError, latents_file.string(), ": expected `latents` [T', ", codec.latent_dim(), "]");
  at::Tensor z = it->second.to(at::kFloat);
  if (meta_at(f.metadata, "normalized", latents_file) == "true") {
    MUDIT_CHECK(codec.has_latent_stats(), DataError, latents_file.string(),
                " holds normalised latents but this codec has no latent statistics");
    z = codec.denormalize(z);
  }
  at::Tensor wav = decode_chunked(codec, z, chunks, progress);  // [C, T' * hop]
  const int64_t samples =
      std::min<int64_t>(wav.size(1), std::stoll(meta_at(f.metadata, "samples", latents_file)));
  audio::write_audio(audio_file, wav.slice(1, 0, samples).clamp(-1.0, 1.0),
                     static_cast<int>(codec.sample_rate()), write);
  return samples;
}

at::Tensor vocode_chunked(HifiganGenerator& generator, const at::Tensor& mel,
                          const ChunkConfig& chunks, int64_t sample_rate,
                          const ChunkProgress& progress) {
  MUDIT_CHECK(mel.dim() == 2 && mel.size(0) == generator->config().num_mels, ShapeError,
              "vocoding expects a mel [", generator->config().num_mels, ", N], got ", mel.sizes());
  chunks.validate();
  c10::InferenceMode guard;
  const int64_t hop = generator->config().hop_length();
  const double frame_rate = static_cast<double>(sample_rate) / static_cast<double>(hop);
  OverlapAddPlan plan;
  plan.units = mel.size(1);
  plan.window = std::max<int64_t>(2, std::llround(chunks.chunk_seconds * frame_rate));
  plan.overlap =
      std::min<int64_t>(plan.window - 1, std::llround(chunks.overlap_seconds * frame_rate));
  plan.out_per_unit = hop;
  const c10::Device device = generator->parameters().front().device();
  return overlap_add(
      plan,
      [&](int64_t start, int64_t length) {
        const at::Tensor m = mel.slice(1, start, start + length).unsqueeze(0).to(device);
        return generator(m).squeeze(0);  // [1, length * hop]
      },
      progress);
}

int64_t vocode_file(Vocoder& vocoder, const fs::path& input, const fs::path& audio_file,
                    const ChunkConfig& chunks, const audio::AudioWriteOptions& write,
                    const ChunkProgress& progress) {
  const MelConfig& recipe = vocoder.config.mel;
  at::Tensor mel;
  int64_t samples = -1;
  if (input.extension() == ".safetensors") {
    const TensorFile f = load_safetensors(input);
    auto it = f.tensors.find("mel");
    MUDIT_CHECK(it != f.tensors.end(), DataError, input.string(), ": no `mel` tensor to vocode");
    mel = it->second.to(at::kFloat);
    if (mel.dim() == 3 && mel.size(0) == 1) mel = mel.squeeze(0);
  } else {
    audio::AudioReadOptions read;
    read.sample_rate = static_cast<int>(recipe.sample_rate);
    read.channels = 1;
    const audio::Audio a = audio::read_audio(input, read);
    c10::InferenceMode guard;
    mel = MelSpectrogram(recipe)(a.samples.select(0, 0));  // [M, N]
    samples = a.frames();
  }
  at::Tensor wav = vocode_chunked(vocoder.generator, mel, chunks, recipe.sample_rate, progress);
  if (samples >= 0 && samples < wav.size(1)) wav = wav.slice(1, 0, samples);
  audio::write_audio(audio_file, wav.clamp(-1.0, 1.0), static_cast<int>(recipe.sample_rate), write);
  return wav.size(1);
}

}  // namespace mudit::pipeline
