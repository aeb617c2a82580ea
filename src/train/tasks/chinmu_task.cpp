// The "chinmu" task: contrastive training of the text and audio towers on songs with
// descriptions. A batch holds B distinct songs, a random audio window of each and one of its
// descriptions (amateur or professional by `data.amateur_share`, then any of that register's
// variants: short / medium / long, Chinese / English, tags, sentences); the loss is the
// symmetric InfoNCE over the batch. Validation embeds held-out songs (the mean over their
// windows) and every description, and scores retrieval for each register separately.
#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/core/state_dict.h"
#include "mudit/data/audio_segments.h"
#include "mudit/data/manifest.h"
#include "mudit/dist/comm.h"
#include "mudit/eval/retrieval.h"
#include "mudit/eval/zero_shot.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/text_tower.h"
#include "mudit/text/tokenizer.h"
#include "train/tasks/builtin.h"

namespace mudit::train {
namespace {

struct ChinMuTaskConfig {
  ChinMuConfig chinmu = ChinMuConfig::tiny();
  /// A text-tower file (mudit convert hf-bert) whose encoder, vocabulary and tokenizer settings
  /// initialise the text tower; "": a fresh encoder of text.bert's shape.
  std::string text_init;
  /// Without text_init: a vocab.txt, or "" to build one from the training descriptions.
  std::string vocab_file;
  text::VocabBuilderConfig vocab{8000, 2, true, 16};
  /// With several ranks, score each rank's pairs against every rank's (all-gathered) embeddings:
  /// B x world negatives per query instead of B.
  bool gather_negatives = true;

  template <class V>
  void visit(V& v) {
    chinmu.visit(v);
    v("text_init", text_init);
    v("vocab_file", vocab_file);
    v("vocab_builder", vocab);
    v("gather_negatives", gather_negatives);
  }
};

struct ChinMuDataConfig {
  std::string manifest;
  std::string split = "train";
  std::string valid_split = "valid";
  /// Held-out songs from another manifest; all of its songs when it has no `valid_split`.
  std::string valid_manifest;
  bool cache = true;
  /// Chance of an amateur description when a song has both registers.
  double amateur_share = 0.5;
  int64_t max_valid_songs = 0;  ///< 0: all

  template <class V>
  void visit(V& v) {
    v("manifest", manifest);
    v("split", split);
    v("valid_split", valid_split);
    v("valid_manifest", valid_manifest);
    v("cache", cache);
    v("amateur_share", amateur_share);
    v("max_valid_songs", max_valid_songs);
  }
  void validate() const {
    MUDIT_CHECK(!manifest.empty(), ConfigError, "data.manifest is required");
    MUDIT_CHECK(amateur_share >= 0 && amateur_share <= 1, ConfigError,
                "data.amateur_share must be in [0, 1]");
  }
};

struct Song {
  int64_t index = 0;  // in the AudioSegments
  std::vector<std::string> amateur, professional;
  std::string meta;  // the manifest's meta (labels of synthetic songs)
};

std::map<std::string, data::ManifestEntry> by_id(const std::string& manifest) {
  std::map<std::string, data::ManifestEntry> out;
  for (auto& e : data::read_manifest(manifest)) out.emplace(e.id, std::move(e));
  return out;
}

std::vector<Song> songs_with_descriptions(const data::AudioSegments& audio,
                                          const std::map<std::string, data::ManifestEntry>& entries,
                                          const std::string& what) {
  std::vector<Song> out;
  int64_t bare = 0;
  for (int64_t i = 0; i < audio.size(); ++i) {
    const auto it = entries.find(audio.id(i));
    Song s;
    s.index = i;
    if (it != entries.end()) {
      s.meta = it->second.meta;
      for (const auto& d : it->second.amateur)
        if (!d.text.empty()) s.amateur.push_back(d.text);
      for (const auto& d : it->second.professional)
        if (!d.text.empty()) s.professional.push_back(d.text);
    }
    if (s.amateur.empty() && s.professional.empty()) {
      ++bare;
      continue;
    }
    out.push_back(std::move(s));
  }
  if (bare > 0) log::warn(what, ": ", bare, " songs without descriptions skipped");
  MUDIT_CHECK(!out.empty(), DataError, what, ": no song has a description");
  return out;
}

class ChinMuTask : public Task {
 public:
  ChinMuTask(const TaskContext& ctx, ChinMuTaskConfig cfg)
      : ctx_(ctx), cfg_(std::move(cfg)), data_(bind_config<ChinMuDataConfig>(ctx.data)) {
    data_.validate();
    ChinMuConfig& mc = cfg_.chinmu;
    // Audio: mono windows at the mel recipe's rate.
    data::AudioSegmentConfig ac;
    ac.manifest = data_.manifest;
    ac.sample_rate = mc.audio.mel.sample_rate;
    ac.channels = 1;
    ac.segment_samples = mc.audio.window_samples();
    ac.cache = data_.cache;
    ac.valid_segments = 0;
    train_audio_ = std::make_unique<data::AudioSegments>(ac, data_.split);
    const auto entries = by_id(data_.manifest);
    train_ = songs_with_descriptions(*train_audio_, entries, "chinmu training songs");
    MUDIT_CHECK(static_cast<int64_t>(train_.size()) >= ctx.batch_size && ctx.batch_size > 1,
                ConfigError, "chinmu: a batch draws distinct songs; train.batch_size (",
                ctx.batch_size, ") must be in [2, ", train_.size(), "] (songs with descriptions)");

    // Text: a pretrained tower, a vocabulary file, or one built from the training texts.
    TextTower init;
    if (!cfg_.text_init.empty()) {
      init = load_text_tower(cfg_.text_init);
      mc.text = init.config;
      mc.vocab = init.tokenizer.vocab();
    } else if (!cfg_.vocab_file.empty()) {
      mc.vocab = text::WordPieceTokenizer::from_file(cfg_.vocab_file, mc.text.tokenizer).vocab();
    } else {
      std::vector<std::string> texts;
      for (const Song& s : train_) {
        texts.insert(texts.end(), s.amateur.begin(), s.amateur.end());
        texts.insert(texts.end(), s.professional.begin(), s.professional.end());
      }
      text::VocabReport r;
      mc.vocab = text::build_vocab(texts, cfg_.vocab, &r);
      log::info("chinmu vocabulary: ", mc.vocab.size(), " tokens from ", r.texts,
                " training descriptions (", r.cjk_chars, " CJK characters, ", r.pieces,
                " word pieces)");
    }
    mc.text.bert.vocab_size = static_cast<int64_t>(mc.vocab.size());
    {
      torch::NoGradGuard no_grad;
      seed_everything(derive_seed(ctx_.seed, 0, RngStream::kGlobal), /*rank=*/0);
      model_ = ChinMu(mc);
      if (init.bert) load_state_dict(*model_->text(), state_dict(*init.bert));
    }
    model_->to(ctx.device);

    // Held-out songs.
    const std::string vm = data_.valid_manifest.empty() ? data_.manifest : data_.valid_manifest;
    const auto valid_entries = by_id(vm);
    std::string vsplit = data_.valid_split;
    const bool has_split = std::any_of(valid_entries.begin(), valid_entries.end(),
                                       [&](const auto& kv) { return kv.second.split == vsplit; });
    if (!has_split) {
      MUDIT_CHECK(!data_.valid_manifest.empty(), DataError, data_.manifest, " has no '", vsplit,
                  "' songs to validate on: set data.valid_manifest (e.g. another mudit synth "
                  "corpus) or split the manifest");
      vsplit = "all";
    }
    ac.manifest = vm;
    valid_audio_ = std::make_unique<data::AudioSegments>(ac, vsplit);
    valid_ = songs_with_descriptions(*valid_audio_, valid_entries, "chinmu validation songs");
    if (data_.max_valid_songs > 0 && static_cast<int64_t>(valid_.size()) > data_.max_valid_songs)
      valid_.resize(static_cast<size_t>(data_.max_valid_songs));
    log::info("ChinMu: ", static_cast<double>(count_parameters(*model_)) / 1e6, " M parameters; ",
              train_.size(), " training songs, ", valid_.size(), " validation songs (", vm,
              ", split ", vsplit, ")");
  }

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    return {{"model", model_.ptr()}};
  }
  std::string arch() const override { return "chinmu"; }
  std::string model_config_yaml() const override { return dump_config(model_->config()); }

  NamedParams parameters(int) override {
    NamedParams out;
    for (const auto& p : model_->named_parameters())
      if (p.value().requires_grad()) out.emplace_back(p.key(), p.value());
    return out;
  }

  Batch batch(int64_t step, int64_t micro) override {
    const uint64_t step_seed =
        derive_seed(ctx_.seed, static_cast<uint64_t>(step), RngStream::kData);
    std::mt19937_64 rng(
        derive_seed(step_seed, static_cast<uint64_t>(ctx_.rank * ctx_.grad_accum + micro)));
    // B distinct songs (a partial Fisher-Yates shuffle).
    std::vector<size_t> pick(train_.size());
    std::iota(pick.begin(), pick.end(), size_t{0});
    const int64_t window = model_->config().audio.window_samples();
    std::vector<at::Tensor> wavs;
    std::vector<std::string> texts;
    for (int64_t j = 0; j < ctx_.batch_size; ++j) {
      std::uniform_int_distribution<size_t> u(static_cast<size_t>(j), pick.size() - 1);
      std::swap(pick[static_cast<size_t>(j)], pick[u(rng)]);
      const Song& s = train_[pick[static_cast<size_t>(j)]];
      const int64_t frames = train_audio_->frames(s.index);
      std::uniform_int_distribution<int64_t> off(0, std::max<int64_t>(0, frames - window));
      wavs.push_back(train_audio_->segment(s.index, off(rng), window).select(0, 0));  // [T]
      const bool amateur =
          s.professional.empty() ||
          (!s.amateur.empty() && std::bernoulli_distribution(data_.amateur_share)(rng));
      const auto& list = amateur ? s.amateur : s.professional;
      texts.push_back(list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng)]);
    }
    const auto [ids, mask] = batch_tensors(model_->tokenizer().encode_batch(texts), ctx_.device);
    return {{"audio", at::stack(wavs).to(ctx_.device)}, {"ids", ids}, {"mask", mask}};
  }

  std::map<std::string, at::Tensor> losses(const Batch& batch, int, int64_t) override {
    const at::Tensor t = model_->encode_text(batch.at("ids"), batch.at("mask"));  // [B, D]
    const at::Tensor a = model_->encode_audio(batch.at("audio"));                 // [B, D]
    const at::Tensor scale = model_->scale();
    std::map<std::string, at::Tensor> out;
    if (cfg_.gather_negatives && ctx_.comm && ctx_.comm->world_size() > 1) {
      out["loss"] =
          info_nce(t, a, dist::all_gather_with_grad(ctx_.comm, t),
                   dist::all_gather_with_grad(ctx_.comm, a), scale, ctx_.comm->rank() * t.size(0));
    } else {
      out["loss"] = info_nce(t, a, scale);
    }
    torch::NoGradGuard no_grad;
    const at::Tensor sim = at::matmul(t, a.t());
    const at::Tensor target = at::arange(t.size(0), sim.options().dtype(at::kLong));
    out["acc_t2a"] = sim.argmax(1).eq(target).to(at::kFloat).mean();
    out["temperature"] = 1.0 / scale.detach();
    return out;
  }

  std::map<std::string, double> validate(int64_t) override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    std::vector<at::Tensor> songs;
    for (const Song& s : valid_) {
      const at::Tensor wav =
          valid_audio_->segment(s.index, 0, valid_audio_->frames(s.index)).select(0, 0);
      songs.push_back(model_->embed_song(wav.to(ctx_.device)));
    }
    const at::Tensor audio = at::stack(songs);  // [N, D]
    std::map<std::string, double> m;
    for (const bool amateur : {true, false}) {
      const std::string reg = amateur ? "amateur" : "professional";
      std::vector<std::string> texts;
      std::vector<std::vector<int64_t>> text_song, song_texts(valid_.size());
      for (size_t i = 0; i < valid_.size(); ++i) {
        for (const std::string& t : amateur ? valid_[i].amateur : valid_[i].professional) {
          song_texts[i].push_back(static_cast<int64_t>(texts.size()));
          text_song.push_back({static_cast<int64_t>(i)});
          texts.push_back(t);
        }
      }
      if (texts.empty()) continue;
      const at::Tensor text = model_->embed_texts(texts);  // [Q, D]
      const at::Tensor sim = at::matmul(text, audio.t());  // [Q, N]
      const auto t2a = eval::retrieval_scores(sim, text_song);
      for (int64_t k : {1, 5, 10}) m["t2a_r" + std::to_string(k) + "_" + reg] = t2a.recall.at(k);
      m["t2a_map10_" + reg] = t2a.map_at_10;
      m["chance_t2a_r10_" + reg] = t2a.chance_recall.at(10);
      // Audio -> text over the songs that have texts of this register.
      std::vector<int64_t> rows;
      std::vector<std::vector<int64_t>> rel;
      for (size_t i = 0; i < valid_.size(); ++i) {
        if (song_texts[i].empty()) continue;
        rows.push_back(static_cast<int64_t>(i));
        rel.push_back(song_texts[i]);
      }
      const at::Tensor a2t_sim = at::matmul(
          audio.index_select(0, at::tensor(rows, at::kLong).to(audio.device())), text.t());
      const auto a2t = eval::retrieval_scores(a2t_sim, rel);
      for (int64_t k : {1, 5, 10}) m["a2t_r" + std::to_string(k) + "_" + reg] = a2t.recall.at(k);
      m["a2t_map10_" + reg] = a2t.map_at_10;
    }
    zero_shot(audio, m);
    if (was_training) model_->train();
    return m;
  }

 private:
  /// Zero-shot attribute accuracy (balanced; chance 1/2) on the labelled validation songs, with
  /// each register's prompts: valid/zs_<attribute>_<register>.
  void zero_shot(const at::Tensor& audio, std::map<std::string, double>& m) {
    for (const auto& attr : eval::synthetic_attributes()) {
      std::vector<int64_t> labels;
      for (const Song& s : valid_) labels.push_back(eval::synthetic_label(attr.name, s.meta));
      for (const auto& [reg, prompts] : attr.prompts) {
        std::vector<at::Tensor> classes;
        for (const auto& p : prompts) classes.push_back(model_->embed_texts(p).mean(0));
        at::Tensor c = at::stack(classes);
        c = c / c.norm(2, {1}, true);
        const auto z = eval::zero_shot_scores(audio, c, labels);
        if (z.chance > 0.5 || z.songs == 0) continue;  // one class only: nothing to tell apart
        m["zs_" + attr.name + "_" + reg] = z.balanced_accuracy;
      }
    }
  }

  TaskContext ctx_;
  ChinMuTaskConfig cfg_;
  ChinMuDataConfig data_;
  std::unique_ptr<data::AudioSegments> train_audio_, valid_audio_;
  std::vector<Song> train_, valid_;
  ChinMu model_{nullptr};
};

}  // namespace

std::unique_ptr<Task> make_chinmu_task(const TaskContext& context) {
  return std::make_unique<ChinMuTask>(context, bind_config<ChinMuTaskConfig>(context.model));
}

}  // namespace mudit::train
