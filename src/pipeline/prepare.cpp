#include "mudit/pipeline/prepare.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <map>
#include <nlohmann/json.hpp>

#include "mudit/audio/resample.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/data/audio_segments.h"
#include "mudit/data/manifest.h"
#include "mudit/data/shards.h"
#include "mudit/generation/plan.h"
#include "mudit/generation/shard_fields.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/plan_sources.h"
#include "mudit/text/lyrics.h"

namespace mudit::pipeline {

namespace fs = std::filesystem;
namespace fields = generation::fields;

void PrepareConfig::validate() const {
  MUDIT_CHECK(max_shard_mb > 0, ConfigError, "prepare: max_shard_mb must be positive");
  MUDIT_CHECK(plan_source == "auto" || plan_source == "labels" || plan_source == "audio" ||
                  plan_source == "none",
              ConfigError, "prepare: plan_source must be auto, labels, audio or none, got '",
              plan_source, "'");
  MUDIT_CHECK(plan_slots >= 1 && plan_slots <= 256, ConfigError,
              "prepare: plan_slots must be in [1, 256]");
}

PrepareReport prepare(const PrepareConfig& config,
                      const std::function<void(int64_t, int64_t)>& progress) {
  config.validate();
  MUDIT_CHECK(!config.manifest.empty() && !config.out.empty() && !config.codec.empty(), ConfigError,
              "prepare needs a manifest, an output folder and a codec");
  const fs::path out(config.out);
  MUDIT_CHECK(!fs::exists(out / "index.json"), IoError, out.string(),
              " already holds prepared shards (index.json); choose another --out or remove it");
  const c10::Device device = parse_device(config.device);
  torch::NoGradGuard no_grad;

  // The manifest first: a bad one is named before the models load.
  std::map<std::string, data::ManifestEntry> entries;
  int64_t listed = 0;
  for (auto& e : data::read_manifest(config.manifest)) {
    if (config.split != "all" && e.split != config.split) continue;
    ++listed;
    entries.emplace(e.id, std::move(e));
  }
  MUDIT_CHECK(listed > 0, DataError, config.manifest, ": no songs in split '", config.split, "'");
  const fs::path codec_file = resolve_model_file(config.codec);
  const auto no_stats = [&] {
    MUDIT_THROW(ConfigError, codec_file.string(),
                " has no latent statistics to normalise with (make a codec file with them: mudit "
                "convert codec --vae RUN --manifest ... --out FILE; or pass --no-normalize)");
  };
  // A VAE training checkpoint has no statistics (only codec files do): refuse before loading.
  if (config.normalize && read_model_meta(codec_file).arch != "codec") no_stats();
  Codec codec = load_codec(codec_file, device);
  codec->eval();
  if (config.normalize && !codec->has_latent_stats()) no_stats();
  ChinMu chinmu{nullptr};
  fs::path chinmu_file;
  if (!config.chinmu.empty()) {
    chinmu_file = resolve_model_file(config.chinmu);
    chinmu = load_chinmu(chinmu_file, device);
    chinmu->eval();
  }
  const text::G2P g2p(config.g2p);
  const text::PhonemeVocab vocab(config.tones);

  data::AudioSegmentConfig ac;
  ac.manifest = config.manifest;
  ac.sample_rate = codec->sample_rate();
  ac.channels = codec->channels();
  ac.cache = false;
  ac.valid_segments = 0;
  const data::AudioSegments songs(ac, config.split);  // unreadable songs: skipped, counted

  PrepareReport r;
  r.unreadable = listed - songs.size();
  fs::create_directories(out);
  data::ShardWriterOptions so;
  so.max_shard_bytes = static_cast<uint64_t>(config.max_shard_mb * (1 << 20));
  data::ShardWriter writer(out, so);
  for (int64_t i = 0; i < songs.size(); ++i) {
    const data::ManifestEntry& e = entries.at(songs.id(i));
    const at::Tensor wav = songs.segment(i, 0, songs.frames(i)).to(device);  // [C, T]
    data::Item item;
    at::Tensor z = encode_chunked(*codec, wav, config.chunks);  // [T', D]
    if (config.normalize) z = codec->normalize(z);
    item[fields::kLatents] = z.to(at::kFloat).cpu().contiguous();
    r.latent_frames += z.size(0);
    r.audio_seconds += static_cast<double>(songs.frames(i)) / codec->sample_rate();
    if (chinmu) {
      at::Tensor mono = wav.mean(0);  // [T]
      const int64_t rate = chinmu->config().audio.mel.sample_rate;
      if (rate != codec->sample_rate())
        mono = audio::resample(mono.cpu(), static_cast<int>(codec->sample_rate()),
                               static_cast<int>(rate))
                   .to(device);
      const at::Tensor windows = chinmu->embed_windows(mono);  // [K, E]
      const at::Tensor song = windows.mean(0);                 // embed_song, without a 2nd pass
      item[fields::kChinMu] = (song / song.norm()).unsqueeze(0).cpu();  // [1, E]
      item[fields::kChinMuChunks] = windows.cpu();
      std::vector<std::string> texts;
      std::vector<int64_t> reg;
      for (const auto& d : e.amateur) {
        if (d.text.empty()) continue;
        texts.push_back(d.text);
        reg.push_back(0);
      }
      for (const auto& d : e.professional) {
        if (d.text.empty()) continue;
        texts.push_back(d.text);
        reg.push_back(1);
      }
      const int64_t dim = chinmu->config().embed_dim;
      item[fields::kTextEmb] =
          texts.empty() ? at::zeros({0, dim}) : chinmu->embed_texts(texts).cpu();
      item[fields::kTextRegister] = at::tensor(reg, at::kLong).reshape({-1});
      r.descriptions += static_cast<int64_t>(texts.size());
      if (texts.empty()) ++r.without_texts;
    }
    std::vector<int64_t> ids;
    if (!e.lyrics.empty()) {
      for (const std::string& tok : text::lyrics_to_tokens(text::parse_lyrics(e.lyrics), g2p)) {
        const int64_t id = vocab.token_to_id(tok);
        if (id == text::PhonemeVocab::kUnk) ++r.unknown_phonemes;
        ids.push_back(id);
      }
    }
    if (ids.empty()) ++r.without_lyrics;
    item[fields::kPhonemes] = at::tensor(ids, at::kLong).reshape({-1});
    if (config.plan_source != "none") {
      const generation::MusicalPlan plan =
          song_plan(config.plan_source, data::resolve_audio(e, config.manifest), wav.cpu(),
                    codec->sample_rate());
      (plan.source[0] == "labels" ? r.plans_from_labels : r.plans_from_audio) += 1;
      if (!plan.has_beats()) ++r.plans_without_beats;
      item[fields::kPlan] = generation::plan_tensor(plan, z.size(0), codec->latent_rate(),
                                                    generation::PlanLayout{config.plan_slots});
    }
    writer.add(e.id, item);
    ++r.songs;
    if (progress) progress(i + 1, songs.size());
  }
  vocab.save((out / "phonemes.txt").string());
  nlohmann::ordered_json j;
  j["format"] = 1;
  j["manifest"] = fs::absolute(config.manifest).string();
  j["split"] = config.split;
  j["codec"] = fs::absolute(codec_file).string();
  j["codec_kind"] = codec->kind();
  j["sample_rate"] = codec->sample_rate();
  j["hop_length"] = codec->hop_length();
  j["latent_dim"] = codec->latent_dim();
  j["latent_rate"] = codec->latent_rate();
  j["normalized"] = config.normalize;
  j["chinmu"] = chinmu ? fs::absolute(chinmu_file).string() : "";
  j["embed_dim"] = chinmu ? chinmu->config().embed_dim : 0;
  j["phoneme_vocab"] = vocab.vocab_size();
  j["songs"] = r.songs;
  j["unreadable"] = r.unreadable;
  j["without_lyrics"] = r.without_lyrics;
  j["without_texts"] = r.without_texts;
  j["descriptions"] = r.descriptions;
  j["latent_frames"] = r.latent_frames;
  j["audio_seconds"] = r.audio_seconds;
  j["plan_source"] = config.plan_source;
  j["plan_slots"] = config.plan_source == "none" ? 0 : config.plan_slots;
  j["plans_from_labels"] = r.plans_from_labels;
  j["plans_from_audio"] = r.plans_from_audio;
  j["plans_without_beats"] = r.plans_without_beats;
  write_file_atomic(out / "prepare.json", j.dump(2) + "\n");
  writer.finish();  // index.json last: a folder with an index is complete
  return r;
}

}  // namespace mudit::pipeline
