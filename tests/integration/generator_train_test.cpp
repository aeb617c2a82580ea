// Stage 2 and 3 end to end on a small synthetic corpus: mudit prepare writes every field with
// the right shapes and counts (and refuses to overwrite a prepared folder, or to normalise with
// a codec that has no statistics, leaving nothing behind); then the tiny MuSiT (interpolant,
// audio condition) and MuDiT (DDPM, text condition) train, the loss of a fixed batch falls, and
// the run's model file loads as a generator with the trained weights; bundles of them generate
// reproducible songs, repaint keeps the reference outside its window, and bad requests are
// refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "integration/synth_corpus.h"
#include "mudit/audio/io.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/data/manifest.h"
#include "mudit/data/shards.h"
#include "mudit/data/synth.h"
#include "mudit/dist/comm.h"
#include "mudit/generation/plan.h"
#include "mudit/generation/plan_head.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/generator.h"
#include "mudit/models/model_files.h"
#include "mudit/models/wave_vae.h"
#include "mudit/pipeline/generate.h"
#include "mudit/pipeline/prepare.h"
#include "mudit/retrieval/server.h"
#include "mudit/text/tokenizer.h"
#include "mudit/train/trainer.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

namespace fs = std::filesystem;
const std::string kConfigs = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/generator/";

class GeneratorPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::have_soundfont()) GTEST_SKIP() << "no General MIDI soundfont installed";
    test::make_corpus(dir_.path() / "corpus", 12, 5, 3, 0.25);
    manifest_ = (dir_.path() / "corpus" / "manifest.jsonl").string();
    torch::manual_seed(0);
    WaveVAECodec codec(WaveVAEConfig::tiny());
    codec->set_latent_stats(torch::zeros({32}), torch::ones({32}) * 0.5, 100);
    save_codec(dir_.path() / "codec.safetensors", *codec);
    WaveVAECodec bare(WaveVAEConfig::tiny());
    save_codec(dir_.path() / "bare.safetensors", *bare);
    ChinMuConfig mc = ChinMuConfig::tiny();
    std::vector<std::string> texts;
    for (const auto& e : data::read_manifest(manifest_))
      for (const auto& d : e.amateur) texts.push_back(d.text);
    mc.vocab = text::build_vocab(texts, text::VocabBuilderConfig{500, 1, true, 16});
    mc.text.bert.vocab_size = static_cast<int64_t>(mc.vocab.size());
    ChinMu chinmu(mc);
    ModelMeta meta;
    meta.arch = "chinmu";
    meta.config = dump_config(mc);
    save_model(dir_.path() / "chinmu.safetensors", *chinmu, meta);
  }

  pipeline::PrepareReport prepare(const std::string& split, const std::string& out,
                                  const std::string& codec = "codec.safetensors") {
    pipeline::PrepareConfig c;
    c.manifest = manifest_;
    c.split = split;
    c.codec = (dir_.path() / codec).string();
    c.chinmu = (dir_.path() / "chinmu.safetensors").string();
    c.out = (dir_.path() / out).string();
    return pipeline::prepare(c);
  }

  test::TempDir dir_;
  std::string manifest_;
};

TEST_F(GeneratorPipeline, PrepareThenTrainBothObjectives) {
  const auto r = prepare("train", "train");
  int64_t songs = 0, texts = 0;
  for (const auto& e : data::read_manifest(manifest_)) {
    if (e.split != "train") continue;
    ++songs;
    texts += static_cast<int64_t>(e.amateur.size() + e.professional.size());
  }
  EXPECT_EQ(r.songs, songs);
  EXPECT_EQ(r.descriptions, texts);
  EXPECT_EQ(r.unreadable, 0);
  EXPECT_EQ(r.without_lyrics, 0);
  const data::ShardDataset shards(dir_.path() / "train");
  ASSERT_EQ(shards.size(), songs);
  const data::Item item = shards.get(0);
  EXPECT_EQ(item.at("latents").size(1), 32);
  double duration = 0;
  for (const auto& e : data::read_manifest(manifest_))
    if (e.id == shards.id(0)) duration = e.duration;
  EXPECT_EQ(item.at("latents").size(0),
            static_cast<int64_t>(std::ceil(duration * 24000 / 2048 - 1e-6)));  // ceil(T / hop)
  EXPECT_EQ(item.at("chinmu").sizes(), (c10::IntArrayRef{1, 128}));
  EXPECT_EQ(item.at("chinmu_chunks").size(1), 128);
  EXPECT_EQ(item.at("text_emb").size(0), item.at("text_register").size(0));
  EXPECT_GT(item.at("phonemes").size(0), 4);
  EXPECT_LT(item.at("phonemes").max().item<int64_t>(), 140);
  // Unit-norm ChinMu vectors; the registers are 0 and 1.
  EXPECT_NEAR(item.at("chinmu").norm().item<double>(), 1.0, 1e-4);
  EXPECT_EQ(item.at("text_register").max().item<int64_t>(), 1);
  EXPECT_TRUE(fs::exists(dir_.path() / "train" / "phonemes.txt"));
  EXPECT_TRUE(fs::exists(dir_.path() / "train" / "prepare.json"));
  // The musical plan of every song, from the synthetic labels beside its audio, frame-aligned
  // with the latents; its tempo is the labels' felt tempo.
  EXPECT_EQ(r.plans_from_labels, songs);
  EXPECT_EQ(r.plans_from_audio, 0);
  const generation::PlanLayout layout{16};
  ASSERT_EQ(item.at("plan").sizes(), (c10::IntArrayRef{item.at("latents").size(0), layout.dim()}));
  const generation::MusicalPlan decoded = generation::decode_plan(item.at("plan"), 24000.0 / 2048);
  const auto labels = data::synth::labels_from_json(
      read_file(dir_.path() / "corpus" / "songs" / shards.id(0) / "labels.json"));
  EXPECT_NEAR(decoded.bpm, data::synth::beat_bpm(labels), 0.01);
  EXPECT_TRUE(decoded.has_key);

  // A prepared folder is never overwritten; a codec without statistics refuses to normalise
  // and leaves no folder.
  const auto before = fs::last_write_time(dir_.path() / "train" / "index.json");
  EXPECT_THROW(prepare("train", "train"), IoError);
  EXPECT_EQ(fs::last_write_time(dir_.path() / "train" / "index.json"), before);
  EXPECT_THROW(prepare("train", "bare", "bare.safetensors"), ConfigError);
  EXPECT_FALSE(fs::exists(dir_.path() / "bare" / "index.json"));
  prepare("valid", "valid");

  for (const std::string objective : {"interpolant", "ddpm"}) {
    ConfigNode tree = load_config_file(kConfigs + "tiny.yaml");
    const std::string run_dir = (dir_.path() / ("run_" + objective)).string();
    for (const std::string& o :
         {"data.shards='" + (dir_.path() / "train").string() + "'",
          "data.valid_shards='" + (dir_.path() / "valid").string() + "'",
          "run_dir='" + run_dir + "'", std::string("train.steps=120"),
          std::string("train.batch_size=4"), std::string("train.log_every=40"),
          std::string("train.validate_every=120"), std::string("train.checkpoint_every=0"),
          std::string("train.schedule.warmup_steps=10"),
          std::string("train.schedule.total_steps=120"), std::string("train.optim.lr=1e-3"),
          "model.objective=" + objective,
          std::string(objective == "ddpm" ? "model.condition=text" : "model.condition=audio"),
          // MuDiT keeps an EMA: its model file and bundle must sample with the EMA weights.
          std::string(objective == "ddpm" ? "train.ema.enabled=true" : "train.ema.enabled=false"),
          std::string("train.ema.decay=0.9")}) {
      apply_override(tree, o);
    }
    const auto run = bind_config<train::RunConfig>(tree);
    train::TaskContext ctx;
    ctx.seed = run.train.seed;
    ctx.batch_size = run.train.batch_size;
    ctx.model = run.model;
    ctx.data = run.data;
    auto task = train::make_task(run.task, ctx);
    // A fixed batch with fixed noise and times, scored before and after.
    torch::manual_seed(5);
    const train::Batch fixed = task->batch(0, 0);
    auto fixed_loss = [&] {
      torch::NoGradGuard no_grad;
      return task->losses(fixed, 0, 0).at("loss").item<double>();
    };
    const double start = fixed_loss();
    const auto valid0 = task->validate(0);
    const double valid_start = valid0.at("loss");
    // adaLN-Zero: before training the condition cannot change the output, so the learned null
    // scores exactly as the condition does.
    EXPECT_NEAR(valid0.at("condition_gain"), 0.0, 1e-7) << objective;
    EXPECT_DOUBLE_EQ(valid0.at("loss_null_condition"), valid_start + valid0.at("condition_gain"));
    // Likewise the plan's zero-initialised projections: no plan, no group and no wrong plan
    // changes anything yet.
    for (const char* k : {"plan_gain", "plan_gain_beats", "plan_gain_chords", "plan_gain_key",
                          "plan_cost_beats_shifted", "plan_cost_transposed"})
      EXPECT_NEAR(valid0.at(k), 0.0, 1e-7) << k;
    auto comm = dist::init_comm(dist::DistEnv{}, dist::DistConfig{}, c10::Device(c10::kCPU));
    const train::TrainResult result = train::train(run, *task, comm);
    EXPECT_EQ(result.step, 120);
    EXPECT_EQ(result.skipped_steps, 0);
    const double end = fixed_loss();
    const double valid_end = task->validate(120).at("loss");
    std::cout << "  " << objective << ": fixed-batch loss " << start << " -> " << end
              << ", validation " << valid_start << " -> " << valid_end << "\n";
    EXPECT_LT(end, 0.8 * start) << objective;
    EXPECT_LT(valid_end, valid_start) << objective;
    Generator g = load_generator(resolve_model_file(run_dir));
    EXPECT_EQ(g.config.objective, objective);
    // The model file's weights: the trained ones, or with an EMA the average (which differs).
    const fs::path model_file = resolve_model_file(run_dir);
    const bool ema = objective == "ddpm";
    ASSERT_EQ(fs::exists(model_file.parent_path() / "ema.safetensors"), ema);
    const auto trained =
        ema ? load_safetensors(model_file.parent_path() / "ema.safetensors").tensors
            : state_dict(*task->modules().front().second);
    for (const auto& [k, t] : state_dict(*g.dit)) EXPECT_TRUE(torch::equal(trained.at(k), t)) << k;
    if (ema) {
      const auto raw = state_dict(*load_generator(model_file, c10::kCPU, /*use_ema=*/false).dit);
      EXPECT_FALSE(
          torch::equal(raw.at("blocks.0.attn.qkv.weight"), trained.at("blocks.0.attn.qkv.weight")));
    }

    // A bundle, and songs from it: the same request gives the same song, another seed another.
    const fs::path bundle_dir = dir_.path() / ("bundle_" + objective);
    pipeline::make_bundle(dir_.path() / "codec.safetensors", dir_.path() / "chinmu.safetensors",
                          run_dir, bundle_dir);
    EXPECT_THROW(pipeline::make_bundle(dir_.path() / "codec.safetensors",
                                       dir_.path() / "chinmu.safetensors", run_dir, bundle_dir),
                 IoError);
    pipeline::Bundle bundle = pipeline::load_bundle(bundle_dir);
    for (const auto& [k, t] : state_dict(*bundle.generator.dit))
      EXPECT_TRUE(torch::equal(trained.at(k), t)) << "bundle: " << k;
    pipeline::SongRequest req = pipeline::SongRequest::from_json(
        R"({"description": "A major, 140 BPM", "lyrics": "(verse1)\n花儿轻轻想起花", "duration": 3,
            "seed": 4, "steps": 8})",
        "test");
    const pipeline::Song a = pipeline::generate(bundle, req);
    const pipeline::Song b = pipeline::generate(bundle, req);
    EXPECT_TRUE(torch::equal(a.audio, b.audio));
    // The plan the description states, and the request's fields over it: the song changes with
    // the plan (its projections trained away from zero), and the sources say who gave what.
    EXPECT_EQ(a.plan.source[0], "description");
    EXPECT_NEAR(a.plan.bpm, 140.0, 1e-9);
    EXPECT_EQ(a.plan.key.name(), "A major");
    EXPECT_EQ(a.plan.source[2], "description");
    EXPECT_EQ(a.plan.source[1], "progression");  // the key's I-V-vi-IV, one chord per bar
    ASSERT_FALSE(a.plan.chords.empty());
    EXPECT_EQ(a.plan.chords[0].symbol, "A");
    pipeline::SongRequest slow = req;
    slow.bpm = 70;
    slow.chords = {"Am", "F", "C", "G"};
    const pipeline::Song c = pipeline::generate(bundle, slow);
    EXPECT_EQ(c.plan.source[0], "request");
    EXPECT_EQ(c.plan.source[1], "request");
    EXPECT_EQ(c.plan.source[2], "description");
    EXPECT_NEAR(c.plan.bpm, 70.0, 1e-9);
    EXPECT_FALSE(torch::equal(c.audio, a.audio));
    EXPECT_EQ(a.frames, std::llround(3 * bundle.codec->latent_rate()));
    // mudit serve --bundle's generator writes the same song as a WAV file.
    const retrieval::SongGenerator serve_gen =
        retrieval::bundle_song_generator(bundle_dir, c10::kCPU);
    retrieval::GenerateRequest gr;
    gr.description = req.description;
    gr.lyrics = req.lyrics;
    gr.duration = 3;
    gr.seed = 4;
    gr.steps = 8;
    serve_gen(gr, dir_.path() / ("served_" + objective + ".wav"));
    const audio::Audio served = audio::read_audio(dir_.path() / ("served_" + objective + ".wav"));
    ASSERT_EQ(served.samples.sizes(), a.audio.sizes());
    EXPECT_LT((served.samples - a.audio.clamp(-1, 1)).abs().max().item<double>(), 1e-4);
    EXPECT_EQ(a.audio.size(1), a.frames * bundle.codec->hop_length());
    EXPECT_EQ(a.sampler, objective == "ddpm" ? "ddim" : "heun");
    EXPECT_EQ(a.evaluations, objective == "ddpm" ? 8 * 2 : 8 * 2 * 2);  // Heun: 2 per step
    req.seed = 5;
    EXPECT_FALSE(torch::equal(pipeline::generate(bundle, req).audio, a.audio));
    // Repaint keeps the reference outside the window exactly.
    const std::string ref =
        (dir_.path() / "corpus" / "songs" / "synth_000000" / "audio.wav").string();
    pipeline::SongRequest rp = pipeline::SongRequest::from_json(
        R"({"description": "slow", "steps": 4, "edit": {"mode": "repaint", "reference": ")" + ref +
            R"(", "start": 1, "end": 2}})",
        "test");
    const pipeline::Song painted = pipeline::generate(bundle, rp);
    const at::Tensor want = encode_chunked(*bundle.codec, audio::read_audio(ref).samples);
    const int64_t s0 = std::llround(1 * bundle.codec->latent_rate());
    const int64_t s1 = std::llround(2 * bundle.codec->latent_rate());
    ASSERT_EQ(painted.latents.size(0), want.size(0));
    EXPECT_LT((painted.latents.narrow(0, 0, s0) - want.narrow(0, 0, s0)).abs().max().item<double>(),
              1e-5);
    EXPECT_GT((painted.latents.narrow(0, s0, s1 - s0) - want.narrow(0, s0, s1 - s0))
                  .abs()
                  .max()
                  .item<double>(),
              1e-3);
    // An edit's plan is its reference's (the key at least; beats from 2.5 s of audio on).
    EXPECT_EQ(painted.plan.source[2], "reference");
    EXPECT_EQ(painted.plan.source[0], painted.plan.has_beats() ? "reference" : "");
    // A plan head in the bundle gives the tempo and meter a description does not state.
    {
      const int64_t e = bundle.chinmu->config().embed_dim;
      std::vector<generation::PlanFacts> facts(64);
      for (size_t i = 0; i < facts.size(); ++i) {
        facts[i].bpm = i % 2 ? 150 : 70;
        facts[i].meter = "3/4";
        facts[i].has_key = true;
        facts[i].key.tonic = static_cast<int>(i % 12);
      }
      generation::PlanHead head = generation::fit_plan_head(at::randn({64, e}), facts);
      generation::save_plan_head(dir_.path() / "head.safetensors", head);
      const fs::path head_bundle = dir_.path() / ("bundle_head_" + objective);
      EXPECT_THROW(pipeline::make_bundle(dir_.path() / "codec.safetensors",
                                         dir_.path() / "chinmu.safetensors", run_dir, head_bundle,
                                         dir_.path() / "codec.safetensors"),
                   ConfigError);
      pipeline::make_bundle(dir_.path() / "codec.safetensors", dir_.path() / "chinmu.safetensors",
                            run_dir, head_bundle, dir_.path() / "head.safetensors");
      pipeline::Bundle hb = pipeline::load_bundle(head_bundle);
      ASSERT_TRUE(hb.plan_head);
      pipeline::SongRequest vague = pipeline::SongRequest::from_json(
          R"({"description": "slow and wistful", "duration": 2, "steps": 2})", "test");
      const pipeline::Song h = pipeline::generate(hb, vague);
      EXPECT_EQ(h.plan.source[0], "head");
      EXPECT_EQ(h.plan.beats_per_bar, 3);
      EXPECT_FALSE(pipeline::generate(bundle, vague).plan.has_beats());  // no head, no tempo
    }
    // A style song is conditioned on the reference's ChinMu audio embedding: it differs from
    // the unprompted song of the same seed, and its request survives the sidecar.
    pipeline::SongRequest style = pipeline::SongRequest::from_json(
        R"({"style": ")" + ref + R"(", "duration": 2, "steps": 4, "seed": 3})", "test");
    pipeline::SongRequest plain = style;
    plain.style.clear();
    const pipeline::Song styled = pipeline::generate(bundle, style);
    EXPECT_TRUE(torch::equal(styled.latents, pipeline::generate(bundle, style).latents));
    EXPECT_GT(
        (styled.latents - pipeline::generate(bundle, plain).latents).abs().max().item<double>(),
        1e-6);
    EXPECT_EQ(pipeline::SongRequest::from_json(style.to_json(), "sidecar").style, ref);
    style.style = (dir_.path() / "missing.wav").string();
    EXPECT_THROW(pipeline::generate(bundle, style), IoError);
    // Audio-to-audio and the other samplers run; a sampler of the other objective is refused.
    pipeline::SongRequest a2a = rp;
    a2a.edit = "audio2audio";
    a2a.strength = 0.5;
    EXPECT_EQ(pipeline::generate(bundle, a2a).latents.size(0), want.size(0));
    req.sampler = objective == "ddpm" ? "ddpm" : "sde-euler";
    EXPECT_TRUE(torch::isfinite(pipeline::generate(bundle, req).audio).all().item<bool>());
    req.sampler = objective == "ddpm" ? "heun" : "ddim";
    EXPECT_THROW(pipeline::generate(bundle, req), ConfigError);
  }
  // Bad request lines name the place and the field.
  EXPECT_THROW(pipeline::SongRequest::from_json("{\"duration\": -1}", "x:1"), DataError);
  EXPECT_THROW(pipeline::SongRequest::from_json("{\"colour\": 1}", "x:1"), DataError);
  EXPECT_THROW(pipeline::SongRequest::from_json("{\"cfg\": \"high\"}", "x:1"), DataError);
  EXPECT_THROW(pipeline::SongRequest::from_json("{\"edit\": {\"mode\": \"repaint\"}}", "x:1"),
               DataError);
  EXPECT_THROW(pipeline::SongRequest::from_json("[1]", "x:1"), DataError);
  EXPECT_THROW(
      pipeline::SongRequest::from_json(R"({"description": "slow", "style": "a.wav"})", "x:1"),
      DataError);
}

}  // namespace
}  // namespace mudit
