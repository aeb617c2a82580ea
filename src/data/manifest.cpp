#include "mudit/data/manifest.h"

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"

namespace mudit::data {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json description_json(const Description& d) {
  if (d.lang.empty() && d.length.empty() && d.aspect.empty()) return d.text;
  ordered_json o;
  o["text"] = d.text;
  if (!d.lang.empty()) o["lang"] = d.lang;
  if (!d.length.empty()) o["length"] = d.length;
  if (!d.aspect.empty()) o["aspect"] = d.aspect;
  return o;
}

ordered_json tags_json(const TagMap& tags) {
  ordered_json o = ordered_json::object();
  for (const auto& [dim, labels] : tags) o[dim] = labels;
  return o;
}

std::string string_field(const json& j, const char* key, const char* what) {
  if (!j.contains(key) || j[key].is_null()) return {};
  MUDIT_CHECK(j[key].is_string(), DataError, "manifest: '", what, "' must be a string");
  return j[key].get<std::string>();
}

std::vector<Description> descriptions_from(const json& j, const char* what) {
  std::vector<Description> out;
  if (j.is_null()) return out;
  MUDIT_CHECK(j.is_array(), DataError, "manifest: '", what, "' must be a list");
  for (const auto& item : j) {
    if (item.is_string()) {
      out.push_back({item.get<std::string>(), "", "", ""});
      continue;
    }
    MUDIT_CHECK(item.is_object() && item.contains("text") && item["text"].is_string(), DataError,
                "manifest: each of '", what, "' must be a string or an object with a 'text'");
    out.push_back({item["text"].get<std::string>(), string_field(item, "lang", "lang"),
                   string_field(item, "length", "length"), string_field(item, "aspect", "aspect")});
  }
  return out;
}

TagMap tags_from(const json& j, const char* what) {
  TagMap out;
  if (j.is_null()) return out;
  MUDIT_CHECK(j.is_object(), DataError, "manifest: '", what, "' must be an object");
  for (const auto& [dim, labels] : j.items()) {
    auto& list = out[dim];
    if (labels.is_string()) {
      list.push_back(labels.get<std::string>());
      continue;
    }
    MUDIT_CHECK(labels.is_array(), DataError, "manifest: '", what, ".", dim,
                "' must be a list of strings");
    for (const auto& l : labels) {
      MUDIT_CHECK(l.is_string(), DataError, "manifest: '", what, ".", dim,
                  "' must be a list of strings");
      list.push_back(l.get<std::string>());
    }
  }
  return out;
}

}  // namespace

std::string to_json_line(const ManifestEntry& e) {
  ordered_json j;
  j["id"] = e.id;
  j["audio"] = e.audio;
  j["duration"] = e.duration;
  j["lyrics"] = e.lyrics;
  ordered_json desc;
  desc["amateur"] = ordered_json::array();
  for (const auto& d : e.amateur) desc["amateur"].push_back(description_json(d));
  desc["professional"] = ordered_json::array();
  for (const auto& d : e.professional) desc["professional"].push_back(description_json(d));
  j["descriptions"] = std::move(desc);
  j["tags"] = {{"amateur", tags_json(e.amateur_tags)},
               {"professional", tags_json(e.professional_tags)}};
  j["split"] = e.split;
  j["meta"] = e.meta.empty() ? ordered_json::object() : ordered_json::parse(e.meta);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ManifestEntry parse_manifest_line(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {  // parse_error, and out_of_range (a number overflow)
    MUDIT_THROW(DataError, "manifest: not valid JSON (", e.what(), ")");
  }
  MUDIT_CHECK(j.is_object(), DataError, "manifest: a line must be a JSON object");
  ManifestEntry e;
  e.id = string_field(j, "id", "id");
  MUDIT_CHECK(!e.id.empty(), DataError, "manifest: missing or empty 'id'");
  e.audio = string_field(j, "audio", "audio");
  if (j.contains("duration") && !j["duration"].is_null()) {
    MUDIT_CHECK(j["duration"].is_number(), DataError, "manifest: 'duration' must be a number");
    e.duration = j["duration"].get<double>();
    MUDIT_CHECK(e.duration >= 0.0, DataError, "manifest: negative 'duration' ", e.duration);
  }
  e.lyrics = string_field(j, "lyrics", "lyrics");
  if (j.contains("descriptions") && !j["descriptions"].is_null()) {
    const auto& d = j["descriptions"];
    MUDIT_CHECK(d.is_object(), DataError, "manifest: 'descriptions' must be an object");
    e.amateur = descriptions_from(d.value("amateur", json()), "descriptions.amateur");
    e.professional =
        descriptions_from(d.value("professional", json()), "descriptions.professional");
  }
  if (j.contains("tags") && !j["tags"].is_null()) {
    const auto& t = j["tags"];
    MUDIT_CHECK(t.is_object(), DataError, "manifest: 'tags' must be an object");
    e.amateur_tags = tags_from(t.value("amateur", json()), "tags.amateur");
    e.professional_tags = tags_from(t.value("professional", json()), "tags.professional");
  }
  e.split = string_field(j, "split", "split");
  MUDIT_CHECK(e.split.empty() || e.split == "train" || e.split == "valid" || e.split == "test",
              DataError, "manifest: unknown split '", e.split, "' (expected train, valid or test)");
  if (j.contains("meta") && !j["meta"].is_null()) {
    MUDIT_CHECK(j["meta"].is_object(), DataError, "manifest: 'meta' must be an object");
    e.meta = j["meta"].dump();
  }
  return e;
}

std::vector<ManifestEntry> read_manifest(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  std::vector<ManifestEntry> entries;
  std::set<std::string> ids;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    ManifestEntry e = with_context([&] { return path.string() + ":" + std::to_string(line_no); },
                                   [&] { return parse_manifest_line(line); });
    MUDIT_CHECK(ids.insert(e.id).second, DataError, path.string(), ":", line_no, ": duplicate id '",
                e.id, "'");
    entries.push_back(std::move(e));
  }
  return entries;
}

void write_manifest(const std::filesystem::path& path, const std::vector<ManifestEntry>& entries) {
  std::string text;
  for (const auto& e : entries) {
    text += to_json_line(e);
    text += '\n';
  }
  write_file_atomic(path, text);
}

std::filesystem::path resolve_audio(const ManifestEntry& entry,
                                    const std::filesystem::path& manifest_path) {
  std::filesystem::path audio(entry.audio);
  if (audio.empty() || audio.is_absolute()) return audio;
  return manifest_path.parent_path() / audio;
}

std::string assign_split(std::string_view id, double valid_fraction, double test_fraction,
                         uint64_t seed) {
  MUDIT_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction <= 1,
              ConfigError, "split fractions must be >= 0 and sum to at most 1 (valid ",
              valid_fraction, ", test ", test_fraction, ")");
  // FNV-1a over the id, then a splitmix64 finaliser with the seed: stable across platforms.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  h ^= seed + 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  const double u = static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
  if (u < valid_fraction) return "valid";
  if (u < valid_fraction + test_fraction) return "test";
  return "train";
}

}  // namespace mudit::data
