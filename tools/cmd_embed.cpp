// mudit embed: texts (a text tower or ChinMu) or a manifest's songs (ChinMu) -> an embeddings
// file (mudit/pipeline/embed.h).
#include <memory>

#include "commands.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/embed.h"

namespace mudit::cli {

Runner setup_embed(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string model, text, audio, split = "all", out;
    int64_t batch = 64;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--model", f->model,
                 "text-tower file (mudit convert hf-bert), or a chinmu run / model file")
      ->required()
      ->type_name("PATH");
  auto* text =
      app.add_option("--text", f->text,
                     "texts, one per line: plain, id<TAB>text, or {\"id\": ..., \"text\": ...}")
          ->type_name("FILE");
  auto* audio = app.add_option("--audio", f->audio, "a manifest whose songs to embed (ChinMu)")
                    ->type_name("JSONL");
  text->excludes(audio);
  app.add_option("--split", f->split, "with --audio: the manifest split (\"all\": every song)")
      ->capture_default_str();
  app.add_option("--out", f->out, "safetensors: embeddings [N, D]; ids in metadata mudit.ids")
      ->required()
      ->type_name("FILE");
  app.add_option("--batch-size", f->batch, "texts (or windows) per forward pass")
      ->capture_default_str()
      ->check(at_least(1));
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    MUDIT_CHECK(f->text.empty() != f->audio.empty(), ConfigError,
                "give --text FILE or --audio MANIFEST");
    const c10::Device device = parse_device(common.device);
    const std::filesystem::path model = resolve_model_file(f->model);
    const pipeline::Embeddings e =
        f->text.empty()
            ? pipeline::embed_manifest_audio(model, f->audio, f->split, device, f->batch)
            : pipeline::embed_text_file(model, f->text, device, f->batch);
    pipeline::save_embeddings(f->out, e, model);
    log::info("embedded ", e.ids.size(), e.kind == "text" ? " texts (" : " songs (",
              e.vectors.size(1), "-d) -> ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
