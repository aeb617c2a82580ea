#pragma once

// Files through a codec or a vocoder, in bounded memory: what `mudit encode`, `mudit decode`
// and `mudit vocode` do.
//
// A latents file is safetensors with `latents` [T', D] float32 and metadata: mudit.kind
// "latents", codec (kind), sample_rate, hop_length, samples (the audio's length, so decoding
// returns exactly it), normalized ("true" when divided by the codec's latent statistics) and
// source (the audio file).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "mudit/audio/io.h"
#include "mudit/models/codec.h"
#include "mudit/models/model_files.h"

namespace mudit::pipeline {

struct EncodeReport {
  int64_t samples = 0;  ///< audio samples at the codec's rate
  int64_t frames = 0;   ///< latent frames
  double seconds = 0;
  bool normalized = false;
};

/// Reads `audio_file` (any format, resampled to the codec's rate and adapted to its channels),
/// encodes it chunk by chunk and writes `latents_file` atomically. `normalize` divides by the
/// codec's latent statistics (a codec without them refuses: ConfigError).
EncodeReport encode_file(CodecImpl& codec, const std::filesystem::path& audio_file,
                         const std::filesystem::path& latents_file, const ChunkConfig& chunks,
                         bool normalize, const ChunkProgress& progress = {});

/// Reads a latents file (undoing its normalisation), decodes it chunk by chunk to its recorded
/// length and writes the audio atomically. A file from another kind of codec, sample rate, hop
/// or latent width is a DataError naming both.
int64_t decode_file(CodecImpl& codec, const std::filesystem::path& latents_file,
                    const std::filesystem::path& audio_file, const ChunkConfig& chunks,
                    const audio::AudioWriteOptions& write = {}, const ChunkProgress& progress = {});

/// Mel [M, N] -> audio [1, N * hop] through the generator, window by window (inference mode).
at::Tensor vocode_chunked(HifiganGenerator& generator, const at::Tensor& mel,
                          const ChunkConfig& chunks, int64_t sample_rate,
                          const ChunkProgress& progress = {});

/// Audio (resynthesised through the vocoder's mel recipe) or a safetensors file with a `mel`
/// [M, N] (or [1, M, N]) tensor -> audio file. Returns the samples written.
int64_t vocode_file(Vocoder& vocoder, const std::filesystem::path& input,
                    const std::filesystem::path& audio_file, const ChunkConfig& chunks,
                    const audio::AudioWriteOptions& write = {}, const ChunkProgress& progress = {});

}  // namespace mudit::pipeline
