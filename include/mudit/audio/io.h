#pragma once

// Reading and writing audio files (libsndfile), in files and in memory.
//
// Samples are float32 tensors [C, T] (channels first, like torchaudio) on the CPU, in [-1, 1]
// for integer formats. Reads accept WAV, FLAC, OGG (Vorbis, Opus), MP3 and the other formats
// libsndfile knows; writes produce WAV (16/24-bit PCM or 32-bit float), FLAC (16/24-bit) and
// Ogg Vorbis (lossy, for previews such as the evaluation report's players).
// Every failure is one IoError naming the file and the reason.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "mudit/audio/resample.h"

namespace mudit::audio {

/// Decoded audio: samples [C, T] float32 and their sample rate in Hz.
struct Audio {
  torch::Tensor samples;
  int sample_rate = 0;

  int64_t channels() const { return samples.defined() ? samples.size(0) : 0; }
  int64_t frames() const { return samples.defined() ? samples.size(1) : 0; }
  double duration() const { return sample_rate > 0 ? double(frames()) / sample_rate : 0.0; }
};

/// What a file holds, read from its header without decoding the samples.
struct AudioInfo {
  int channels = 0;
  int64_t frames = 0;
  int sample_rate = 0;
  double duration = 0;         ///< seconds
  std::string container;       ///< short name: "wav", "flac", "ogg", "mp3", "aiff", ...
  std::string container_name;  ///< libsndfile's description, e.g. "WAV (Microsoft)"
  std::string subtype;         ///< short name: "pcm16", "pcm24", "float32", "vorbis", "mp3", ...
  std::string subtype_name;    ///< libsndfile's description, e.g. "Signed 16 bit PCM"
};

/// How to read a file. The defaults return the file as it is.
struct AudioReadOptions {
  double offset = 0;    ///< seconds to skip from the start
  double duration = 0;  ///< seconds to read; 0 reads to the end
  int sample_rate = 0;  ///< resample to this rate; 0 keeps the file's rate
  int channels = 0;     ///< convert to this many channels (see convert_channels); 0 keeps them
  ResampleConfig resample;

  template <class V>
  void visit(V& v) {
    v("offset", offset);
    v("duration", duration);
    v("sample_rate", sample_rate);
    v("channels", channels);
    v("resample", resample);
  }
  void validate() const;
};

/// How to write a file or an in-memory encoding.
struct AudioWriteOptions {
  /// "wav", "flac", "ogg" (Vorbis), or "auto": from the file extension (.wav, .flac), WAV for
  /// encode_audio().
  std::string format = "auto";
  /// "pcm16", "pcm24" or "float32" (WAV only; FLAC stores integer PCM).
  std::string encoding = "pcm16";

  template <class V>
  void visit(V& v) {
    v("format", format);
    v("encoding", encoding);
  }
  void validate() const;
};

/// Reads an audio file. Throws IoError for a missing, unreadable, truncated, corrupt or
/// unsupported file ("cannot read audio 'x.wav': truncated: ..."), ConfigError for bad options.
Audio read_audio(const std::filesystem::path& path, const AudioReadOptions& options = {});

/// Reads a file's header: channels, frames, rate, duration, container and encoding.
/// Throws IoError like read_audio().
AudioInfo probe_audio(const std::filesystem::path& path);

/// Writes samples [C, T] (or [T] as mono) atomically: a temp file in the same folder renamed
/// over `path`, so a failed write leaves nothing behind. Integer PCM clips to [-1, 1] (a warning
/// reports how much was clipped); float32 keeps the values. Throws IoError when the file cannot
/// be written, ConfigError for bad options, DataError for NaN/Inf samples.
void write_audio(const std::filesystem::path& path, const torch::Tensor& samples, int sample_rate,
                 const AudioWriteOptions& options = {});

/// Encodes samples [C, T] into the bytes of a file (WAV unless options.format says "flac"),
/// e.g. for TensorBoard audio summaries. Same rules as write_audio().
std::string encode_audio(const torch::Tensor& samples, int sample_rate,
                         const AudioWriteOptions& options = {});

/// Decodes the bytes of an audio file held in memory. `source_name` names it in errors.
/// For float32 WAV, decode_audio(encode_audio(x)) returns x exactly.
Audio decode_audio(std::string_view bytes, const std::string& source_name = "<memory>",
                   const AudioReadOptions& options = {});

/// Converts samples [C, T] to `channels` channels: the same count returns the input, mono is
/// copied to every channel, several channels are averaged to mono. Other conversions (e.g. 6 to
/// 2) are not defined here and throw ShapeError.
torch::Tensor convert_channels(const torch::Tensor& samples, int64_t channels);

}  // namespace mudit::audio
