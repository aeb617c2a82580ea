#include "mudit/data/import.h"

#include <nlohmann/json.hpp>

#include <sstream>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"

namespace mudit::data {
namespace fs = std::filesystem;

void ImportConfig::validate() const {
  MUDIT_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction <= 1,
              ConfigError, "import: valid_fraction and test_fraction must be >= 0 and sum to at ",
              "most 1 (got ", valid_fraction, " and ", test_fraction, ")");
  MUDIT_CHECK(!audio_extensions.empty(), ConfigError, "import: audio_extensions is empty");
  for (const auto& e : audio_extensions) {
    MUDIT_CHECK(e.size() > 1 && e[0] == '.', ConfigError, "import: audio extension '", e,
                "' must start with a dot");
  }
}

void ImportReport::skip(const std::string& id, const std::string& kind, const std::string& detail) {
  ++skipped[kind];
  problems.push_back({id, kind, detail, true});
}

void ImportReport::warn(const std::string& id, const std::string& kind, const std::string& detail) {
  ++warnings[kind];
  problems.push_back({id, kind, detail, false});
}

std::string ImportReport::to_json() const {
  nlohmann::ordered_json j;
  j["importer"] = importer;
  j["source"] = source;
  j["found"] = found;
  j["imported"] = imported;
  j["skipped"] = skipped;
  j["warnings"] = warnings;
  j["unresolved_ids"] = unresolved_ids;
  j["audio_found"] = audio_found;
  j["lyrics"] = {
      {"lines", lyric_lines}, {"timed", timed_lines}, {"untimed", lyric_lines - timed_lines}};
  j["splits"] = splits;
  j["problems"] = nlohmann::ordered_json::array();
  for (const auto& p : problems) {
    j["problems"].push_back({{"id", p.id},
                             {"kind", p.kind},
                             {"action", p.skipped ? "skipped" : "kept"},
                             {"detail", p.detail}});
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string ImportReport::summary() const {
  auto counts = [](const std::map<std::string, int64_t>& m) {
    std::string s;
    for (const auto& [k, n] : m) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + k;
    return s;
  };
  int64_t n_skipped = 0;
  for (const auto& [k, n] : skipped) n_skipped += n;
  int64_t n_unresolved = 0;
  for (const auto& [k, n] : unresolved_ids) n_unresolved += n;
  std::ostringstream out;
  out << "imported " << imported << " of " << found << " songs";
  out << " (" << n_skipped << " skipped" << (n_skipped ? ": " + counts(skipped) : "") << ")";
  out << "; audio " << audio_found << "; lyrics " << lyric_lines << " lines, " << timed_lines
      << " timed";
  if (!splits.empty()) out << "; splits " << counts(splits);
  out << "; unresolved ids " << n_unresolved;
  if (!warnings.empty()) out << "; warnings: " << counts(warnings);
  return out.str();
}

fs::path find_audio(const fs::path& audio_dir, const std::string& id,
                    const std::vector<std::string>& extensions) {
  if (audio_dir.empty()) return {};
  for (const auto& ext : extensions) {
    const fs::path p = audio_dir / (id + ext);
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
  }
  return {};
}

std::string manifest_audio_path(const fs::path& audio, const fs::path& manifest_path) {
  std::error_code ec;
  const fs::path abs_audio = fs::weakly_canonical(fs::absolute(audio), ec);
  const fs::path dir = fs::weakly_canonical(fs::absolute(manifest_path).parent_path(), ec);
  const fs::path rel = abs_audio.lexically_relative(dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return abs_audio.generic_string();
}

void write_import(const ImportResult& result, const fs::path& manifest_path,
                  const fs::path& report_path) {
  if (!report_path.empty()) write_file_atomic(report_path, result.report.to_json());
  MUDIT_CHECK(!result.entries.empty(), DataError, "import from '", result.report.source,
              "': no song imported (", result.report.summary(), ")",
              report_path.empty() ? "" : "; see " + report_path.string());
  write_manifest(manifest_path, result.entries);
}

}  // namespace mudit::data
