// mudit convert hifigan | codec | hf-bert: foreign checkpoints and trained runs into mudit model
// files.
#include <memory>

#include "cli/codec_options.h"
#include "commands.h"
#include "mudit/core/device.h"
#include "mudit/core/log.h"
#include "mudit/models/convert.h"
#include "mudit/models/model_files.h"

namespace mudit::cli {
namespace {

Runner setup_hifigan(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string checkpoint, config_json, preset, out;
    bool remove_wn = false;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("checkpoint", f->checkpoint,
                 "official generator g_XXXXXXXX (torch zip) or its safetensors export")
      ->required();
  app.add_option("--hifigan-config", f->config_json, "the checkpoint's official config.json")
      ->type_name("JSON");
  app.add_option("--preset", f->preset, "instead of a config.json: v1, v2, v3 or v1_large");
  app.add_option("--out", f->out, "mudit vocoder file")->required()->type_name("FILE");
  app.add_flag("--remove-weight-norm", f->remove_wn, "fold the weight norm (inference only)");
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    MUDIT_CHECK(f->config_json.empty() != f->preset.empty(), ConfigError,
                "give the checkpoint's --hifigan-config config.json or a --preset");
    const VocoderConfig cfg = f->config_json.empty()
                                  ? vocoder_preset(f->preset)
                                  : vocoder_config_from_hifigan_json(f->config_json);
    const auto r = convert_hifigan(f->checkpoint, cfg, f->out, f->remove_wn);
    log::info("converted ", r.tensors, " tensors (", r.format, "; ", r.parameters / 1e6,
              " M parameters) -> ", f->out);
    return kOk;
  };
}

Runner setup_codec(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string vae, vocoder, manifest, split = "train", out;
    int64_t max_songs = 0;
    bool no_ema = false;
    CodecFlags codec_flags;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--vae", f->vae, "wave_vae or mel_vae run, checkpoint folder or model file")
      ->required()
      ->type_name("PATH");
  app.add_option("--vocoder", f->vocoder,
                 "for a mel VAE: hifigan run, vocoder file, or griffin_lim (no weights)")
      ->type_name("PATH");
  app.add_option("--manifest", f->manifest, "songs to measure the latent statistics on")
      ->required()
      ->type_name("JSONL");
  app.add_option("--split", f->split, "manifest split (\"all\": every song)")
      ->capture_default_str();
  app.add_option("--max-songs", f->max_songs, "at most N songs (0: all)")->capture_default_str();
  app.add_flag("--no-ema", f->no_ema, "use the raw weights even where EMA weights exist");
  app.add_option("--out", f->out, "codec file")->required()->type_name("FILE");
  add_codec_options(app, f->codec_flags, false);
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    const ChunkConfig chunks = chunk_config(common, f->codec_flags);
    Codec codec = codec_from_parts(f->vae, f->vocoder, !f->no_ema, parse_device(common.device));
    std::unique_ptr<train::ProgressBar> bar;
    const auto r = compute_latent_stats(*codec, f->manifest, f->split, f->max_songs, chunks,
                                        chunk_progress(bar, "latent stats"));
    if (bar) bar->finish();
    save_codec(f->out, *codec, read_model_meta(resolve_model_file(f->vae)).step);
    log::info(codec->kind(), " codec: latent statistics over ", r.songs, " songs (", r.seconds,
              " s, ", r.frames, " frames",
              r.skipped ? ", " + std::to_string(r.skipped) + " unreadable skipped" : "", ") -> ",
              f->out);
    return kOk;
  };
}

}  // namespace

Runner setup_convert(CLI::App& app, CommonOptions& common) {
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, Runner>> subs;
  CLI::App* hifigan =
      app.add_subcommand("hifigan", "an official HiFi-GAN generator checkpoint -> vocoder file");
  subs.emplace_back(hifigan, setup_hifigan(*hifigan, common));
  CLI::App* codec =
      app.add_subcommand("codec", "trained VAE (+ vocoder) -> codec file with latent statistics");
  subs.emplace_back(codec, setup_codec(*codec, common));
  CLI::App* bert = app.add_subcommand(
      "hf-bert", "a Hugging Face BERT / RoBERTa-wwm / BGE / MiniLM folder -> text-tower file");
  subs.emplace_back(bert, setup_hf_bert(*bert, common));
  return [subs] {
    for (const auto& [sub, runner] : subs) {
      if (sub->parsed()) return runner();
    }
    return static_cast<int>(kUsage);
  };
}

}  // namespace mudit::cli
