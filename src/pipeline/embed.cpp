#include "mudit/pipeline/embed.h"
#include "mudit/core/utf8.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "mudit/core/checkpoint.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/data/audio_segments.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/text_tower.h"

namespace mudit::pipeline {
namespace fs = std::filesystem;

TextLines read_text_lines(const fs::path& file) {
  TextLines out;
  std::istringstream in(utf8::checked(read_file(file), file.string()));
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(n);
    if (line.front() == '{') {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw DataError(where + ": not a JSON object (" + e.what() + ")");
      }
      MUDIT_CHECK(j.contains("text") && j["text"].is_string(), DataError, where,
                  ": a JSON line needs \"text\"");
      const bool has_id = j.contains("id");
      out.ids.push_back(!has_id               ? std::to_string(n)
                        : j["id"].is_string() ? j["id"].get<std::string>()
                                              : j["id"].dump());
      out.texts.push_back(j["text"].get<std::string>());
    } else if (const size_t tab = line.find('\t'); tab != std::string::npos) {
      out.ids.push_back(line.substr(0, tab));
      out.texts.push_back(line.substr(tab + 1));
    } else {
      out.ids.push_back(std::to_string(n));
      out.texts.push_back(line);
    }
  }
  return out;
}

namespace {

std::string model_arch(const fs::path& model) {
  const std::string arch = read_model_meta(model).arch;
  MUDIT_CHECK(arch == "bert" || arch == "chinmu", CheckpointError, model.string(), " holds a '",
              arch, "' model, not a text tower or ChinMu");
  return arch;
}

}  // namespace

Embeddings embed_text_file(const fs::path& model, const fs::path& texts, c10::Device device,
                           int64_t batch) {
  MUDIT_CHECK(batch > 0, ConfigError, "embed: the batch size must be positive");
  const std::string arch = model_arch(model);
  TextLines lines = read_text_lines(texts);
  MUDIT_CHECK(!lines.texts.empty(), DataError, texts.string(), ": no texts");
  Embeddings e;
  e.kind = "text";
  if (arch == "bert") {
    TextTower tower = load_text_tower(model, device);
    e.vectors = tower.embed(lines.texts, batch, &e.truncated);
    if (e.truncated > 0)
      log::warn(e.truncated, " of ", lines.texts.size(), " texts were cut to ",
                tower.config.tokenizer.max_length, " tokens");
  } else {
    ChinMu m = load_chinmu(model, device);
    torch::NoGradGuard no_grad;
    e.vectors = m->embed_texts(lines.texts, batch);
  }
  e.vectors = e.vectors.cpu().contiguous();
  e.ids = std::move(lines.ids);
  return e;
}

Embeddings embed_manifest_audio(const fs::path& model, const fs::path& manifest,
                                const std::string& split, c10::Device device, int64_t batch) {
  MUDIT_CHECK(batch > 0, ConfigError, "embed: the batch size must be positive");
  MUDIT_CHECK(model_arch(model) == "chinmu", ConfigError, "--audio needs a ChinMu model; ",
              model.string(), " is a text tower");
  ChinMu m = load_chinmu(model, device);
  return embed_manifest_audio(m, manifest, split, device, batch);
}

Embeddings embed_manifest_audio(ChinMu& m, const fs::path& manifest, const std::string& split,
                                c10::Device device, int64_t batch) {
  data::AudioSegmentConfig ac;
  ac.manifest = manifest.string();
  ac.sample_rate = m->config().audio.mel.sample_rate;
  ac.channels = 1;
  ac.cache = false;
  ac.valid_segments = 0;
  const data::AudioSegments songs(ac, split);  // unreadable songs: skipped and counted
  torch::NoGradGuard no_grad;
  Embeddings e;
  e.kind = "audio";
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < songs.size(); ++i) {
    const at::Tensor wav = songs.segment(i, 0, songs.frames(i)).select(0, 0).to(device);  // [T]
    rows.push_back(m->embed_song(wav, batch));
    e.ids.push_back(songs.id(i));
    e.seconds.push_back(static_cast<double>(wav.size(0)) / ac.sample_rate);
  }
  MUDIT_CHECK(!rows.empty(), DataError, "embed: no readable song in ", manifest.string());
  e.vectors = at::stack(rows).cpu().contiguous();  // [N, D]
  return e;
}

void save_embeddings(const fs::path& out, const Embeddings& e, const fs::path& model) {
  save_safetensors(out, {{"embeddings", e.vectors}},
                   {{"mudit.ids", nlohmann::json(e.ids).dump()},
                    {"mudit.model", model.string()},
                    {"mudit.kind", e.kind}});
}

}  // namespace mudit::pipeline
