#pragma once
// The plain-folder importer: audio files anywhere under a folder, each with optional sidecars
// next to it sharing its stem:
//   song.flac   the audio (any of ImportConfig::audio_extensions)
//   song.lrc    timed lyrics (preferred), or song.txt plain lyrics; structure tags allowed
//   song.json   {"descriptions": {...}, "tags": {...}, "meta": {...}, "split"?: ...} in the
//               manifest's own field names (see manifest.h); every field optional
// The id is the path of the audio file relative to the folder, without extension.

#include <filesystem>

#include "mudit/data/import.h"

namespace mudit::data {

/// Imports every audio file under `dir` (recursively, in path order). Unreadable audio, a
/// malformed sidecar JSON or (with require_lyrics) missing lyrics skip the song with a report
/// entry. A split from the sidecar wins over assign_split.
ImportResult import_folder(const std::filesystem::path& dir, const ImportConfig& config,
                           const std::filesystem::path& manifest_path);

}  // namespace mudit::data
