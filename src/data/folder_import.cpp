#include "mudit/data/folder_import.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/text/clean.h"
#include "mudit/text/lyrics.h"
#include "mudit/train/progress.h"

namespace mudit::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool has_extension(const fs::path& p, const std::vector<std::string>& exts) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::find(exts.begin(), exts.end(), ext) != exts.end();
}

// The entry described by a sidecar JSON, checked by the manifest's own parser.
ManifestEntry entry_from_sidecar(const fs::path& file, const std::string& id) {
  json j;
  try {
    j = json::parse(read_file(file));
  } catch (const json::exception& e) {  // parse_error, and out_of_range (a number overflow)
    MUDIT_THROW(DataError, "not valid JSON (", e.what(), ")");
  }
  MUDIT_CHECK(j.is_object(), DataError, "expected a JSON object");
  j["id"] = id;
  return parse_manifest_line(j.dump());
}

}  // namespace

ImportResult import_folder(const fs::path& dir, const ImportConfig& config,
                           const fs::path& manifest_path) {
  config.validate();
  MUDIT_CHECK(fs::is_directory(dir), IoError, "'", dir.string(), "' is not a folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && has_extension(e.path(), config.audio_extensions)) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());

  ImportResult result;
  ImportReport& report = result.report;
  report.importer = "folder";
  report.source = dir.string();
  train::ProgressOptions po;
  po.label = "import";
  po.total = static_cast<int64_t>(files.size());
  train::ProgressBar progress(po);
  std::set<std::string> seen;
  for (const fs::path& audio : files) {
    const fs::path stem = audio.parent_path() / audio.stem();
    const std::string id = stem.lexically_relative(dir).generic_string();
    ++report.found;
    progress.update(report.found);
    if (!seen.insert(id).second) {
      report.skip(id, "duplicate id", audio.string() + ": another audio file has the same stem");
      continue;
    }
    ManifestEntry e;
    int64_t lines = 0, timed = 0;
    fs::path current = stem.string() + ".json";
    try {
      e = fs::exists(current) ? entry_from_sidecar(current, id) : ManifestEntry{};
      e.id = id;
      fs::path lyrics_file = stem.string() + ".lrc";
      if (!fs::exists(lyrics_file)) lyrics_file = stem.string() + ".txt";
      if (fs::exists(lyrics_file)) {
        current = lyrics_file;
        const text::Lyrics lyrics = text::parse_lyrics(read_file(lyrics_file));
        if (lyrics.line_count() > 0) {
          e.lyrics = text::to_lrc(lyrics);
          lines = static_cast<int64_t>(lyrics.line_count());
          for (const auto& l : lyrics.preamble) timed += l.time_s ? 1 : 0;
          for (const auto& s : lyrics.sections) {
            for (const auto& l : s.lines) timed += l.time_s ? 1 : 0;
          }
        }
      }
    } catch (const Error& err) {
      report.skip(id, "malformed annotation", current.string() + ": " + err.what());
      continue;
    }
    if (e.lyrics.empty() && config.require_lyrics) {
      report.skip(id, "empty lyrics", "no lyric line in " + stem.string() + ".lrc or .txt");
      continue;
    }
    try {
      e.duration = audio::probe_audio(audio).duration;
    } catch (const Error& err) {
      report.skip(id, "unreadable audio", err.what());
      continue;
    }
    e.audio = manifest_audio_path(audio, manifest_path);
    ++report.audio_found;
    if (e.split.empty()) {
      e.split = assign_split(id, config.valid_fraction, config.test_fraction, config.split_seed);
    }
    ++report.splits[e.split];
    report.lyric_lines += lines;
    report.timed_lines += timed;
    ++report.imported;
    result.entries.push_back(std::move(e));
  }
  progress.finish();
  return result;
}

}  // namespace mudit::data
