// mudit eval: generated songs against references -> metrics.json and report.html
// (mudit/eval/evaluate.h).
#include <memory>

#include "commands.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/eval/evaluate.h"

namespace mudit::cli {

Runner setup_eval(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<eval::EvalOptions>();
  auto out = std::make_shared<std::string>();
  auto metrics = std::make_shared<std::string>();
  auto no_audio = std::make_shared<bool>(false);
  app.add_option("--generated", o->generated, "folder of generated songs (mudit sample --out)")
      ->required()
      ->type_name("DIR");
  app.add_option("--reference", o->reference,
                 "reference songs: a manifest (labels, descriptions, lyrics) or a folder of audio")
      ->required()
      ->type_name("DIR|JSONL");
  app.add_option("--out", *out, "folder for metrics.json and report.html")
      ->required()
      ->type_name("DIR");
  app.add_option("--chinmu", o->chinmu,
                 "ChinMu model file, run or bundle's chinmu.safetensors "
                 "(saa, ara, fad, tags)")
      ->type_name("PATH");
  app.add_option("--instruments", o->instruments,
                 "instrument probe (mudit fit-instruments): control scores instrument presence")
      ->type_name("FILE");
  app.add_option("--text-tower", o->text_tower,
                 "text tower for tags: a mudit convert hf-bert file or ChinMu (default --chinmu)")
      ->type_name("FILE");
  app.add_option("--tags", o->tags,
                 "tags of the generated songs: JSON lines {\"id\": NAME, \"tags\": "
                 "{dimension: [tag, ...]}}, scored against their references' tags")
      ->type_name("JSONL");
  app.add_option("--metrics", *metrics,
                 "comma-separated: control, saa, ara, fad, lyrics, plan, tags, reconstruction "
                 "(default: all that apply but tags and reconstruction)");
  app.add_option("--fad-steps", o->fad_steps, "subset sizes of the FAD∞ fit (default 5)");
  app.add_flag("--no-report-audio", *no_audio, "leave the audio players out of report.html");
  add_common_options(app, common);
  app.footer(
      "A generated song pairs with the reference whose id is its file name, or the longest id "
      "the name extends after a dot (synth_000012.amateur -> synth_000012); its register "
      "(professional, amateur, none, other) comes from the description in its sidecar.");
  return [&common, o, out, metrics, no_audio] {
    apply_common_options(common);
    o->out = *out;
    o->device = parse_device(common.device);
    o->report_audio = !*no_audio;
    if (common.seed) o->seed = *common.seed;
    for (size_t s = 0; !metrics->empty() && s != std::string::npos;) {
      const size_t e = metrics->find(',', s);
      const std::string m = metrics->substr(s, e == std::string::npos ? e : e - s);
      if (!m.empty()) o->metrics.push_back(m);
      s = e == std::string::npos ? e : e + 1;
    }
    eval::evaluate(*o);
    log::info("eval: wrote ", *out, "/metrics.json and ", *out, "/report.html");
    return kOk;
  };
}

}  // namespace mudit::cli
