// The "generator" task: MuDiT (DDPM) or MuSiT (interpolant) training on prepared shards
// (mudit prepare). Stage 2 conditions on each song's ChinMu audio embedding (no descriptions
// needed), stage 3 on the ChinMu text embedding of one of its descriptions per step (amateur
// with probability data.amateur_share). Conditions and lyrics are dropped independently
// (model.cond_dropout, model.lyric_dropout) so the learned nulls serve classifier-free
// guidance, and a share of songs (model.edit_share) is trained in context with a known span —
// a prefix (continuation) or everything outside a window (repaint) — whose frames the loss
// leaves out. The loss is masked: padding is in neither numerator nor denominator.
//
// With a musical plan (model.dit.plan_slots > 0) every song's plan tensor (prepared beside its
// latents, cropped with them) is an input too; each of its groups — beats, chords, key — is
// dropped alone with model.plan_dropout and all together with model.plan_drop_all, so any
// partial plan is a trained input and the empty plan serves the plan's guidance. Validation then
// says what each part of the condition is worth, per song with a standard error: the loss
// without the description, without the plan, without each group, with the beats half a beat
// late and with the harmony transposed a tritone (both must cost more than the true plan), and
// the plan's gain per noise level.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/core/state_dict.h"
#include "mudit/data/loader.h"
#include "mudit/generation/plan.h"
#include "mudit/generation/shard_fields.h"
#include "mudit/models/generator.h"
#include "train/tasks/builtin.h"

namespace mudit::train {
namespace {

namespace F = generation::fields;

struct GeneratorTaskConfig {
  GeneratorConfig generator;
  double cond_dropout = 0.1;
  double lyric_dropout = 0.1;
  double edit_share = 0.1;
  double plan_dropout = 0.2;   ///< each plan group (beats, chords, key) dropped alone
  double plan_drop_all = 0.1;  ///< the whole plan dropped
  /// A generator model file whose weights start the run (stage 3 from stage 2); "": fresh.
  std::string init;

  template <class V>
  void visit(V& v) {
    generator.visit(v);
    v("cond_dropout", cond_dropout);
    v("lyric_dropout", lyric_dropout);
    v("edit_share", edit_share);
    v("plan_dropout", plan_dropout);
    v("plan_drop_all", plan_drop_all);
    v("init", init);
  }
  void validate() const {
    generator.validate();
    MUDIT_CHECK(cond_dropout >= 0 && cond_dropout <= 1 && lyric_dropout >= 0 &&
                    lyric_dropout <= 1 && edit_share >= 0 && edit_share <= 1,
                ConfigError,
                "generator: cond_dropout, lyric_dropout and edit_share are shares in [0, 1]");
    MUDIT_CHECK(plan_dropout >= 0 && plan_dropout <= 1 && plan_drop_all >= 0 && plan_drop_all <= 1,
                ConfigError, "generator: plan_dropout and plan_drop_all are shares in [0, 1]");
  }
};

struct GeneratorDataConfig {
  std::string shards;
  std::string valid_shards;  ///< "": no validation
  int64_t max_frames = 0;    ///< random crops of longer songs; 0: the model's max_frames
  double amateur_share = 0.5;
  int64_t valid_batches = 4;

  template <class V>
  void visit(V& v) {
    v("shards", shards);
    v("valid_shards", valid_shards);
    v("max_frames", max_frames);
    v("amateur_share", amateur_share);
    v("valid_batches", valid_batches);
  }
  void validate() const {
    MUDIT_CHECK(!shards.empty(), ConfigError, "data.shards is required (mudit prepare --out)");
    MUDIT_CHECK(amateur_share >= 0 && amateur_share <= 1, ConfigError,
                "data.amateur_share must be in [0, 1]");
  }
};

class GeneratorTask : public Task {
 public:
  GeneratorTask(const TaskContext& ctx, GeneratorTaskConfig cfg)
      : ctx_(ctx), cfg_(std::move(cfg)), data_(bind_config<GeneratorDataConfig>(ctx.data)) {
    cfg_.validate();
    data_.validate();
    GeneratorConfig& g = cfg_.generator;
    train_ = std::make_shared<data::ShardDataset>(data_.shards);
    check_fields(*train_, data_.shards);
    const data::ShardField* lat = train_->index().field(F::kLatents);
    MUDIT_CHECK(lat && lat->shape.size() == 1 && lat->shape[0] == g.dit.latent_dim, ConfigError,
                data_.shards, ": latents of ", lat && !lat->shape.empty() ? lat->shape[0] : 0,
                " channels, but model.dit.latent_dim is ", g.dit.latent_dim);
    if (g.condition != "none") {
      const data::ShardField* e = train_->index().field(F::kChinMu);
      MUDIT_CHECK(e && e->shape.size() == 1 && e->shape[0] == g.dit.cond_dim, ConfigError,
                  data_.shards, ": ChinMu vectors of ", e && !e->shape.empty() ? e->shape[0] : 0,
                  " dimensions, but model.dit.cond_dim is ", g.dit.cond_dim);
    }
    const std::filesystem::path info = std::filesystem::path(data_.shards) / "prepare.json";
    if (std::filesystem::exists(info)) {
      const nlohmann::json j = nlohmann::json::parse(read_file(info), nullptr, false);
      MUDIT_CHECK(j.is_object(), DataError, info.string(), ": not a JSON object");
      const int64_t vocab = j.value("phoneme_vocab", int64_t{0});
      MUDIT_CHECK(vocab <= g.dit.lyric_vocab, ConfigError, data_.shards, ": ", vocab,
                  " phoneme tokens, but model.dit.lyric_vocab is ", g.dit.lyric_vocab);
      latent_rate_ = j.value("latent_rate", 0.0);
    }
    if (g.dit.plan_slots > 0) {
      check_plan(*train_, data_.shards);
      MUDIT_CHECK(latent_rate_ > 0, DataError, info.string(),
                  ": no latent_rate, which the plan's diagnostics need (prepare the shards again)");
    }
    loader_ = std::make_unique<data::Loader>(train_, loader_config(ctx.batch_size), ctx.rank,
                                             ctx.world_size);
    if (!data_.valid_shards.empty()) {
      valid_ = std::make_shared<data::ShardDataset>(data_.valid_shards);
      check_fields(*valid_, data_.valid_shards);
      if (g.dit.plan_slots > 0) check_plan(*valid_, data_.valid_shards);
      data::LoaderConfig vc = loader_config(ctx.batch_size);
      vc.shuffle = false;
      vc.remainder = "wrap";
      valid_loader_ = std::make_unique<data::Loader>(valid_, vc, ctx.rank, ctx.world_size);
    }
    {
      torch::NoGradGuard no_grad;
      seed_everything(derive_seed(ctx_.seed, 0, RngStream::kGlobal), /*rank=*/0);
      dit_ = DiT(g.dit);
      if (!cfg_.init.empty()) {
        const Generator init = load_generator(cfg_.init);
        load_state_dict(*dit_, state_dict(*init.dit));
        log::info("generator weights from ", cfg_.init);
      }
    }
    dit_->set_activation_checkpointing(ctx.activation_checkpointing);
    dit_->to(ctx.device);
    if (g.objective == "ddpm") {
      ddpm_ = std::make_unique<diffusion::Ddpm>(g.ddpm);
    } else {
      interp_ = std::make_unique<diffusion::Interpolant>(g.interpolant);
    }
    log::info("generator (", g.objective == "ddpm" ? "MuDiT, DDPM" : "MuSiT, interpolant", ", ",
              g.condition, " condition): ", static_cast<double>(count_parameters(*dit_)) / 1e6,
              " M parameters; ", train_->size(), " training songs",
              valid_ ? ", " + std::to_string(valid_->size()) + " validation songs" : "");
  }

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    return {{"model", dit_.ptr()}};
  }
  std::string arch() const override { return "generator"; }
  std::string model_config_yaml() const override { return dump_config(cfg_.generator); }
  NamedParams parameters(int) override {
    NamedParams out;
    for (const auto& p : dit_->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }
  int64_t steps_per_epoch(int64_t global_batch) const override {
    return std::max<int64_t>(1, train_->size() / std::max<int64_t>(1, global_batch));
  }

  Batch batch(int64_t step, int64_t micro) override {
    // A pure function of (step, micro, rank): the loader builds the batch directly, and the
    // trainer has seeded the global generator from (seed, step, rank) for the draws below.
    const int64_t k = step * ctx_.grad_accum + micro;
    const int64_t per_epoch = loader_->batches_per_epoch();
    return make_batch(loader_->build(k / per_epoch, k % per_epoch), /*train=*/true);
  }

  std::map<std::string, at::Tensor> losses(const Batch& b, int, int64_t) override {
    std::map<std::string, at::Tensor> out;
    out["loss"] = loss(b, b.at("t"), b.at("noise"));
    return out;
  }

  std::map<std::string, double> validate(int64_t) override {
    if (!valid_loader_) return {};
    torch::NoGradGuard no_grad;
    const bool was_training = dit_->is_training();
    dit_->eval();
    // Fixed noise and times per batch, so the numbers compare across steps. Every variant is
    // the same songs, noise and times with one input changed; "<x>_gain" is the variant's loss
    // minus the true inputs' loss, per song (mean and standard error over the songs): what
    // that input is worth to the network (0: ignored). condition_gain: the description (the
    // learned null in its place); plan_gain: the whole plan; plan_gain_<group>: one group;
    // plan_cost_beats_shifted / plan_cost_transposed: a wrong plan (must be > 0).
    const bool plan = cfg_.generator.dit.plan_slots > 0;
    const generation::PlanLayout layout{cfg_.generator.dit.plan_slots};
    std::map<std::string, std::vector<at::Tensor>> per_song;  // variant -> [B] per batch
    std::vector<at::Tensor> levels;                           // noise level per song
    const int64_t batches = std::min(data_.valid_batches, valid_loader_->batches_per_epoch());
    for (int64_t i = 0; i < batches; ++i) {
      at::manual_seed(static_cast<uint64_t>(1000 + i));
      Batch vb = make_batch(valid_loader_->build(0, i), /*train=*/false);
      auto run = [&](const std::string& name, const Batch& b) {
        per_song[name].push_back(song_losses(b, vb.at("t"), vb.at("noise")).cpu());
      };
      run("loss", vb);
      levels.push_back(noise_level(vb.at("t")).cpu());
      if (vb.count("cond")) {
        Batch v = vb;
        v["cond_keep"] = at::zeros_like(vb.at("cond_keep"));
        run("condition", v);
      }
      if (plan) {
        const at::Tensor p = vb.at("plan");
        Batch v = vb;
        v["plan"] = at::zeros_like(p);
        run("plan", v);
        for (int g = 0; g < generation::kPlanGroups; ++g) {
          at::Tensor keep = at::ones({p.size(0), generation::kPlanGroups}, at::kBool);
          keep.select(1, g).fill_(false);
          v["plan"] = generation::drop_plan_groups(p, keep.to(p.device()), layout);
          run(std::string("plan_") +
                  generation::plan_group_name(static_cast<generation::PlanGroup>(g)),
              v);
        }
        v["plan"] = generation::shift_plan_beats(p.cpu(), latent_rate_, layout).to(p.device());
        run("shifted", v);
        v["plan"] = generation::transpose_plan(p, 6, layout);
        run("transposed", v);
      }
    }
    if (was_training) dit_->train();
    std::map<std::string, double> out;
    const at::Tensor base = at::cat(per_song.at("loss")).to(at::kDouble);  // [N]
    out["loss"] = base.mean().item<double>();
    out["songs"] = static_cast<double>(base.numel());
    auto gain = [&](const std::string& variant, const std::string& name) {
      if (!per_song.count(variant)) return;
      const at::Tensor v = at::cat(per_song.at(variant)).to(at::kDouble);  // [N]
      const at::Tensor d = v - base;
      out[name] = v.mean().item<double>() - out["loss"];
      out[name + "_se"] =
          d.numel() > 1 ? d.std().item<double>() / std::sqrt(static_cast<double>(d.numel())) : 0.0;
    };
    if (per_song.count("condition")) {
      gain("condition", "condition_gain");
      out["loss_null_condition"] = out["loss"] + out["condition_gain"];
    }
    gain("plan", "plan_gain");
    for (int g = 0; g < generation::kPlanGroups; ++g) {
      const std::string n = generation::plan_group_name(static_cast<generation::PlanGroup>(g));
      gain("plan_" + n, "plan_gain_" + n);
    }
    gain("shifted", "plan_cost_beats_shifted");
    gain("transposed", "plan_cost_transposed");
    if (per_song.count("plan")) {  // the plan's gain per quarter of the noise levels
      const at::Tensor level = at::cat(levels).to(at::kDouble);
      const at::Tensor d = at::cat(per_song.at("plan")).to(at::kDouble) - base;
      for (int q = 0; q < 4; ++q) {
        const at::Tensor in =
            level.ge(q / 4.0) & (q == 3 ? level.le(1.0) : level.lt((q + 1) / 4.0));
        if (in.sum().item<int64_t>() == 0) continue;
        out["plan_gain_noise_q" + std::to_string(q + 1)] =
            d.masked_select(in).mean().item<double>();
      }
    }
    return out;
  }

 private:
  void check_plan(const data::ShardDataset& d, const std::string& where) const {
    const int64_t want = cfg_.generator.dit.plan_dim();
    const data::ShardField* f = d.index().field(F::kPlan);
    MUDIT_CHECK(f, DataError, where,
                ": no 'plan' field, which model.dit.plan_slots needs; prepare the shards again "
                "with this mudit prepare, or set model.dit.plan_slots=0");
    MUDIT_CHECK(f->shape.size() == 1 && f->shape[0] == want, ConfigError, where, ": plans of ",
                f->shape.empty() ? 0 : f->shape[0], " features, but model.dit.plan_slots ",
                cfg_.generator.dit.plan_slots, " takes ", want,
                " (prepare with --set prepare.plan_slots=", cfg_.generator.dit.plan_slots, ")");
  }

  // Noise level in [0, 1] (1 = pure noise) of the training times.
  at::Tensor noise_level(const at::Tensor& t) const {
    if (ddpm_) return t.to(at::kDouble) / static_cast<double>(cfg_.generator.ddpm.timesteps - 1);
    return 1.0 - t.to(at::kDouble);
  }

  static void check_fields(const data::ShardDataset& d, const std::string& where) {
    for (const char* f : {F::kLatents, F::kPhonemes})
      MUDIT_CHECK(d.index().field(f), DataError, where, ": no '", f,
                  "' field; prepare the shards with mudit prepare");
  }

  data::LoaderConfig loader_config(int64_t batch) const {
    data::LoaderConfig c;
    c.batch_size = batch;
    c.workers = 0;
    c.max_frames = data_.max_frames > 0 ? data_.max_frames : cfg_.generator.dit.max_frames;
    c.crop_field = F::kLatents;
    c.seed = ctx_.seed;
    c.remainder = "wrap";
    c.fields = {F::kLatents, F::kPhonemes};
    if (cfg_.generator.condition == "audio") c.fields.push_back(F::kChinMu);
    if (cfg_.generator.condition == "text") {
      c.fields.push_back(F::kTextEmb);
      c.fields.push_back(F::kTextRegister);
      c.fields.push_back(F::kChinMu);  // songs without descriptions fall back to their audio
    }
    if (cfg_.generator.dit.plan_slots > 0) {
      c.fields.push_back(F::kPlan);
      c.aligned_fields = {F::kPlan};  // cropped with the latents
    }
    return c;
  }

  // The model's inputs, the condition, the dropout and edit draws, noise and times.
  Batch make_batch(const data::Batch& lb, bool train) {
    const GeneratorConfig& g = cfg_.generator;
    const at::Tensor x0 = lb.tensors.at(F::kLatents);  // [B, T, D]
    const int64_t b = x0.size(0), t = x0.size(1);
    const auto cpu_bool = at::TensorOptions().dtype(at::kBool);
    Batch out;
    out["x0"] = x0;
    out["frame_mask"] = lb.masks.at(F::kLatents);
    at::Tensor ids = lb.tensors.at(F::kPhonemes);  // [B, L]
    at::Tensor lmask = lb.masks.at(F::kPhonemes);
    const int64_t lmax = g.dit.lyric_max_tokens;
    if (ids.size(1) > lmax) {  // over-long lyrics are cut (counted once)
      if (!warned_long_lyrics_) {
        log::warn("lyrics of ", ids.size(1), " phoneme tokens cut to model.dit.lyric_max_tokens (",
                  lmax, ")");
        warned_long_lyrics_ = true;
      }
      ids = ids.narrow(1, 0, lmax);
      lmask = lmask.narrow(1, 0, lmax);
    }
    out["lyrics"] = ids;
    out["lyric_mask"] = lmask;
    if (g.condition == "audio") {
      out["cond"] = lb.tensors.at(F::kChinMu).select(1, 0);  // [B, E]
    } else if (g.condition == "text") {
      out["cond"] = pick_descriptions(lb);
    }
    // Condition dropout (training) and the in-context edit spans.
    const double cd = train ? cfg_.cond_dropout : 0.0, ld = train ? cfg_.lyric_dropout : 0.0;
    out["cond_keep"] = at::rand({b}).ge(cd);
    out["lyrics_keep"] = at::rand({b}).ge(ld);
    at::Tensor known = at::zeros({b, t}, cpu_bool);
    const at::Tensor len = lb.lengths.at(F::kLatents);
    for (int64_t i = 0; i < b; ++i) {
      if (at::rand({1}).item<double>() >= cfg_.edit_share) continue;
      const int64_t n = len[i].item<int64_t>();
      const int64_t a = static_cast<int64_t>(at::rand({1}).item<double>() * 0.5 * n);
      if (at::rand({1}).item<double>() < 0.5) {
        known[i].narrow(0, 0, std::max<int64_t>(1, a)).fill_(true);  // continuation: a prefix
      } else {  // repaint: all but a window [a, a + w)
        const int64_t w = std::max<int64_t>(1, static_cast<int64_t>(0.5 * n));
        known[i].narrow(0, 0, n).fill_(true);
        known[i].narrow(0, a, std::min(w, n - a)).fill_(false);
      }
    }
    out["known_mask"] = known;
    if (g.dit.plan_slots > 0) {  // the plan, its groups dropped alone and together
      const at::Tensor plan = lb.tensors.at(F::kPlan).to(at::kFloat);  // [B, T, F]
      const double pd = train ? cfg_.plan_dropout : 0.0, pa = train ? cfg_.plan_drop_all : 0.0;
      const at::Tensor keep =
          at::rand({b, generation::kPlanGroups}).ge(pd) & at::rand({b, 1}).ge(pa);  // [B, 3]
      out["plan"] =
          generation::drop_plan_groups(plan, keep, generation::PlanLayout{g.dit.plan_slots});
    }
    out["noise"] = at::randn_like(x0);
    out["t"] = ddpm_ ? ddpm_->sample_time(b, at::TensorOptions())
                     : interp_->sample_time(b, at::TensorOptions().dtype(at::kFloat));
    for (auto& [k, v] : out) v = v.to(ctx_.device);
    return out;
  }

  // One description embedding per song: amateur with probability amateur_share when it has
  // both registers; a song without descriptions uses its audio embedding.
  at::Tensor pick_descriptions(const data::Batch& lb) {
    const at::Tensor emb = lb.tensors.at(F::kTextEmb);       // [B, V, E]
    const at::Tensor reg = lb.tensors.at(F::kTextRegister);  // [B, V]
    const at::Tensor n = lb.lengths.at(F::kTextEmb);         // [B]
    const at::Tensor audio = lb.tensors.at(F::kChinMu).select(1, 0);
    std::vector<at::Tensor> rows;
    for (int64_t i = 0; i < emb.size(0); ++i) {
      const int64_t v = n[i].item<int64_t>();
      if (v == 0) {
        rows.push_back(audio[i]);
        continue;
      }
      const bool amateur = at::rand({1}).item<double>() < data_.amateur_share;
      std::vector<int64_t> pool, any;
      for (int64_t j = 0; j < v; ++j) {
        any.push_back(j);
        if ((reg[i][j].item<int64_t>() == 0) == amateur) pool.push_back(j);
      }
      const auto& from = pool.empty() ? any : pool;
      const int64_t pick = from[static_cast<size_t>(
          std::min<int64_t>(static_cast<int64_t>(from.size()) - 1,
                            static_cast<int64_t>(at::rand({1}).item<double>() * from.size())))];
      rows.push_back(emb[i][pick]);
    }
    return at::stack(rows);
  }

  at::Tensor loss(const Batch& b, const at::Tensor& t, const at::Tensor& noise) {
    return song_losses(b, t, noise).mean();
  }

  // The loss of every song of the batch: [B].
  at::Tensor song_losses(const Batch& b, const at::Tensor& t, const at::Tensor& noise) {
    const at::Tensor& x0 = b.at("x0");
    DiTInputs in;
    in.t = t;
    in.frame_mask = b.at("frame_mask");
    if (b.count("cond")) in.cond = b.at("cond");
    in.cond_keep = b.at("cond_keep");
    in.lyrics = b.at("lyrics");
    in.lyric_mask = b.at("lyric_mask");
    in.lyrics_keep = b.at("lyrics_keep");
    in.known = x0;
    in.known_mask = b.at("known_mask");
    if (b.count("plan")) in.plan = b.at("plan");
    // Frames the loss scores: real and not given in context.
    const at::Tensor scored = in.frame_mask & in.known_mask.logical_not();
    at::Tensor terms, weight;
    if (ddpm_) {
      in.x = ddpm_->q_sample(x0, noise, t);
      terms = (dit_->forward(in) - ddpm_->target(x0, noise, t)).pow(2);
      weight = ddpm_->loss_weight(t).to(x0.device());
    } else {
      const auto [xt, ut] = interp_->plan(t, noise, x0);
      in.x = xt;
      terms = interp_->loss_terms(dit_->forward(in), noise, x0, xt, ut, t);
    }
    const at::Tensor per_song = diffusion::masked_mean(terms.to(at::kFloat), scored);  // [B]
    return weight.defined() ? per_song * weight : per_song;
  }

  TaskContext ctx_;
  GeneratorTaskConfig cfg_;
  GeneratorDataConfig data_;
  std::shared_ptr<data::ShardDataset> train_, valid_;
  std::unique_ptr<data::Loader> loader_, valid_loader_;
  DiT dit_{nullptr};
  std::unique_ptr<diffusion::Ddpm> ddpm_;
  std::unique_ptr<diffusion::Interpolant> interp_;
  bool warned_long_lyrics_ = false;
  double latent_rate_ = 0;  // latent frames per second (prepare.json)
};

}  // namespace

std::unique_ptr<Task> make_generator_task(const TaskContext& context) {
  return std::make_unique<GeneratorTask>(context, bind_config<GeneratorTaskConfig>(context.model));
}

}  // namespace mudit::train
