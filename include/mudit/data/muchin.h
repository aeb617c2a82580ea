#pragma once
// The MuChin importer. A MuChin folder holds one folder per song (`s_0001/`, ...) with
//   meta_info        "name  : 消愁" lines (name, singer, genre, album, ...)
//   raw_lyric        KTV lines "[mm:ss.xx]text" (usable times, no structure)
//   str_lyric        the same lyrics under "(verse1)", "(chorus2)", ... (structure, no times)
//   amat_desc_json   amateur descriptions, prof_desc_json professional ones:
//                    {"mid", "ans": [{"id": qid, "desc"?, "tags": [{"tid", "value": [..],
//                    "desc"?}],
//                                     "options": [{"oid", "opid", "desc"?}]}]}
// and in its root the id maps qidmap.json (question id → question), subqidmap.json (tag `tid`
// and option `oid` → dimension name) and opidmap.json (`opid` → option label).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "mudit/data/import.h"

namespace mudit::data {

/// The three id maps of a MuChin folder.
struct MuchinIdMaps {
  std::map<std::string, std::string> questions;   ///< qidmap.json
  std::map<std::string, std::string> dimensions;  ///< subqidmap.json
  std::map<std::string, std::string> options;     ///< opidmap.json
  /// Reads the maps from `dir`. Throws IoError (missing file) or DataError (not a JSON object
  /// of strings), naming the file.
  static MuchinIdMaps load(const std::filesystem::path& dir);
};

/// What one description file resolves to. Unresolved ids are listed as "map:id" strings.
struct MuchinAnnotation {
  std::vector<Description> descriptions;  ///< lang "zh"; aspect = question or dimension
  TagMap tags;                            ///< dimension → labels (tags and chosen options)
  std::vector<std::string> unresolved;    ///< e.g. "dimension:95b5fb62..."
};

/// Resolves one amat_desc_json / prof_desc_json text. Every `desc` (of an answer, a tag or an
/// option) becomes a description whose aspect is the answer's question (qidmap) or the tag's or
/// option's dimension (subqidmap); every tag adds its `value` labels under its dimension; every
/// option adds its label (opidmap) under its dimension. A tag or option whose dimension is
/// unknown is left out (and listed); a description whose question is unknown keeps its text.
/// Throws DataError on malformed JSON or a wrong structure.
MuchinAnnotation resolve_muchin_annotation(std::string_view json_text, const MuchinIdMaps& maps);

/// Structure-tagged lyrics with the times of matching LRC lines.
struct TimedLyrics {
  std::string text;   ///< canonical layout, "[mm:ss.xx]" before each matched line
  int64_t lines = 0;  ///< lyric lines
  int64_t timed = 0;  ///< lines that got a time
};

/// Merges the times of `lrc` (raw_lyric) into `structured` (str_lyric). Both are compared after
/// normalisation (width folding, ASCII lower case, everything but letters and digits removed).
/// Walking the structured lines in order with a cursor into the LRC lines, a line takes the
/// time of the first LRC line within the next 8 that equals it, or of the first of 2-4
/// consecutive LRC lines whose concatenation equals it (phrases the annotators merged); the
/// cursor then moves past what matched. A line that matches nothing keeps no time and the
/// cursor stays, so one odd line never derails the rest.
TimedLyrics merge_lrc_times(std::string_view structured, std::string_view lrc);

/// Parses meta_info ("key : value" lines) into a JSON object text; "{}" for an empty file.
std::string parse_muchin_meta(std::string_view text);

/// Imports a MuChin folder. Songs are the sub-folders that hold a str_lyric, a raw_lyric or a
/// description file, in name order; the song id is the folder name. Audio is looked up in
/// `audio_dir` (may be empty) as `<id>.<ext>`. Bad songs are skipped and reported, never
/// thrown; the id maps must be readable (else DataError / IoError).
ImportResult import_muchin(const std::filesystem::path& dir, const std::filesystem::path& audio_dir,
                           const ImportConfig& config, const std::filesystem::path& manifest_path);

}  // namespace mudit::data
