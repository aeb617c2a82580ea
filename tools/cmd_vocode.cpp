// mudit vocode: mels (or audio, through the vocoder's mel recipe) to audio with HiFi-GAN.
#include <filesystem>
#include <memory>

#include "cli/codec_options.h"
#include "commands.h"
#include "mudit/audio/io.h"
#include "mudit/core/device.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/pipeline/codec.h"

namespace mudit::cli {

Runner setup_vocode(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string vocoder, input, out;
    CodecFlags codec_flags;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--vocoder", f->vocoder, "vocoder file or hifigan run (mudit convert hifigan)")
      ->required()
      ->type_name("FILE");
  app.add_option("--input", f->input,
                 "audio to resynthesise, or a .safetensors with a `mel` [M, N] tensor")
      ->required()
      ->type_name("FILE");
  app.add_option("--out", f->out, "audio file (.wav or .flac)")->required()->type_name("AUDIO");
  add_codec_options(app, f->codec_flags, true);
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    const ChunkConfig chunks = chunk_config(common, f->codec_flags);
    const auto write = write_options(f->codec_flags);
    // A bad input is named before the vocoder loads.
    if (std::filesystem::path(f->input).extension() == ".safetensors")
      SafetensorsReader(f->input).entry("mel");
    else
      audio::probe_audio(f->input);
    Vocoder vocoder = load_vocoder(resolve_model_file(f->vocoder), parse_device(common.device));
    std::unique_ptr<train::ProgressBar> bar;
    const int64_t samples = pipeline::vocode_file(vocoder, f->input, f->out, chunks, write,
                                                  chunk_progress(bar, "vocode"));
    if (bar) bar->finish();
    log::info("vocoded ", static_cast<double>(samples) / vocoder.config.mel.sample_rate, " s -> ",
              f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
