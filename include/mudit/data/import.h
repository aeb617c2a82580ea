#pragma once
// What every importer shares: its settings, the report of what it kept and skipped, the audio
// lookup, and the atomic write of manifest + report. The importers themselves live in muchin.h
// (the MuChin folder layout) and folder_import.h (audio files with sidecar annotations).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mudit/data/manifest.h"

namespace mudit::data {

/// Settings of `mudit import` (the `import:` section of its config).
struct ImportConfig {
  double valid_fraction = 0.05;  ///< share of songs in the "valid" split (see assign_split)
  double test_fraction = 0.05;   ///< share in the "test" split
  uint64_t split_seed = 0;       ///< seed of the split hash
  /// Keep songs whose audio file is missing (audio "", duration 0) instead of skipping them.
  bool allow_missing_audio = false;
  /// Skip songs without lyrics (folder import; MuChin songs always need `str_lyric`).
  bool require_lyrics = true;
  /// Audio extensions looked for, in order of preference.
  std::vector<std::string> audio_extensions = {".wav", ".flac", ".ogg", ".mp3"};

  template <class V>
  void visit(V& v) {
    v("valid_fraction", valid_fraction);
    v("test_fraction", test_fraction);
    v("split_seed", split_seed);
    v("allow_missing_audio", allow_missing_audio);
    v("require_lyrics", require_lyrics);
    v("audio_extensions", audio_extensions);
  }
  void validate() const;
};

/// One song that was skipped, or kept with a warning.
struct ImportProblem {
  std::string id;
  std::string kind;    ///< "missing audio", "malformed annotation", "empty lyrics", ...
  std::string detail;  ///< the file and what is wrong with it
  bool skipped = true;
};

/// What an import did. Every skipped song is counted under its kind and listed in `problems`.
struct ImportReport {
  std::string importer;                     ///< "muchin" or "folder"
  std::string source;                       ///< the input folder
  int64_t found = 0;                        ///< songs seen
  int64_t imported = 0;                     ///< songs written to the manifest
  std::map<std::string, int64_t> skipped;   ///< kind → songs skipped for it
  std::map<std::string, int64_t> warnings;  ///< kind → songs kept with a warning
  std::vector<ImportProblem> problems;      ///< every skipped song and every warning
  /// Ids that a map did not resolve, by map: "question" (qidmap), "dimension" (subqidmap, the
  /// tid of a tag or the oid of an option), "option" (opidmap). Each is also a problem entry.
  std::map<std::string, int64_t> unresolved_ids;
  int64_t lyric_lines = 0;                ///< lyric lines written
  int64_t timed_lines = 0;                ///< of those, lines with an LRC time
  int64_t audio_found = 0;                ///< songs with an audio file
  std::map<std::string, int64_t> splits;  ///< split → songs

  void skip(const std::string& id, const std::string& kind, const std::string& detail);
  void warn(const std::string& id, const std::string& kind, const std::string& detail);
  /// {"importer", "source", "found", "imported", "skipped": {...}, ..., "problems": [...]}
  std::string to_json() const;
  /// One line: "imported 200 of 200 songs (0 skipped); lyrics 8848 lines, 8412 timed; ...".
  std::string summary() const;
};

struct ImportResult {
  std::vector<ManifestEntry> entries;
  ImportReport report;
};

/// The audio file of song `id` in `audio_dir`: `<id><ext>` for the first extension of
/// `extensions` that exists; "" when none does (or `audio_dir` is empty).
std::filesystem::path find_audio(const std::filesystem::path& audio_dir, const std::string& id,
                                 const std::vector<std::string>& extensions);

/// How `audio` is written in a manifest at `manifest_path`: relative to the manifest's folder
/// when it lies under it, else absolute.
std::string manifest_audio_path(const std::filesystem::path& audio,
                                const std::filesystem::path& manifest_path);

/// Writes the report (when `report_path` is not empty) and then the manifest, both atomically.
/// When nothing was imported the report is still written but the manifest is not, and a
/// DataError says so (a failed import leaves no manifest behind).
void write_import(const ImportResult& result, const std::filesystem::path& manifest_path,
                  const std::filesystem::path& report_path);

}  // namespace mudit::data
