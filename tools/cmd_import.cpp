// mudit import muchin|folder: annotations (+ audio) → manifest.jsonl, an import report and the
// resolved config next to the manifest.
#include <filesystem>
#include <memory>

#include "commands.h"
#include "mudit/core/log.h"
#include "mudit/data/folder_import.h"
#include "mudit/data/muchin.h"

namespace mudit::cli {
namespace {

struct ImportFlags {
  std::string in, audio, out, report;
  std::optional<double> valid_fraction, test_fraction;
  bool allow_missing_audio = false;
};

void add_import_flags(CLI::App& app, CommonOptions& common, ImportFlags& f, bool audio_dir) {
  add_common_options(app, common);
  app.add_option("--in", f.in, "input folder")->required()->type_name("DIR");
  if (audio_dir)
    app.add_option("--audio", f.audio, "audio files <id>.wav|flac|ogg|mp3")->type_name("DIR");
  app.add_option("--out", f.out, "manifest to write (JSONL)")->required()->type_name("FILE");
  app.add_option("--report", f.report, "import report (default: <out stem>.report.json)")
      ->type_name("FILE");
  app.add_option("--valid-fraction", f.valid_fraction, "share of songs in the valid split (0.05)");
  app.add_option("--test-fraction", f.test_fraction, "share of songs in the test split (0.05)");
  app.add_flag("--allow-missing-audio", f.allow_missing_audio,
               "keep songs without audio (audio empty, duration 0)");
}

int run_import(const std::string& kind, const CommonOptions& common, const ImportFlags& f) {
  apply_common_options(common);
  ConfigNode tree = resolve_config(common);
  if (f.valid_fraction)
    apply_override(tree, "import.valid_fraction=" + std::to_string(*f.valid_fraction));
  if (f.test_fraction)
    apply_override(tree, "import.test_fraction=" + std::to_string(*f.test_fraction));
  if (common.seed) apply_override(tree, "import.split_seed=" + std::to_string(*common.seed));
  if (f.allow_missing_audio) apply_override(tree, "import.allow_missing_audio=true");
  const auto cfg = bind_config<data::ImportConfig>(tree, "import");
  const std::filesystem::path out(f.out);
  const std::filesystem::path report =
      f.report.empty() ? out.parent_path() / (out.stem().string() + ".report.json")
                       : std::filesystem::path(f.report);
  const data::ImportResult result = kind == "muchin" ? data::import_muchin(f.in, f.audio, cfg, out)
                                                     : data::import_folder(f.in, cfg, out);
  if (!result.entries.empty()) log::info(result.report.summary());  // else the error says it
  data::write_import(result, out, report);
  ConfigNode resolved = ConfigNode::map();
  resolved.set("import", config_to_node(cfg));
  write_config_file(out.parent_path().empty() ? "." : out.parent_path(), to_yaml(resolved),
                    out.stem().string() + ".config.yaml");
  log::info("wrote ", out.string(), " (", result.entries.size(), " songs) and ", report.string());
  return kOk;
}

}  // namespace

Runner setup_import(CLI::App& app, CommonOptions& common) {
  app.require_subcommand(1);
  auto f = std::make_shared<ImportFlags>();
  auto kind = std::make_shared<std::string>();
  CLI::App* muchin =
      app.add_subcommand("muchin", "a MuChin folder (s_XXXX/ song folders + id maps)");
  add_import_flags(*muchin, common, *f, true);
  muchin->callback([kind] { *kind = "muchin"; });
  CLI::App* folder = app.add_subcommand("folder", "audio files with .txt/.lrc/.json sidecars");
  add_import_flags(*folder, common, *f, false);
  folder->callback([kind] { *kind = "folder"; });
  return [&common, f, kind] { return run_import(*kind, common, *f); };
}

}  // namespace mudit::cli
