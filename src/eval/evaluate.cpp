#include "mudit/eval/evaluate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "mudit/audio/analysis.h"
#include "mudit/audio/features.h"
#include "mudit/audio/io.h"
#include "mudit/audio/resample.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/data/manifest.h"
#include "mudit/eval/alignment.h"
#include "mudit/eval/control.h"
#include "mudit/eval/fad.h"
#include "mudit/eval/instruments.h"
#include "mudit/eval/lyric_score.h"
#include "mudit/eval/plan_scores.h"
#include "mudit/eval/reconstruction.h"
#include "mudit/eval/report.h"
#include "mudit/generation/plan_file.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/model_files.h"
#include "mudit/text/g2p.h"
#include "mudit/train/image.h"

namespace mudit::eval {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {
      "control", "saa", "ara", "fad", "lyrics", "tags", "reconstruction", "plan"};
  return names;
}

namespace {

constexpr int kRate = 24000;            // audio is read mono at this rate unless ChinMu says else
constexpr double kPreviewSeconds = 30;  // of each song in the report

struct Reference {
  std::string id;
  fs::path audio;
  std::string lyrics;
  std::vector<std::string> professional, amateur;
  std::optional<ControlTarget> target;
  std::optional<generation::MusicalPlan> labels;  // a synthetic song's (labels.json beside it)
  data::TagMap amateur_tags, professional_tags;
};

struct Song {
  std::string id;
  fs::path audio;
  std::string description;
  std::string lyrics;
  bool has_prompt = false;  // a sidecar said what the prompt was
  bool style = false;       // conditioned on a reference song's audio instead of a description
  std::optional<generation::MusicalPlan> plan;  // the plan it was generated from (a group at least)
  data::TagMap tags;                            // from --tags
  int ref = -1;
  std::string register_ = "unknown";
};

bool is_audio(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".wav" || e == ".flac" || e == ".ogg";
}

std::vector<Song> read_generated(const fs::path& dir) {
  MUDIT_CHECK(fs::is_directory(dir), IoError, "generated songs: '", dir.string(),
              "' is not a folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && is_audio(e.path())) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  MUDIT_CHECK(!files.empty(), DataError, "generated songs: no .wav, .flac or .ogg files in '",
              dir.string(), "'");
  std::vector<Song> songs;
  for (const fs::path& f : files) {
    Song s;
    s.id = f.stem().string();
    s.audio = f;
    const fs::path sidecar = fs::path(f).replace_extension(".json");
    if (fs::exists(sidecar)) {
      const auto j = ordered_json::parse(read_file(sidecar), nullptr, false);
      MUDIT_CHECK(j.is_object(), DataError, sidecar.string(), ": not a JSON object");
      const auto& r = j.contains("request") ? j["request"] : j;
      s.description = r.value("description", "");
      s.style = !r.value("style", "").empty();
      s.lyrics = r.value("lyrics", "");
      s.has_prompt = true;
      if (j.contains("plan") && j["plan"].is_object() && !j["plan"].contains("unused")) {
        generation::MusicalPlan p = with_context(sidecar.string() + ": 'plan'", [&] {
          return generation::plan_from_json(j["plan"].dump());
        });
        if (p.has_beats() || p.has_chords() || p.has_key) s.plan = std::move(p);
      }
    }
    const fs::path txt = fs::path(f).replace_extension(".txt");
    if (fs::exists(txt)) s.lyrics = read_file(txt);
    songs.push_back(std::move(s));
  }
  return songs;
}

std::vector<Reference> read_references(const fs::path& path) {
  std::vector<Reference> refs;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(path)) {
      if (e.is_regular_file() && is_audio(e.path())) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      Reference r;
      r.id = f.stem().string();
      r.audio = f;
      r.labels = plan_from_labels_beside(f);
      refs.push_back(std::move(r));
    }
  } else {
    for (const data::ManifestEntry& e : data::read_manifest(path)) {
      Reference r;
      r.id = e.id;
      r.audio = data::resolve_audio(e, path);
      r.lyrics = e.lyrics;
      for (const auto& d : e.professional) r.professional.push_back(d.text);
      for (const auto& d : e.amateur) r.amateur.push_back(d.text);
      r.target = ControlTarget::from_meta(e.meta);
      r.labels = plan_from_labels_beside(r.audio);
      r.amateur_tags = e.amateur_tags;
      r.professional_tags = e.professional_tags;
      refs.push_back(std::move(r));
    }
  }
  MUDIT_CHECK(!refs.empty(), DataError, "reference: no songs in '", path.string(), "'");
  return refs;
}

// --tags: {"id": <song name>, "tags": {dimension: [tag, ...]}} per line. Every id must name a
// generated song.
void read_generated_tags(const fs::path& file, std::vector<Song>& songs) {
  std::map<std::string, Song*> by_id;
  for (Song& s : songs) by_id[s.id] = &s;
  std::istringstream in(read_file(file));
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(n);
    const auto j = ordered_json::parse(line, nullptr, false);
    MUDIT_CHECK(j.is_object() && j.contains("id") && j["id"].is_string() && j.contains("tags") &&
                    j["tags"].is_object(),
                DataError, where, ": want {\"id\": ..., \"tags\": {dimension: [tags]}}");
    const auto it = by_id.find(j["id"].get<std::string>());
    MUDIT_CHECK(it != by_id.end(), DataError, where, ": no generated song '",
                j["id"].get<std::string>(), "'");
    for (const auto& [dim, v] : j["tags"].items()) {
      MUDIT_CHECK(v.is_array(), DataError, where, ": tags of '", dim, "' are not a list");
      for (const auto& t : v) {
        MUDIT_CHECK(t.is_string(), DataError, where, ": a tag of '", dim, "' is not a string");
        it->second->tags[dim].push_back(t.get<std::string>());
      }
    }
  }
}

void pair(std::vector<Song>& songs, const std::vector<Reference>& refs) {
  std::map<std::string, int> by_id;
  for (size_t i = 0; i < refs.size(); ++i) by_id[refs[i].id] = static_cast<int>(i);
  for (Song& s : songs) {
    // The id itself, else the longest "id." prefix of the name.
    for (std::string name = s.id;;) {
      if (const auto it = by_id.find(name); it != by_id.end()) {
        s.ref = it->second;
        break;
      }
      const size_t dot = name.rfind('.');
      if (dot == std::string::npos) break;
      name.resize(dot);
    }
    if (!s.has_prompt) continue;
    if (s.style) {
      s.register_ = "style";
    } else if (s.description.empty()) {
      // An absent group has no source, so any "request" source means a requested plan.
      const bool requested = s.plan && std::find(s.plan->source.begin(), s.plan->source.end(),
                                                 "request") != s.plan->source.end();
      s.register_ = requested ? "plan" : "none";
    } else if (s.ref >= 0) {
      const Reference& r = refs[s.ref];
      const auto has = [&](const std::vector<std::string>& v) {
        return std::find(v.begin(), v.end(), s.description) != v.end();
      };
      s.register_ = has(r.professional) ? "professional" : has(r.amateur) ? "amateur" : "other";
    } else {
      s.register_ = "other";
    }
  }
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
  return out;
}

std::string fmt(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string key_name(int tonic, bool minor) {
  KeyEstimate k;
  k.tonic = tonic;
  k.minor = minor;
  return k.name();
}

// Chooses the metrics: the requested ones (each must be possible), or every possible one but
// reconstruction and tags. Logs what is left out and why.
std::vector<std::string> choose_metrics(const EvalOptions& o, const std::vector<Song>& songs,
                                        const std::vector<Reference>& refs) {
  const bool paired =
      std::any_of(songs.begin(), songs.end(), [](const Song& s) { return s.ref >= 0; });
  const bool targets = std::any_of(songs.begin(), songs.end(), [&](const Song& s) {
    return s.ref >= 0 && refs[s.ref].target.has_value();
  });
  const bool lyrics = std::any_of(songs.begin(), songs.end(), [&](const Song& s) {
    return s.ref >= 0 && !s.lyrics.empty() && !refs[s.ref].lyrics.empty();
  });
  const bool tags =
      std::any_of(refs.begin(), refs.end(),
                  [](const Reference& r) {
                    return !r.amateur_tags.empty() && !r.professional_tags.empty();
                  }) ||
      std::any_of(songs.begin(), songs.end(), [&](const Song& s) {
        return !s.tags.empty() && s.ref >= 0 &&
               !(refs[s.ref].amateur_tags.empty() && refs[s.ref].professional_tags.empty());
      });
  const bool chinmu = !o.chinmu.empty();
  const bool text_tower = chinmu || !o.text_tower.empty();
  const bool plans = std::any_of(songs.begin(), songs.end(), [&](const Song& s) {
    return s.plan || (s.ref >= 0 && refs[s.ref].labels);
  });
  const std::map<std::string, std::string> missing = {
      {"plan", plans ? ""
                     : "no generated song has a plan in its sidecar or pairs with a "
                       "reference that has labels.json"},
      {"control",
       targets ? "" : "no generated song pairs with a reference that has tempo/key labels"},
      {"saa", chinmu ? "" : "needs --chinmu"},
      {"ara", !chinmu  ? "needs --chinmu"
              : paired ? ""
                       : "no generated song pairs with a reference"},
      {"fad", !chinmu ? "needs --chinmu"
              : songs.size() >= 2 && refs.size() >= 2
                  ? ""
                  : "needs 2 or more generated and reference songs"},
      {"lyrics", lyrics ? "" : "no generated song with lyrics pairs with a reference with lyrics"},
      {"tags", !text_tower ? "needs --text-tower or --chinmu"
               : tags      ? ""
                           : "no reference has both tag sets and no --tags song pairs with a "
                             "tagged reference"},
      {"reconstruction", paired ? "" : "no generated song pairs with a reference"}};
  std::vector<std::string> chosen;
  if (!o.metrics.empty()) {
    for (const std::string& m : o.metrics) {
      MUDIT_CHECK(missing.at(m).empty(), ConfigError, "metric ", m, ": ", missing.at(m));
      chosen.push_back(m);
    }
    return chosen;
  }
  for (const std::string& m : metric_names()) {
    if (m == "reconstruction" || m == "tags") continue;
    if (missing.at(m).empty()) {
      chosen.push_back(m);
    } else {
      log::info("eval: metric ", m, " left out: ", missing.at(m));
    }
  }
  MUDIT_CHECK(!chosen.empty(), ConfigError, "eval: none of the metrics applies to these inputs");
  return chosen;
}

struct Loaded {
  at::Tensor mono;     // [T] at rate
  at::Tensor windows;  // ChinMu window embeddings [K, D] (fad, saa)
  at::Tensor layers;   // ChinMu layer means [L, H] (ara)
};

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace

std::string evaluate(const EvalOptions& o) {
  for (const std::string& m : o.metrics) {
    MUDIT_CHECK(std::find(metric_names().begin(), metric_names().end(), m) != metric_names().end(),
                ConfigError, "unknown metric '", m, "' (metrics: ", join(metric_names(), ", "),
                ")");
  }
  std::vector<Song> songs = read_generated(o.generated);
  const std::vector<Reference> refs = read_references(o.reference);
  if (!o.tags.empty()) read_generated_tags(o.tags, songs);
  pair(songs, refs);
  const int64_t paired =
      std::count_if(songs.begin(), songs.end(), [](const Song& s) { return s.ref >= 0; });
  const std::vector<std::string> metrics = choose_metrics(o, songs, refs);
  log::info("eval: ", songs.size(), " generated songs, ", refs.size(), " references, ", paired,
            " paired; metrics ", join(metrics, ", "));
  const std::set<std::string> want(metrics.begin(), metrics.end());
  const auto on = [&](const char* m) { return want.count(m) > 0; };

  ChinMu chinmu{nullptr};
  int rate = kRate;
  if (on("saa") || on("ara") || on("fad")) {
    chinmu = load_chinmu(resolve_model_file(o.chinmu), o.device);
    rate = static_cast<int>(chinmu->config().audio.mel.sample_rate);
  }
  InstrumentProbe probe{nullptr};
  if (on("control") && !o.instruments.empty()) probe = load_instrument_probe(o.instruments);
  if (!o.instruments.empty() && !on("control")) {
    log::warn("eval: --instruments is used by the control metric only, which is not run");
  }
  c10::InferenceMode guard;
  const auto load = [&](const fs::path& f) {
    audio::AudioReadOptions ro;
    ro.sample_rate = rate;
    ro.channels = 1;
    const audio::Audio a = audio::read_audio(f, ro);
    MUDIT_CHECK(a.frames() > 0, DataError, f.string(), ": no samples");
    return a.samples[0];
  };
  // One audio-tower pass per song gives what FAD (window embeddings), SAA (their mean) and ARA
  // (layer means) need.
  const auto embed = [&](Loaded& l, bool windows) {
    const at::Tensor x = l.mono.to(o.device);
    if (on("ara")) {
      l.layers = chinmu->audio_layer_means(x, 8, windows ? &l.windows : nullptr);
    } else if (windows) {
      l.windows = chinmu->embed_windows(x);
    }
  };

  // References: FAD needs them all; the others only the paired ones.
  std::vector<Loaded> ref_data(refs.size());
  std::vector<bool> need_ref(refs.size(), on("fad"));
  for (const Song& s : songs) {
    if (s.ref >= 0 && (on("ara") || on("reconstruction"))) need_ref[s.ref] = true;
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!need_ref[i]) continue;
    ref_data[i].mono = load(refs[i].audio);
    embed(ref_data[i], on("fad"));
  }

  ordered_json per_song = ordered_json::array();
  std::map<std::string, ControlSummary> control;
  // register -> against the plan given / the reference's labels
  std::map<std::string, std::map<std::string, PlanScoreSummary>> plan_scores;
  std::map<std::string, std::map<std::string, std::vector<double>>> saa;  // register -> kind
  std::vector<double> ara;
  std::map<std::string, std::vector<double>> lyric_parts;
  std::vector<at::Tensor> gen_windows;
  std::vector<ReportSong> report_songs;
  std::map<std::string, int64_t> left_out;  // per metric: songs it could not score
  const MelSpectrogram mel(MelConfig::mudit_24k());
  for (size_t n = 0; n < songs.size(); ++n) {
    const Song& s = songs[n];
    const Reference* ref = s.ref >= 0 ? &refs[s.ref] : nullptr;
    Loaded g;
    g.mono = load(s.audio);
    embed(g, on("fad") || on("saa"));
    ordered_json row;
    row["id"] = s.id;
    row["reference"] = ref ? ref->id : "";
    row["register"] = s.register_;
    row["seconds"] = static_cast<double>(g.mono.size(0)) / rate;
    left_out["control"] += on("control") && !(ref && ref->target);
    left_out["ara"] += on("ara") && !ref;
    left_out["lyrics"] += on("lyrics") && !(ref && !s.lyrics.empty() && !ref->lyrics.empty());
    if (on("control") && ref && ref->target) {
      ControlEstimate e = ControlEstimate::analyse(g.mono, rate);
      if (probe) {
        e.instruments = probe->detect(song_timbre_features(g.mono, rate));
        e.judged = probe->config().families;
        row["instruments"] = e.instruments;
        row["target_instruments"] = ref->target->families;
      }
      const ControlHits h = control_hits(*ref->target, e);
      control[s.register_].add(h);
      row["bpm"] = e.bpm;
      row["key"] = key_name(e.tonic, e.minor);
      row["target_bpm"] = ref->target->beat_bpm;
      row["target_key"] = ref->target->tonic >= 0
                              ? pitch_class_names()[ref->target->tonic] + " " + ref->target->mode
                              : ref->target->mode;
      row["tempo_8"] = h.tempo_8;
      row["key_hit"] = h.key;
    }
    if (on("plan")) {
      // The estimate depends on the audio and the bar length only: one per bar length.
      std::map<int, generation::MusicalPlan> estimates;
      const auto score = [&](const char* against, const generation::MusicalPlan& want) {
        auto it = estimates.find(want.beats_per_bar);
        if (it == estimates.end())
          it = estimates
                   .emplace(want.beats_per_bar, plan_from_audio(g.mono, rate, want.beats_per_bar))
                   .first;
        const PlanScores ps = score_plan(want, it->second);
        plan_scores[s.register_][against].add(ps);
        auto& r = row[std::string("plan_") + against];
        if (ps.has_beats) {
          r["beat_f"] = ps.beat_f;
          r["tempo_8"] = ps.tempo_8;
        }
        if (ps.bars > 0) {
          r["chord_bars"] = ps.bars;
          r["chord_bars_right"] = ps.bars_right;
        }
        if (ps.has_key) {
          r["key"] = ps.key;
          r["key_weighted"] = ps.key_weighted;
        }
      };
      if (s.plan) score("given", *s.plan);
      if (ref && ref->labels) score("labels", *ref->labels);
    }
    if (on("saa")) {
      const at::Tensor song = ChinMuImpl::song_embedding(g.windows);
      const auto score = [&](const char* kind, const std::vector<std::string>& texts) {
        if (texts.empty()) return;
        const double v = semantic_audio_alignment(chinmu, song, texts).mean().item<double>();
        row[std::string("saa_") + kind] = v;
        saa[s.register_][kind].push_back(v);
      };
      if (!s.description.empty()) score("prompt", {s.description});
      if (ref) {
        score("professional", ref->professional);
        score("amateur", ref->amateur);
      }
    }
    if (on("ara") && ref) {
      const double v = acoustic_reference_alignment(g.layers, ref_data[s.ref].layers);
      row["ara"] = v;
      ara.push_back(v);
    }
    if (on("lyrics") && ref && !s.lyrics.empty() && !ref->lyrics.empty()) {
      static const text::G2P g2p;
      const LyricScore l = score_lyrics(s.lyrics, lyric_template(ref->lyrics, g2p), g2p);
      row["lyrics"] = l.to_map();
      for (const auto& [k, v] : l.to_map()) lyric_parts[k].push_back(v);
    }
    if (on("reconstruction") && ref) {
      row["reconstruction"] =
          reconstruction_metrics(g.mono.unsqueeze(0), ref_data[s.ref].mono.unsqueeze(0),
                                 MelConfig::mudit_24k())
              .to_map();
    }
    if (on("fad")) gen_windows.push_back(g.windows);
    per_song.push_back(std::move(row));

    ReportSong rs;
    rs.id = s.id;
    rs.caption = s.description.empty() ? "(no description)" : s.description;
    const at::Tensor preview = g.mono.slice(0, 0, static_cast<int64_t>(kPreviewSeconds * rate));
    at::Tensor m = mel(rate == kRate ? preview : audio::resample(preview, rate, kRate));  // [M, N]
    // Half the mel rows and at most 600 columns: the page stays small (about 60 kB a song).
    const int64_t step = (m.size(1) + 599) / 600;
    m = at::avg_pool2d(m.unsqueeze(0).unsqueeze(0), {2, step}, {2, step}, {0, 0}, true)[0][0];
    train::SpectrogramImageOptions io;
    io.dynamic_range = 11.5;
    rs.spectrogram_png = train::encode_png(train::spectrogram_image(m, io));
    if (o.report_audio) {
      audio::AudioWriteOptions wo;
      wo.format = "ogg";
      rs.audio = audio::encode_audio(preview.unsqueeze(0), rate, wo);
    }
    report_songs.push_back(std::move(rs));
    if ((n + 1) % 10 == 0 || n + 1 == songs.size()) {
      log::info("eval: ", n + 1, "/", songs.size(), " songs");
    }
  }

  for (const auto& [metric, n] : left_out) {
    if (n > 0)
      log::info("eval: ", metric, ": ", n, " songs left out (no reference with what it needs)");
  }
  ordered_json summary;
  summary["songs"] = songs.size();
  summary["references"] = refs.size();
  summary["paired"] = paired;
  ordered_json groups;
  std::vector<ReportTable> tables;
  if (on("fad")) {
    std::vector<at::Tensor> ref_rows;
    for (size_t i = 0; i < refs.size(); ++i) ref_rows.push_back(ref_data[i].windows);
    const GaussianStats ref_stats = gaussian_stats(at::cat(ref_rows, 0));
    const at::Tensor all = at::cat(gen_windows, 0);
    summary["fad"] = frechet_distance(gaussian_stats(all), ref_stats);
    summary["fad_embeddings"] = all.size(0);
    const int64_t min_size = std::max<int64_t>(2, all.size(0) / 4);
    if (all.size(0) > min_size) {
      const FadInfinity inf = fad_infinity(all, ref_stats, min_size, o.fad_steps, o.seed);
      summary["fad_inf"] = inf.value;
      summary["fad_inf_r2"] = inf.r2;
    }
    const std::vector<double> each = per_song_fad(gen_windows, ref_stats);
    for (size_t i = 0; i < each.size(); ++i) per_song[i]["fad"] = each[i];
  }
  if (on("ara")) summary["ara"] = mean_of(ara);
  if (on("lyrics")) {
    for (const auto& [k, v] : lyric_parts) summary["lyrics_" + k] = mean_of(v);
  }
  if (on("control")) {
    ReportTable t{"Control accuracy by prompt register",
                  {"register", "songs", "tempo ±4 %", "tempo ±8 %", "tempo class", "key",
                   "relative key", "parallel key", "mode"}};
    if (probe) {
      for (const char* c : {"instruments found", "others detected", "instrument decisions"})
        t.columns.push_back(c);
    }
    for (auto& [reg, c] : control) {
      c.finish();
      groups[reg]["control"] = c.to_map();
      t.rows.push_back({reg, std::to_string(c.songs), fmt(c.tempo_4), fmt(c.tempo_8),
                        fmt(c.tempo_class) + " (" + std::to_string(c.class_songs) + ")",
                        fmt(c.key) + " (" + std::to_string(c.key_songs) + ")", fmt(c.relative_key),
                        fmt(c.parallel_key), fmt(c.mode)});
      if (probe) {
        t.rows.back().push_back(fmt(c.instrument_recall) + " (" +
                                std::to_string(c.instrument_targets) + ")");
        t.rows.back().push_back(fmt(c.instrument_false_positive) + " (" +
                                std::to_string(c.instrument_others) + ")");
        t.rows.back().push_back(fmt(c.instrument_accuracy));
      }
    }
    tables.push_back(std::move(t));
  }
  if (on("plan")) {
    const std::map<std::string, std::string> titles = {
        {"given", "Plan following by prompt register: against the plan each song was given"},
        {"labels", "Plan following by prompt register: against the reference song's labels"}};
    for (const auto& [against, title] : titles) {
      ReportTable t{title,
                    {"register", "songs", "beat F (±70 ms)", "tempo ±8 %", "chord per bar", "key",
                     "key (weighted)"}};
      for (auto& [reg, by] : plan_scores) {
        const auto it = by.find(against);
        if (it == by.end()) continue;
        PlanScoreSummary& c = it->second;
        c.finish();
        for (const auto& [k, v] : c.to_map()) groups[reg]["plan_" + against][k] = v;
        const auto cell = [](double v, int64_t n) {
          return n > 0 ? fmt(v) + " (" + std::to_string(n) + ")" : std::string();
        };
        t.rows.push_back({reg, std::to_string(c.songs), cell(c.beat_f, c.beat_songs),
                          cell(c.tempo_8, c.beat_songs), cell(c.chord_bar_accuracy, c.bars),
                          cell(c.key, c.key_songs), cell(c.key_weighted, c.key_songs)});
      }
      if (!t.rows.empty()) tables.push_back(std::move(t));
    }
  }
  if (on("saa")) {
    ReportTable t{"Semantic audio alignment (ChinMu cosine) by prompt register",
                  {"register", "with its prompt", "with professional descriptions",
                   "with amateur descriptions"}};
    for (const auto& [reg, kinds] : saa) {
      std::vector<std::string> cells = {reg};
      for (const char* k : {"prompt", "professional", "amateur"}) {
        const auto it = kinds.find(k);
        if (it == kinds.end()) {
          cells.push_back("");
          continue;
        }
        groups[reg]["saa_" + std::string(k)] = mean_of(it->second);
        cells.push_back(fmt(mean_of(it->second)));
      }
      t.rows.push_back(std::move(cells));
    }
    tables.push_back(std::move(t));
  }
  if (on("tags")) {
    // The ChinMu already loaded for saa / ara / fad serves, unless another tower is named.
    const TextEmbedder embed = !o.text_tower.empty()
                                   ? text_embedder(resolve_model_file(o.text_tower), o.device)
                               : chinmu ? text_embedder(chinmu)
                                        : text_embedder(resolve_model_file(o.chinmu), o.device);
    const auto table = [&](const std::string& key, const std::string& title,
                           const std::vector<data::TagMap>& a, const std::vector<data::TagMap>& b) {
      const auto by_dim = tag_similarity_by_dimension(embed, a, b);
      if (by_dim.empty()) return;
      ReportTable t{title, {"dimension", "mean cosine", "std", "pairs"}};
      for (const auto& [dim, ts] : by_dim) {
        summary[key][dim] = {{"mean", ts.mean}, {"std", ts.std}, {"pairs", ts.pairs}};
        t.rows.push_back({dim, fmt(ts.mean), fmt(ts.std), std::to_string(ts.pairs)});
      }
      tables.push_back(std::move(t));
    };
    std::vector<data::TagMap> a, b;
    for (const Reference& r : refs) {
      a.push_back(r.amateur_tags);
      b.push_back(r.professional_tags);
    }
    table("tags", "Tag similarity: amateur against professional tags of the references", a, b);
    std::vector<data::TagMap> gen, pro, ama;
    for (const Song& s : songs) {
      if (s.tags.empty() || s.ref < 0) continue;
      gen.push_back(s.tags);
      pro.push_back(refs[s.ref].professional_tags);
      ama.push_back(refs[s.ref].amateur_tags);
    }
    if (!o.tags.empty()) {
      log::info("eval: tags of ", gen.size(), " generated songs paired with references",
                gen.size() < songs.size() ? " (the others have no tags or no reference)" : "");
    }
    table("tags_generated_professional",
          "Tag similarity: generated songs' tags against their references' professional tags", gen,
          pro);
    table("tags_generated_amateur",
          "Tag similarity: generated songs' tags against their references' amateur tags", gen, ama);
  }
  ReportTable sum_table{"Summary", {"measure", "value"}};
  for (const auto& [k, v] : summary.items()) {
    if (v.is_number())
      sum_table.rows.push_back({k, v.is_number_integer() ? v.dump() : fmt(v.get<double>(), 4)});
  }
  tables.insert(tables.begin(), std::move(sum_table));
  ReportTable song_table{"Songs", {"id", "register", "reference"}};
  const std::vector<std::string> cols = {"bpm",        "target_bpm", "key", "target_key",
                                         "saa_prompt", "ara",        "fad"};
  for (const auto& c : cols) song_table.columns.push_back(c);
  if (on("lyrics")) song_table.columns.push_back("lyric score");
  for (const auto& row : per_song) {
    std::vector<std::string> cells = {row["id"], row["register"], row["reference"]};
    for (const auto& c : cols) {
      if (!row.contains(c)) {
        cells.push_back("");
      } else if (row[c].is_number()) {
        cells.push_back(fmt(row[c].get<double>(), c.find("bpm") != std::string::npos ? 1 : 3));
      } else {
        cells.push_back(row[c].get<std::string>());
      }
    }
    if (on("lyrics")) {
      cells.push_back(row.contains("lyrics") ? fmt(row["lyrics"]["total"].get<double>(), 2) : "");
    }
    song_table.rows.push_back(std::move(cells));
  }
  tables.push_back(std::move(song_table));

  ordered_json out;
  out["generated"] = fs::absolute(o.generated).string();
  out["reference"] = fs::absolute(o.reference).string();
  out["metrics"] = metrics;
  out["summary"] = summary;
  out["groups"] = groups;
  out["songs"] = per_song;
  const std::string text = out.dump(2) + "\n";
  fs::create_directories(o.out);
  write_file_atomic(o.out / "metrics.json", text);
  write_file_atomic(
      o.out / "report.html",
      render_report("mudit eval: " + o.generated.filename().string(), tables, report_songs));
  return text;
}

}  // namespace mudit::eval
