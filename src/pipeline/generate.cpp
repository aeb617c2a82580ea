#include "mudit/pipeline/generate.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "mudit/audio/io.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/utf8.h"
#include "mudit/diffusion/ddpm.h"
#include "mudit/diffusion/guidance.h"
#include "mudit/diffusion/samplers.h"
#include "mudit/eval/plan_scores.h"
#include "mudit/generation/plan_file.h"
#include "mudit/generation/plan_text.h"
#include "mudit/models/model_files.h"
#include "mudit/text/lyrics.h"

namespace mudit::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::set<std::string> kSamplers = {"euler",    "heun", "dopri5", "sde-euler",
                                         "sde-heun", "ddim", "ddpm"};

struct BundleFiles {
  std::string codec = "codec.safetensors";
  std::string chinmu = "chinmu.safetensors";
  std::string generator = "generator.safetensors";
  std::string phonemes = "phonemes.txt";
  std::string plan_head;  ///< optional: "" when the bundle has none
  template <class V>
  void visit(V& v) {
    v("codec", codec);
    v("chinmu", chinmu);
    v("generator", generator);
    v("phonemes", phonemes);
    v("plan_head", plan_head);
  }
  void validate() const {}
};

}  // namespace

SongRequest SongRequest::from_json(const std::string& line, const std::string& where) {
  utf8::require_valid(line, where);
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  MUDIT_CHECK(j.is_object(), DataError, where, ": not a JSON object");
  SongRequest r;
  static const std::set<std::string> kKeys = {
      "id",    "description", "style", "lyrics",    "duration", "seed",
      "steps", "sampler",     "cfg",   "lyric_cfg", "plan_cfg", "cfg_rescale",
      "edit",  "bpm",         "key",   "meter",     "chords",   "plan"};
  for (const auto& [k, v] : j.items())
    MUDIT_CHECK(kKeys.count(k), DataError, where, ": unknown key '", k, "'");
  auto get = [&](const json& o, const char* key, auto& field, const std::string& ctx) {
    if (!o.contains(key)) return;
    try {
      o.at(key).get_to(field);
    } catch (const std::exception&) {
      MUDIT_THROW(DataError, where, ": '", ctx, key, "' has the wrong type");
    }
  };
  get(j, "id", r.id, "");
  get(j, "description", r.description, "");
  get(j, "style", r.style, "");
  get(j, "lyrics", r.lyrics, "");
  get(j, "duration", r.duration, "");
  get(j, "seed", r.seed, "");
  get(j, "steps", r.steps, "");
  get(j, "sampler", r.sampler, "");
  get(j, "cfg", r.cfg, "");
  get(j, "lyric_cfg", r.lyric_cfg, "");
  get(j, "cfg_rescale", r.cfg_rescale, "");
  get(j, "plan_cfg", r.plan_cfg, "");
  get(j, "bpm", r.bpm, "");
  get(j, "key", r.key, "");
  get(j, "meter", r.meter, "");
  get(j, "chords", r.chords, "");
  get(j, "plan", r.plan, "");
  if (j.contains("edit")) {
    const json& e = j.at("edit");
    MUDIT_CHECK(e.is_object(), DataError, where, ": 'edit' must be an object");
    for (const auto& [k, v] : e.items())
      MUDIT_CHECK(k == "mode" || k == "reference" || k == "start" || k == "end" || k == "strength",
                  DataError, where, ": unknown key 'edit.", k, "'");
    get(e, "mode", r.edit, "edit.");
    get(e, "reference", r.reference, "edit.");
    get(e, "start", r.edit_start, "edit.");
    get(e, "end", r.edit_end, "edit.");
    get(e, "strength", r.strength, "edit.");
  }
  MUDIT_CHECK(r.description.empty() || r.style.empty(), DataError, where,
              ": give 'description' or 'style' (an audio file), not both");
  MUDIT_CHECK(r.duration > 0 && r.duration <= 3600, DataError, where,
              ": duration must be in (0, 3600] seconds, got ", r.duration);
  MUDIT_CHECK(r.steps >= 0 && r.steps <= 10000, DataError, where, ": steps must be in [0, 10000]");
  MUDIT_CHECK(r.sampler.empty() || kSamplers.count(r.sampler), DataError, where, ": sampler '",
              r.sampler, "': expected euler, heun, dopri5, sde-euler, sde-heun, ddim or ddpm");
  MUDIT_CHECK(r.cfg >= 0 && r.cfg_rescale >= 0 && r.cfg_rescale <= 1, DataError, where,
              ": cfg must be >= 0 and cfg_rescale in [0, 1]");
  MUDIT_CHECK(
      r.edit.empty() || r.edit == "repaint" || r.edit == "extend" || r.edit == "audio2audio",
      DataError, where, ": edit.mode '", r.edit, "': expected repaint, extend or audio2audio");
  MUDIT_CHECK(r.edit.empty() || !r.reference.empty(), DataError, where, ": edit.mode ", r.edit,
              " needs edit.reference (an audio file)");
  MUDIT_CHECK(r.edit != "repaint" || (r.edit_start >= 0 && r.edit_end > r.edit_start), DataError,
              where, ": repaint needs 0 <= edit.start < edit.end (seconds)");
  MUDIT_CHECK(r.strength > 0 && r.strength <= 1, DataError, where,
              ": edit.strength must be in (0, 1]");
  MUDIT_CHECK(r.lyric_cfg >= 0 && r.plan_cfg >= 0, DataError, where,
              ": lyric_cfg and plan_cfg must be >= 0");
  // The plan's fields: each value checked where it is read, the error naming line and field.
  MUDIT_CHECK(r.bpm == 0 || (r.bpm >= 30 && r.bpm <= 300), DataError, where,
              ": 'bpm' must be in [30, 300], got ", r.bpm);
  auto field = [&](const char* name, auto&& fn) {
    with_context([&] { return where + ": '" + name + "'"; }, fn);
  };
  generation::PlanHints hints;
  if (!r.description.empty())
    field("description", [&] { hints = generation::parse_plan_hints(r.description); });
  if (!r.key.empty()) field("key", [&] { generation::parse_key(r.key); });
  if (!r.meter.empty()) field("meter", [&] { generation::beats_per_bar(r.meter); });
  for (const std::string& c : r.chords) field("chords", [&] { generation::parse_chord(c); });
  MUDIT_CHECK(r.chords.empty() || r.bpm > 0 || !r.plan.empty() || hints.bpm > 0, DataError, where,
              ": 'chords' (one per bar) need a tempo: give 'bpm'");
  MUDIT_CHECK(
      r.plan.empty() || (r.bpm == 0 && r.key.empty() && r.meter.empty() && r.chords.empty()),
      DataError, where, ": give 'plan' (a plan file) or bpm / key / meter / chords, not both");
  if (!r.plan.empty()) field("plan", [&] { generation::plan_from_json(read_file(r.plan)); });
  return r;
}

std::string SongRequest::to_json() const {
  nlohmann::ordered_json j;
  j["id"] = id;
  j["description"] = description;
  if (!style.empty()) j["style"] = style;
  j["lyrics"] = lyrics;
  j["duration"] = duration;
  j["seed"] = seed;
  j["steps"] = steps;
  j["sampler"] = sampler;
  j["cfg"] = cfg;
  j["lyric_cfg"] = lyric_cfg;
  j["plan_cfg"] = plan_cfg;
  j["cfg_rescale"] = cfg_rescale;
  if (bpm > 0) j["bpm"] = bpm;
  if (!key.empty()) j["key"] = key;
  if (!meter.empty()) j["meter"] = meter;
  if (!chords.empty()) j["chords"] = chords;
  if (!plan.empty()) j["plan"] = plan;
  if (!edit.empty())
    j["edit"] = {{"mode", edit},
                 {"reference", reference},
                 {"start", edit_start},
                 {"end", edit_end},
                 {"strength", strength}};
  return j.dump();
}

generation::MusicalPlan request_plan(const SongRequest& r, double duration, double latent_rate,
                                     const generation::PlanFacts* guess,
                                     const generation::MusicalPlan* reference) {
  using generation::MusicalPlan;
  if (!r.plan.empty()) {
    MusicalPlan p = with_context("'" + r.plan + "'", [&] {
      return generation::plan_from_json(read_file(r.plan), latent_rate);
    });
    p.duration = duration;  // the song's length; a longer plan is cut, a shorter one partial
    for (auto& s : p.source)
      if (!s.empty()) s = "request";
    return p;
  }
  const generation::PlanHints h =
      r.description.empty() ? generation::PlanHints{} : generation::parse_plan_hints(r.description);
  MusicalPlan p;
  p.duration = duration;
  if (r.bpm == 0 && reference != nullptr && reference->has_beats()) {
    // An edit keeps its reference's beats (continued at its tempo) and chords.
    p.meter = reference->meter;
    generation::set_beat_grid(p, reference->bpm, reference->beats_per_bar,
                              reference->beats.front());
    p.first_downbeat = std::min(reference->first_downbeat,
                                static_cast<int>(std::max<size_t>(p.beats.size(), 1) - 1));
    p.source[0] = "reference";
    if (!r.chords.empty()) {  // the request's chords on the reference's bars
      generation::set_chords_per_bar(p, r.chords);
      p.source[1] = "request";
    } else {
      for (const generation::PlanChord& c : reference->chords)
        if (c.start < duration) p.chords.push_back(c);
      p.chords_end = std::min(reference->chords_end, duration);
      if (!p.chords.empty()) p.source[1] = "reference";
    }
  } else {
    const bool head_tempo = guess != nullptr && guess->bpm > 0;
    const double quarter_bpm = r.bpm > 0 ? r.bpm : h.bpm > 0 ? h.bpm : head_tempo ? guess->bpm : 0;
    if (quarter_bpm > 0) {
      p.meter = !r.meter.empty()                            ? r.meter
                : !h.meter.empty()                          ? h.meter
                : guess != nullptr && !guess->meter.empty() ? guess->meter
                                                            : "4/4";
      generation::set_beat_grid(p, generation::felt_bpm(quarter_bpm, p.meter),
                                generation::beats_per_bar(p.meter));
      p.source[0] = r.bpm > 0 ? "request" : h.bpm > 0 ? "description" : "head";
      if (!r.chords.empty()) {
        generation::set_chords_per_bar(p, r.chords);
        p.source[1] = "request";
      }
    }
  }
  if (!r.key.empty()) {
    p.key = generation::parse_key(r.key);
    p.source[2] = "request";
  } else if (reference != nullptr && reference->has_key) {
    p.key = reference->key;
    p.source[2] = "reference";
  } else if (h.has_key) {
    p.key = h.key;
    p.source[2] = "description";
  } else if (guess != nullptr && guess->has_key) {
    p.key = guess->key;
    p.source[2] = "head";
  }
  p.has_key = !p.source[2].empty();
  if (p.has_key && p.has_beats() && !p.has_chords()) {
    // A key alone is heard weakly; its commonest progression makes it heard (README "Control
    // accuracy"). A request that wants no harmony says so with "chords": ["N"].
    generation::set_chords_per_bar(p, generation::key_progression(p.key));
    p.source[1] = "progression";
  }
  return p;
}

void check_request(const Bundle& b, const SongRequest& r, const std::string& where) {
  if (r.plan.empty()) return;
  with_context(where + ": 'plan'",
               [&] { generation::plan_from_json(read_file(r.plan), b.codec->latent_rate()); });
}

Bundle load_bundle(const fs::path& dir, c10::Device device) {
  return with_context("bundle " + dir.string(), [&] {
    const fs::path yaml = dir / "pipeline.yaml";
    MUDIT_CHECK(fs::exists(yaml), IoError, dir.string(),
                " is not a bundle (no pipeline.yaml; make one with mudit bundle)");
    const auto files = bind_config<BundleFiles>(load_config_file(yaml.string()));
    Bundle b;
    b.dir = dir;
    b.codec = load_codec(dir / files.codec, device);
    b.codec->eval();
    MUDIT_CHECK(b.codec->has_latent_stats(), ConfigError, (dir / files.codec).string(),
                " has no latent statistics (mudit convert codec makes a codec file)");
    b.generator = load_generator(dir / files.generator, device);
    const DiTConfig& dc = b.generator.config.dit;
    MUDIT_CHECK(dc.latent_dim == b.codec->latent_dim(), ConfigError, "the generator takes ",
                dc.latent_dim, "-d latents, the codec makes ", b.codec->latent_dim());
    b.chinmu = load_chinmu(dir / files.chinmu, device);
    b.chinmu->eval();
    MUDIT_CHECK(b.chinmu->config().embed_dim == dc.cond_dim, ConfigError,
                "the generator is conditioned on ", dc.cond_dim, "-d vectors, ChinMu gives ",
                b.chinmu->config().embed_dim);
    b.vocab = text::PhonemeVocab::load((dir / files.phonemes).string());
    MUDIT_CHECK(b.vocab.vocab_size() <= dc.lyric_vocab, ConfigError, "the phoneme vocabulary has ",
                b.vocab.vocab_size(), " tokens, the generator ", dc.lyric_vocab);
    if (!files.plan_head.empty()) {
      b.plan_head = generation::load_plan_head(dir / files.plan_head);
      MUDIT_CHECK(b.plan_head->config().embed_dim == b.chinmu->config().embed_dim, ConfigError,
                  "the plan head reads ", b.plan_head->config().embed_dim,
                  "-d embeddings, ChinMu gives ", b.chinmu->config().embed_dim);
    }
    return b;
  });
}

void make_bundle(const fs::path& codec, const fs::path& chinmu, const fs::path& generator,
                 const fs::path& out, const fs::path& plan_head) {
  MUDIT_CHECK(!fs::exists(out / "pipeline.yaml"), IoError, out.string(),
              " already holds a bundle (pipeline.yaml)");
  // The optional piece first: a wrong --plan-head is named before the others are read.
  MUDIT_CHECK(plan_head.empty() || read_model_meta(plan_head).arch == "plan_head", ConfigError,
              plan_head.string(), " is not a plan head (mudit fit-plan-head makes one)");
  const fs::path c = resolve_model_file(codec), m = resolve_model_file(chinmu),
                 g = resolve_model_file(generator);
  MUDIT_CHECK(read_model_meta(c).arch == "codec", ConfigError, c.string(),
              " is not a codec file (mudit convert codec makes one)");
  MUDIT_CHECK(read_model_meta(m).arch == "chinmu", ConfigError, m.string(), " is not ChinMu");
  MUDIT_CHECK(read_model_meta(g).arch == "generator", ConfigError, g.string(),
              " is not a generator");
  fs::create_directories(out);
  if (!plan_head.empty()) write_file_atomic(out / "plan_head.safetensors", read_file(plan_head));
  for (const auto& [from, name] :
       {std::pair{c, "codec.safetensors"}, std::pair{m, "chinmu.safetensors"}}) {
    write_file_atomic(out / name, read_file(from));
  }
  // The generator as it samples: a run's EMA weights when it kept them.
  {
    const Generator gen = load_generator(g);
    ModelMeta meta = read_model_meta(g);
    save_model(out / "generator.safetensors", *gen.dit, meta);
  }
  const auto gc = bind_config<GeneratorConfig>(
      parse_config_text(read_model_meta(g).config, g.string()));  // no weights needed
  // The phoneme vocabulary is fixed by code (toned or plain); the generator's size says which.
  text::PhonemeVocab(gc.dit.lyric_vocab >= 143).save((out / "phonemes.txt").string());
  write_file_atomic(out / "pipeline.yaml",
                    "codec: codec.safetensors\nchinmu: chinmu.safetensors\n"
                    "generator: generator.safetensors\nphonemes: phonemes.txt\n" +
                        std::string(plan_head.empty() ? "" : "plan_head: plan_head.safetensors\n"));
}

Song generate(Bundle& b, const SongRequest& r) {
  torch::NoGradGuard no_grad;
  const GeneratorConfig& gc = b.generator.config;
  DiT dit = b.generator.dit;
  const c10::Device dev = b.codec->device();
  const int64_t d = gc.dit.latent_dim;
  int64_t frames = std::max<int64_t>(1, std::llround(r.duration * b.codec->latent_rate()));

  DiTInputs base;
  // The description's embedding: the condition, and what the plan head reads.
  at::Tensor text_embedding;
  if (!r.description.empty() && (gc.condition != "none" || b.plan_head))
    text_embedding = b.chinmu->embed_texts({r.description}).to(dev);  // [1, E]
  if (gc.condition != "none" && !r.description.empty()) base.cond = text_embedding;
  if (gc.condition != "none" && !r.style.empty()) {
    audio::AudioReadOptions ro;
    ro.sample_rate = static_cast<int>(b.chinmu->config().audio.mel.sample_rate);
    ro.channels = 1;
    const at::Tensor mono = audio::read_audio(r.style, ro).samples[0];    // [T]
    base.cond = b.chinmu->embed_song(mono.to(dev)).unsqueeze(0).to(dev);  // [1, E]
  }
  if (!r.lyrics.empty()) {
    std::vector<int64_t> ids;
    for (const std::string& tok : text::lyrics_to_tokens(text::parse_lyrics(r.lyrics), b.g2p))
      ids.push_back(b.vocab.token_to_id(tok));
    if (static_cast<int64_t>(ids.size()) > gc.dit.lyric_max_tokens)
      ids.resize(static_cast<size_t>(gc.dit.lyric_max_tokens));
    if (!ids.empty()) base.lyrics = at::tensor(ids, at::kLong).unsqueeze(0).to(dev);  // [1, L]
  }

  // The reference of an edit, as normalised latents, and its plan (beats, chords, key).
  at::Tensor ref;
  std::optional<generation::MusicalPlan> reference_plan;
  if (!r.edit.empty()) {
    audio::AudioReadOptions ro;
    ro.sample_rate = static_cast<int>(b.codec->sample_rate());
    ro.channels = static_cast<int>(b.codec->channels());
    const audio::Audio a = audio::read_audio(r.reference, ro);
    ref = b.codec->normalize(encode_chunked(*b.codec, a.samples)).to(dev);  // [T_ref, D]
    // Its plan, unless the request gives the whole of what it would give (a plan file, or
    // tempo and key).
    if (r.plan.empty() && (r.bpm == 0 || r.key.empty()))
      reference_plan = eval::plan_from_audio(a.samples, a.sample_rate);
    if (r.edit == "repaint" || r.edit == "audio2audio") frames = ref.size(0);
  }
  MUDIT_CHECK(frames <= gc.dit.max_frames, ConfigError, "a song of ", frames,
              " latent frames; the generator takes at most ", gc.dit.max_frames, " (",
              gc.dit.max_frames / b.codec->latent_rate(), " s)");
  // The musical plan, per latent frame.
  Song song;
  std::optional<generation::PlanFacts> guess;
  if (b.plan_head && text_embedding.defined()) guess = b.plan_head->read(text_embedding)[0];
  song.plan =
      request_plan(r, static_cast<double>(frames) / b.codec->latent_rate(), b.codec->latent_rate(),
                   guess ? &*guess : nullptr, reference_plan ? &*reference_plan : nullptr);
  const bool planned = gc.dit.plan_slots > 0 &&
                       (song.plan.has_beats() || song.plan.has_chords() || song.plan.has_key);
  if (planned)
    base.plan = generation::plan_tensor(song.plan, frames, b.codec->latent_rate(),
                                        generation::PlanLayout{gc.dit.plan_slots})
                    .unsqueeze(0)
                    .to(dev);  // [1, T, F]
  at::Tensor known_mask;
  if (r.edit == "repaint" || r.edit == "extend") {
    at::Tensor known = at::zeros({frames, d}, ref.options());
    const int64_t n = std::min(frames, ref.size(0));
    known.narrow(0, 0, n).copy_(ref.narrow(0, 0, n));
    known_mask = at::zeros({frames}, ref.options().dtype(at::kBool));
    if (r.edit == "extend") {
      known_mask.narrow(0, 0, n).fill_(true);
    } else {
      const double rate = b.codec->latent_rate();
      const int64_t s = std::clamp<int64_t>(std::llround(r.edit_start * rate), 0, frames);
      const int64_t e = std::clamp<int64_t>(std::llround(r.edit_end * rate), s, frames);
      MUDIT_CHECK(e > s, DataError, "repaint range [", r.edit_start, ", ", r.edit_end,
                  ") s is outside the reference");
      known_mask.fill_(true);
      known_mask.narrow(0, s, e - s).fill_(false);
    }
    base.known = known.unsqueeze(0);
    base.known_mask = known_mask.unsqueeze(0);
  }

  const bool ddpm = gc.objective == "ddpm";
  const std::string sampler = r.sampler.empty() ? (ddpm ? "ddim" : "heun") : r.sampler;
  MUDIT_CHECK(ddpm == (sampler == "ddim" || sampler == "ddpm"), ConfigError, "sampler ", sampler,
              " does not fit a ", ddpm ? "MuDiT (DDPM: ddim, ddpm)" : "MuSiT (interpolant)",
              " generator");
  const int64_t steps = r.steps > 0 ? r.steps : 50;
  // Guidance: an input the song lacks takes its neighbour's scale in the chain lyrics -> plan
  // -> description, so no branch is evaluated that equals another.
  diffusion::GuidanceConfig g;
  g.lyric_scale = base.lyrics.defined() ? r.lyric_cfg : 1.0;  // no lyrics: l = u, skip u
  g.plan_scale = planned ? r.plan_cfg : g.lyric_scale;
  g.description_scale = base.cond.defined() ? r.cfg : g.plan_scale;
  g.rescale = r.cfg_rescale;
  song.sampler = sampler;
  song.steps = steps;
  const double last = ddpm ? static_cast<double>(gc.ddpm.timesteps - 1) : 1.0;
  const diffusion::Field f = diffusion::guided(
      branched(dit, base), g, [ddpm, last](double t) { return ddpm ? t / last : 1.0 - t; },
      &song.evaluations);
  const diffusion::NoiseSource noise = diffusion::seeded_noise(r.seed);
  const at::Tensor shape = at::zeros({1, frames, d}, at::TensorOptions().device(dev));
  at::Tensor x = noise(-1, shape);
  const bool a2a = r.edit == "audio2audio";

  if (ddpm) {
    const diffusion::Ddpm dd(gc.ddpm);
    diffusion::DdimOptions o;
    o.steps = sampler == "ddpm" && r.steps == 0 ? 0 : steps;
    o.eta = sampler == "ddpm" ? 1.0 : 0.0;
    if (a2a) {
      o.start_step = std::llround(r.strength * last);
      x = dd.q_sample(ref.unsqueeze(0), x, at::full({1}, o.start_step, at::kLong));
    }
    x = diffusion::sample_ddim(dd, f, x, o, noise);
  } else {
    const diffusion::Interpolant in(gc.interpolant);
    auto [t0, t1] = in.interval(/*eval=*/true);
    if (a2a) {
      MUDIT_CHECK(sampler.rfind("sde", 0) != 0, ConfigError,
                  "audio2audio needs an ODE sampler (euler, heun, dopri5)");
      t0 = std::max(t0, 1.0 - r.strength);
      const at::Tensor tt = at::full({1}, t0, x.options());
      x = in.plan(tt, x, ref.unsqueeze(0)).first;  // alpha ref + sigma noise
    }
    const diffusion::Field v = [&](const at::Tensor& y, const at::Tensor& t) {
      return in.velocity(f(y, t), y, t);
    };
    if (sampler == "euler") {
      x = diffusion::ode_euler(v, x, diffusion::time_grid(t0, t1, steps + 1));
    } else if (sampler == "heun") {
      x = diffusion::ode_heun(v, x, diffusion::time_grid(t0, t1, steps + 1));
    } else if (sampler == "dopri5") {
      x = diffusion::ode_dopri5(v, x, t0, t1, diffusion::Dopri5Options{1e-5, 1e-4});
    } else {
      diffusion::SdeOptions o;
      o.method = sampler == "sde-euler" ? "euler" : "heun";
      o.form = diffusion::DiffusionForm::kSigma;
      o.steps = steps;
      x = diffusion::sample_sde(in, f, x, o, noise).back();
    }
  }
  at::Tensor z = x[0];  // [T, D]
  if (known_mask.defined()) z = at::where(known_mask.unsqueeze(1), base.known[0], z);
  song.latents = b.codec->denormalize(z).cpu();
  song.frames = frames;
  song.audio = decode_chunked(*b.codec, song.latents);
  return song;
}

}  // namespace mudit::pipeline
