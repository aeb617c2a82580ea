// mudit lyrics clean | phonemes | rhyme: ASR clean-up, G2P tokens and coverage, rhyme marks.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/utf8.h"
#include "mudit/text/clean.h"

namespace mudit::cli {
namespace {

Runner setup_clean(CLI::App& clean, CommonOptions& common) {
  add_common_options(clean, common);
  struct Flags {
    std::string in, out, report;
  };
  auto f = std::make_shared<Flags>();
  clean.add_option("input", f->in, "transcript (plain lines or LRC; section tags kept)")
      ->required();
  clean.add_option("--out", f->out, "cleaned LRC (default: stdout)")->type_name("FILE");
  clean.add_option("--report", f->report, "JSON list of dropped lines and reasons")
      ->type_name("FILE");
  return [&common, f] {
    apply_common_options(common);
    const auto cfg = bind_config<text::CleanConfig>(resolve_config(common), "clean");
    const auto result =
        text::clean_lyrics(text::parse_lyrics(utf8::checked(read_file(f->in), f->in)), cfg);
    const std::string lrc = text::to_lrc(result.lyrics);
    nlohmann::json report = nlohmann::json::array();
    std::map<std::string, int> reasons;
    for (const auto& d : result.dropped) {
      report.push_back({{"line", d.index}, {"text", d.text}, {"reason", d.reason}});
      ++reasons[d.reason.substr(0, d.reason.find(':'))];
    }
    if (!f->report.empty()) write_file_atomic(f->report, report.dump(2) + "\n");
    if (f->out.empty()) {
      std::cout << lrc;
    } else {
      write_file_atomic(f->out, lrc);
    }
    std::string summary;
    for (const auto& [r, n] : reasons)
      summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + r;
    log::info("kept ", result.lyrics.line_count(), " lines, dropped ", result.dropped.size(),
              summary.empty() ? "" : " (" + summary + ")");
    return kOk;
  };
}

}  // namespace

Runner setup_lyrics(CLI::App& app, CommonOptions& common) {
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, Runner>> subs;
  CLI::App* clean = app.add_subcommand("clean", "clean an ASR lyric transcript (.txt / .lrc)");
  subs.emplace_back(clean, setup_clean(*clean, common));
  CLI::App* phonemes =
      app.add_subcommand("phonemes", "phoneme tokens and ids of lyrics; G2P coverage (--stats)");
  subs.emplace_back(phonemes, setup_lyrics_phonemes(*phonemes, common));
  CLI::App* rhyme = app.add_subcommand("rhyme", "rhyme marks of a MuChin song (str_rhyme layout)");
  subs.emplace_back(rhyme, setup_lyrics_rhyme(*rhyme, common));
  return [subs] {
    for (const auto& [sub, runner] : subs) {
      if (sub->parsed()) return runner();
    }
    return static_cast<int>(kUsage);
  };
}

}  // namespace mudit::cli
