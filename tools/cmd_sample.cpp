// mudit sample: songs from descriptions and lyrics through a bundle (mudit/pipeline/generate.h);
// mudit bundle: assemble a bundle folder.
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "mudit/audio/io.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/generation/plan_file.h"
#include "mudit/pipeline/generate.h"
#include "mudit/train/progress.h"

namespace mudit::cli {

namespace fs = std::filesystem;

Runner setup_sample(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string bundle, input, out;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--bundle", f->bundle, "bundle folder (mudit bundle)")
      ->required()
      ->type_name("DIR");
  app.add_option("--input", f->input,
                 "one JSON line per song: {description or style (an audio file), lyrics, duration, "
                 "seed, steps, sampler, "
                 "cfg, lyric_cfg, plan_cfg, cfg_rescale, bpm, key, meter, chords, plan (a plan "
                 "file), edit: {mode, reference, start, end, strength}}")
      ->required()
      ->type_name("JSONL");
  app.add_option("--out", f->out, "folder for <id>.wav and <id>.json")
      ->required()
      ->type_name("DIR");
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    // Every line is checked before anything is generated.
    std::vector<pipeline::SongRequest> songs;
    std::vector<std::string> wheres;
    std::ifstream in(f->input);
    MUDIT_CHECK(in, IoError, f->input, ": cannot read");
    int64_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      wheres.push_back(f->input + ":" + std::to_string(line_no));
      auto r = pipeline::SongRequest::from_json(line, wheres.back());
      if (r.id.empty()) r.id = "song_" + std::to_string(line_no);
      songs.push_back(std::move(r));
    }
    MUDIT_CHECK(!songs.empty(), DataError, f->input, ": no songs");
    pipeline::Bundle bundle = pipeline::load_bundle(f->bundle, parse_device(common.device));
    for (size_t i = 0; i < songs.size(); ++i) pipeline::check_request(bundle, songs[i], wheres[i]);
    fs::create_directories(f->out);
    train::ProgressOptions po;
    po.label = "sample";
    po.total = static_cast<int64_t>(songs.size());
    train::ProgressBar bar(po);
    for (size_t i = 0; i < songs.size(); ++i) {
      const auto& r = songs[i];
      const pipeline::Song s = pipeline::generate(bundle, r);
      const fs::path wav = fs::path(f->out) / (r.id + ".wav");
      audio::write_audio(wav, s.audio, static_cast<int>(bundle.codec->sample_rate()));
      nlohmann::ordered_json side;
      side["request"] = nlohmann::ordered_json::parse(r.to_json());
      side["bundle"] = fs::absolute(f->bundle).string();
      side["sampler"] = s.sampler;
      side["steps"] = s.steps;
      side["frames"] = s.frames;
      side["seconds"] = static_cast<double>(s.audio.size(1)) / bundle.codec->sample_rate();
      side["network_rows"] = s.evaluations;
      // The plan, with where each group came from ("sources"; a group nobody gave is absent).
      side["plan"] = nlohmann::ordered_json::parse(
          generation::plan_to_json(s.plan, bundle.codec->latent_rate()));
      if (bundle.generator.config.dit.plan_slots == 0)
        side["plan"]["unused"] = "this generator has no musical plan (model.dit.plan_slots 0)";
      write_file_atomic(fs::path(f->out) / (r.id + ".json"), side.dump(2) + "\n");
      bar.update(static_cast<int64_t>(i + 1));
    }
    log::info("sampled ", songs.size(), " songs -> ", f->out);
    return kOk;
  };
}

Runner setup_bundle(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string codec, chinmu, generator, out, plan_head;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--codec", f->codec, "codec file with latent statistics")->required();
  app.add_option("--chinmu", f->chinmu, "ChinMu run or model file")->required();
  app.add_option("--generator", f->generator, "generator run or model file")->required();
  app.add_option("--out", f->out, "bundle folder to create")->required()->type_name("DIR");
  app.add_option("--plan-head", f->plan_head,
                 "plan head (mudit fit-plan-head): tempo, meter and key for descriptions that "
                 "state none")
      ->type_name("FILE");
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    pipeline::make_bundle(f->codec, f->chinmu, f->generator, f->out, f->plan_head);
    log::info("bundle -> ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
