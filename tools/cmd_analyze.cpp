// mudit analyze: tempo and key of audio files, one JSON line each (mudit/audio/analysis.h).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "mudit/audio/analysis.h"
#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"

namespace mudit::cli {

Runner setup_analyze(CLI::App& app, CommonOptions& common) {
  auto files = std::make_shared<std::vector<std::string>>();
  app.add_option("files", *files, "audio files")->required()->type_name("FILE...");
  add_common_options(app, common);
  app.footer(
      "Prints {\"file\", \"seconds\", \"bpm\", \"key\", \"key_correlation\"} per file: the "
      "onset-autocorrelation tempo and the Krumhansl-Schmuckler key (Albrecht-Shanahan "
      "profiles) of the mono mix at 22050 Hz.");
  return [&common, files] {
    apply_common_options(common);
    for (const std::string& f : *files) {
      audio::AudioReadOptions ro;
      ro.sample_rate = 22050;
      ro.channels = 1;
      const audio::Audio a = audio::read_audio(f, ro);
      MUDIT_CHECK(a.frames() > 0, DataError, f, ": no samples");
      const at::Tensor mono = a.samples[0];
      const double bpm = estimate_tempo(mono, a.sample_rate).item<double>();
      const KeyEstimate key = estimate_key(mono, a.sample_rate).front();
      nlohmann::ordered_json j;
      j["file"] = f;
      j["seconds"] = a.duration();
      j["bpm"] = bpm;
      j["key"] = key.name();
      j["key_correlation"] = key.correlation;
      std::cout << j.dump() << "\n";
    }
    return kOk;
  };
}

}  // namespace mudit::cli
