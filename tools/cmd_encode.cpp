// mudit encode | decode: audio files to codec latents and back, chunk by chunk.
#include <memory>

#include "cli/codec_options.h"
#include "commands.h"
#include "mudit/audio/io.h"
#include "mudit/core/device.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/pipeline/codec.h"

namespace mudit::cli {

Runner setup_encode(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string codec, input, out;
    bool raw = false;
    CodecFlags codec_flags;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--codec", f->codec, "codec file (mudit convert codec) or wave VAE run/file")
      ->required()
      ->type_name("FILE");
  app.add_option("--input", f->input, "audio file (any rate and channel count)")
      ->required()
      ->type_name("AUDIO");
  app.add_option("--out", f->out, "latents file (.safetensors)")->required()->type_name("FILE");
  app.add_flag("--raw", f->raw,
               "keep the latents unnormalised (default: normalise with the "
               "codec's latent statistics when it has them)");
  add_codec_options(app, f->codec_flags, false);
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    const ChunkConfig chunks = chunk_config(common, f->codec_flags);
    audio::probe_audio(f->input);  // a bad input is named before the codec loads
    Codec codec = load_codec(resolve_model_file(f->codec), parse_device(common.device));
    std::unique_ptr<train::ProgressBar> bar;
    const bool normalize = !f->raw && codec->has_latent_stats();
    const auto r = pipeline::encode_file(*codec, f->input, f->out, chunks, normalize,
                                         chunk_progress(bar, "encode"));
    if (bar) bar->finish();
    log::info("encoded ", r.seconds, " s into ", r.frames, " latent frames [", r.frames, ", ",
              codec->latent_dim(), "]", r.normalized ? " (normalised)" : " (raw)", " -> ", f->out);
    return kOk;
  };
}

Runner setup_decode(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string codec, input, out;
    CodecFlags codec_flags;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--codec", f->codec, "the codec that made the latents")
      ->required()
      ->type_name("FILE");
  app.add_option("--input", f->input, "latents file (mudit encode, mudit sample)")
      ->required()
      ->type_name("FILE");
  app.add_option("--out", f->out, "audio file (.wav or .flac)")->required()->type_name("AUDIO");
  add_codec_options(app, f->codec_flags, true);
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    const ChunkConfig chunks = chunk_config(common, f->codec_flags);
    const auto write = write_options(f->codec_flags);
    SafetensorsReader(f->input).entry("latents");  // named before the codec loads
    Codec codec = load_codec(resolve_model_file(f->codec), parse_device(common.device));
    std::unique_ptr<train::ProgressBar> bar;
    const int64_t samples = pipeline::decode_file(*codec, f->input, f->out, chunks, write,
                                                  chunk_progress(bar, "decode"));
    if (bar) bar->finish();
    log::info("decoded ", static_cast<double>(samples) / static_cast<double>(codec->sample_rate()),
              " s -> ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
