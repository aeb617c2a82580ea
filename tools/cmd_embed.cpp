// mudit embed: texts (a text tower or ChinMu) or a manifest's songs (ChinMu) -> embeddings, as
// safetensors with the ids.
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/data/audio_segments.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/model_files.h"
#include "mudit/models/text_tower.h"

namespace mudit::cli {
namespace {

// Lines of a text file: `{"id": ..., "text": ...}` JSON objects, `id<TAB>text`, or plain text
// (id = the line number, from 1). Blank lines are skipped.
void read_texts(const std::string& file, std::vector<std::string>& ids,
                std::vector<std::string>& texts) {
  std::istringstream in(read_file(file));
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.front() == '{') {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw DataError(file + ":" + std::to_string(n) + ": not a JSON object (" + e.what() + ")");
      }
      MUDIT_CHECK(j.contains("text") && j["text"].is_string(), DataError, file, ":", n,
                  ": a JSON line needs \"text\"");
      ids.push_back(j.contains("id")
                        ? (j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump())
                        : std::to_string(n));
      texts.push_back(j["text"].get<std::string>());
    } else if (const size_t tab = line.find('\t'); tab != std::string::npos) {
      ids.push_back(line.substr(0, tab));
      texts.push_back(line.substr(tab + 1));
    } else {
      ids.push_back(std::to_string(n));
      texts.push_back(line);
    }
  }
}

}  // namespace

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
      ->capture_default_str();
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    MUDIT_CHECK(f->text.empty() != f->audio.empty(), ConfigError,
                "give --text FILE or --audio MANIFEST");
    MUDIT_CHECK(f->batch > 0, ConfigError, "--batch-size must be positive");
    const c10::Device device = parse_device(common.device);
    const std::filesystem::path file = resolve_model_file(f->model);
    const std::string arch = read_model_meta(file).arch;
    MUDIT_CHECK(arch == "bert" || arch == "chinmu", CheckpointError, file.string(), " holds a '",
                arch, "' model, not a text tower or ChinMu");
    std::vector<std::string> ids;
    at::Tensor emb;
    int64_t truncated = 0;
    std::string what;
    if (!f->text.empty()) {
      std::vector<std::string> texts;
      read_texts(f->text, ids, texts);
      MUDIT_CHECK(!texts.empty(), DataError, f->text, ": no texts");
      if (arch == "bert") {
        TextTower tower = load_text_tower(file, device);
        emb = tower.embed(texts, f->batch, &truncated);
        if (truncated > 0)
          log::warn(truncated, " of ", texts.size(), " texts were cut to ",
                    tower.config.tokenizer.max_length, " tokens");
      } else {
        ChinMu m = load_chinmu(file, device);
        torch::NoGradGuard no_grad;
        emb = m->embed_texts(texts, f->batch);
      }
      what = "texts";
    } else {
      MUDIT_CHECK(arch == "chinmu", ConfigError, "--audio needs a ChinMu model; ", file.string(),
                  " is a text tower");
      ChinMu m = load_chinmu(file, device);
      data::AudioSegmentConfig ac;
      ac.manifest = f->audio;
      ac.sample_rate = m->config().audio.mel.sample_rate;
      ac.channels = 1;
      ac.cache = false;
      ac.valid_segments = 0;
      const data::AudioSegments songs(ac, f->split);  // unreadable songs: skipped and counted
      torch::NoGradGuard no_grad;
      std::vector<at::Tensor> rows;
      for (int64_t i = 0; i < songs.size(); ++i) {
        const at::Tensor wav = songs.segment(i, 0, songs.frames(i)).select(0, 0).to(device);
        rows.push_back(m->embed_song(wav, f->batch));
        ids.push_back(songs.id(i));
      }
      emb = at::stack(rows);
      what = "songs";
    }
    emb = emb.cpu().contiguous();
    save_safetensors(f->out, {{"embeddings", emb}},
                     {{"mudit.ids", nlohmann::json(ids).dump()},
                      {"mudit.model", file.string()},
                      {"mudit.kind", f->text.empty() ? "audio" : "text"}});
    log::info("embedded ", ids.size(), " ", what, " (", emb.size(1), "-d) -> ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
