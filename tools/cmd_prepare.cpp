// mudit prepare: a manifest -> generator shards (codec latents, ChinMu audio and text
// embeddings, phoneme ids; mudit/pipeline/prepare.h).
#include <memory>

#include "cli/codec_options.h"
#include "commands.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/pipeline/prepare.h"
#include "mudit/train/progress.h"

namespace mudit::cli {

Runner setup_prepare(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string manifest, codec, chinmu, out, split, plan_source;
    bool no_normalize = false;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--manifest", f->manifest, "songs to prepare")->required()->type_name("JSONL");
  app.add_option("--codec", f->codec, "codec model file or run (latents)")
      ->required()
      ->type_name("PATH");
  app.add_option("--chinmu", f->chinmu, "ChinMu model file or run (audio and text embeddings)")
      ->type_name("PATH");
  app.add_option("--out", f->out, "shard folder to create")->required()->type_name("DIR");
  app.add_option("--split", f->split, "manifest split (default all)");
  app.add_option("--plan-source", f->plan_source,
                 "musical plan per song: auto (labels.json beside the audio, else the audio; "
                 "default), labels, audio, none");
  app.add_flag("--no-normalize", f->no_normalize,
               "keep raw latents (default: divided by the codec's latent statistics)");
  add_common_options(app, common);
  app.footer(
      "Config (--set prepare.KEY=...): chunks.chunk_seconds / overlap_seconds, g2p.pron_dir, "
      "tones (false), max_shard_mb (256), plan_slots (16).");
  return [&common, f] {
    apply_common_options(common);
    auto cfg = bind_config<pipeline::PrepareConfig>(resolve_config(common), "prepare");
    cfg.manifest = f->manifest;
    cfg.codec = f->codec;
    cfg.chinmu = f->chinmu;
    cfg.out = f->out;
    if (!f->split.empty()) cfg.split = f->split;
    if (!f->plan_source.empty()) cfg.plan_source = f->plan_source;
    if (f->no_normalize) cfg.normalize = false;
    cfg.device = common.device;
    std::unique_ptr<train::ProgressBar> bar;
    const auto r = pipeline::prepare(cfg, chunk_progress(bar, "prepare"));
    bar.reset();
    if (r.unreadable > 0) log::warn(r.unreadable, " songs with unreadable audio skipped");
    log::info("prepared ", r.songs, " songs (", r.audio_seconds / 60, " min of audio, ",
              r.latent_frames, " latent frames, ", r.descriptions, " descriptions; ",
              r.without_lyrics, " without lyrics, ", r.without_texts, " without descriptions, ",
              r.unknown_phonemes, " unknown phonemes; plans: ", r.plans_from_labels,
              " from labels, ", r.plans_from_audio, " from audio, ", r.plans_without_beats,
              " without beats) -> ", cfg.out);
    return kOk;
  };
}

}  // namespace mudit::cli
