#pragma once
// The manifest: one JSON object per line (JSONL), one song per line. Every importer and
// `mudit synth` writes it; `mudit prepare`, the loaders and the evaluation read it.
//
//   {"id": "s_0001", "audio": "audio/s_0001.flac", "duration": 212.4,
//    "lyrics": "(verse1)\n[00:17.42]当你走进这欢乐场\n...",
//    "descriptions": {"amateur": ["...", {"text": "...", "lang": "zh", "length": "short"}],
//                     "professional": [...]},
//    "tags": {"amateur": {"风格或流派": ["流行歌曲", "抒情"]}, "professional": {...}},
//    "split": "train", "meta": {"name": "消愁", ...}}
//
// A description is a plain string, or an object with its language, length bucket and aspect (the
// dimension or question it answers) when known.
// `audio` is relative to the manifest's folder unless absolute.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mudit::data {

struct Description {
  std::string text;
  std::string lang;    // "zh", "en", or "" when unknown
  std::string length;  // "short", "medium", "long", or "" when not bucketed
  /// What the text describes, when the source says: the tag dimension or question it answers
  /// (MuChin: "配器与音效", "这首歌带给你的感受？"); "" when unknown.
  std::string aspect;
  bool operator==(const Description& o) const {
    return text == o.text && lang == o.lang && length == o.length && aspect == o.aspect;
  }
};

/// Dimension (e.g. "风格或流派", "tempo") → labels.
using TagMap = std::map<std::string, std::vector<std::string>>;

struct ManifestEntry {
  std::string id;
  std::string audio;      // path of the audio file; relative to the manifest's folder or absolute
  double duration = 0.0;  // seconds (0 when unknown)
  std::string lyrics;     // structure-tagged lyrics, optionally with LRC timestamps
  std::vector<Description> amateur;       // descriptions.amateur
  std::vector<Description> professional;  // descriptions.professional
  TagMap amateur_tags;                    // tags.amateur
  TagMap professional_tags;               // tags.professional
  std::string split;                      // "train", "valid", "test" (or "" when unassigned)
  std::string meta = "{}";                // free-form JSON object, kept as its serialised text
};

/// One line of JSONL (no trailing newline). Keys appear in the order of the example above.
std::string to_json_line(const ManifestEntry& entry);

/// Parses one line. Throws DataError naming the field on a malformed line: not an object, a
/// missing or empty `id`, a field of the wrong type, a negative duration, an unknown split.
ManifestEntry parse_manifest_line(std::string_view line);

/// Reads a manifest file. Blank lines are skipped; every error names "file:line"; duplicate ids
/// are an error.
std::vector<ManifestEntry> read_manifest(const std::filesystem::path& path);

/// Writes a manifest atomically (temp file + rename): a failed write leaves the old one intact.
void write_manifest(const std::filesystem::path& path, const std::vector<ManifestEntry>& entries);

/// The audio path of `entry`, resolved against the manifest's folder when relative.
std::filesystem::path resolve_audio(const ManifestEntry& entry,
                                    const std::filesystem::path& manifest_path);

/// A deterministic split from the id alone (a hash of id and seed), so adding songs never moves
/// existing ones between splits: "valid" with probability valid_fraction, "test" with
/// test_fraction, "train" otherwise.
std::string assign_split(std::string_view id, double valid_fraction, double test_fraction,
                         uint64_t seed = 0);

}  // namespace mudit::data
