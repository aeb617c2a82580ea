// Flags shared by the commands that run a codec or vocoder over files (encode, decode, vocode).
#pragma once

#include <optional>

#include "cli/cli.h"
#include "mudit/audio/io.h"
#include "mudit/models/codec.h"
#include "mudit/train/progress.h"

namespace mudit::cli {

struct CodecFlags {
  std::optional<double> chunk_seconds, overlap_seconds;
  std::string encoding = "pcm16";
};

/// --chunk-seconds, --overlap-seconds (the `chunks:` config section) and, when `audio_out`,
/// --encoding for the written audio.
void add_codec_options(CLI::App& app, CodecFlags& flags, bool audio_out);
/// The `chunks:` section of the config with the flags on top.
ChunkConfig chunk_config(const CommonOptions& common, const CodecFlags& flags);
audio::AudioWriteOptions write_options(const CodecFlags& flags);
/// A progress bar over chunks, drawn once there is more than one.
ChunkProgress chunk_progress(std::unique_ptr<train::ProgressBar>& bar, const std::string& label);

}  // namespace mudit::cli
