#include "cli/codec_options.h"

namespace mudit::cli {

void add_codec_options(CLI::App& app, CodecFlags& flags, bool audio_out) {
  app.add_option("--chunk-seconds", flags.chunk_seconds,
                 "window processed at once (chunks.chunk_seconds; default 30)")
      ->type_name("S");
  app.add_option("--overlap-seconds", flags.overlap_seconds,
                 "cross-faded overlap of neighbouring windows (chunks.overlap_seconds; default 3)")
      ->type_name("S");
  if (audio_out) {
    app.add_option("--encoding", flags.encoding, "pcm16, pcm24 or float32 (WAV)")
        ->capture_default_str();
  }
}

ChunkConfig chunk_config(const CommonOptions& common, const CodecFlags& flags) {
  auto c = bind_config<ChunkConfig>(resolve_config(common), "chunks");
  if (flags.chunk_seconds) c.chunk_seconds = *flags.chunk_seconds;
  if (flags.overlap_seconds) c.overlap_seconds = *flags.overlap_seconds;
  c.validate();
  return c;
}

audio::AudioWriteOptions write_options(const CodecFlags& flags) {
  audio::AudioWriteOptions w;
  w.encoding = flags.encoding;
  w.validate();
  return w;
}

ChunkProgress chunk_progress(std::unique_ptr<train::ProgressBar>& bar, const std::string& label) {
  return [&bar, label](int64_t done, int64_t total) {
    if (total <= 1) return;
    if (!bar) bar = std::make_unique<train::ProgressBar>(train::ProgressOptions{label, total});
    bar->update(done);
  };
}

}  // namespace mudit::cli
