#include "mudit/data/muchin.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/text/clean.h"
#include "mudit/text/lyrics.h"
#include "mudit/train/progress.h"

namespace mudit::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json parse_json(std::string_view text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range (a number overflow)
    MUDIT_THROW(DataError, what, ": not valid JSON (", e.what(), ")");
  }
}

std::map<std::string, std::string> load_id_map(const fs::path& file) {
  const json j = parse_json(read_file(file), file.string());
  MUDIT_CHECK(j.is_object(), DataError, file.string(), ": expected a JSON object of id → text");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    MUDIT_CHECK(value.is_string(), DataError, file.string(), ": the value of '", key,
                "' is not a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

// Decodes one UTF-8 code point at `i` (advancing it); malformed bytes decode as themselves.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

// Punctuation, symbols and spaces that differ between raw_lyric and str_lyric.
bool is_separator(uint32_t cp) {
  if (cp < 0x80) return !std::isalnum(static_cast<int>(cp));
  return (cp >= 0x2000 && cp <= 0x206F) ||  // general punctuation
         (cp >= 0x3000 && cp <= 0x303F) ||  // CJK symbols and punctuation
         (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
         (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) || cp == 0x00B7 ||
         cp == 0x00A0 || cp == 0x30FB;
}

std::string match_key(std::string_view line) {
  const std::string folded = text::fold_width(line);
  std::string out;
  for (size_t i = 0; i < folded.size();) {
    const size_t start = i;
    const uint32_t cp = next_code_point(folded, i);
    if (is_separator(cp)) continue;
    if (cp < 0x80) {
      out += static_cast<char>(std::tolower(static_cast<int>(cp)));
    } else {
      out.append(folded, start, i - start);
    }
  }
  return out;
}

void add_labels(TagMap& tags, const std::string& dim, const std::vector<std::string>& labels) {
  auto& list = tags[dim];
  for (const auto& l : labels) {
    if (!l.empty() && std::find(list.begin(), list.end(), l) == list.end()) list.push_back(l);
  }
}

std::string string_member(const json& j, const char* key, const std::string& where) {
  MUDIT_CHECK(j.contains(key) && j[key].is_string(), DataError, where, ": missing string '", key,
              "'");
  return j[key].get<std::string>();
}

void add_description(std::vector<Description>& out, const json& j, const std::string& aspect,
                     const std::string& where) {
  if (!j.contains("desc") || j["desc"].is_null()) return;
  MUDIT_CHECK(j["desc"].is_string(), DataError, where, ": 'desc' is not a string");
  const std::string desc = text::fold_width(j["desc"].get<std::string>());
  if (!desc.empty()) out.push_back({desc, "zh", "", aspect});
}

}  // namespace

MuchinIdMaps MuchinIdMaps::load(const fs::path& dir) {
  MuchinIdMaps maps;
  maps.questions = load_id_map(dir / "qidmap.json");
  maps.dimensions = load_id_map(dir / "subqidmap.json");
  maps.options = load_id_map(dir / "opidmap.json");
  return maps;
}

MuchinAnnotation resolve_muchin_annotation(std::string_view json_text, const MuchinIdMaps& maps) {
  const json j = parse_json(json_text, "description");
  MUDIT_CHECK(j.is_object() && j.contains("ans") && j["ans"].is_array(), DataError,
              "description: expected an object with an 'ans' list");
  MuchinAnnotation out;
  auto lookup = [&](const std::map<std::string, std::string>& map, const std::string& id,
                    const char* kind) -> std::string {
    auto it = map.find(id);
    if (it != map.end()) return it->second;
    out.unresolved.push_back(std::string(kind) + ":" + id);
    return {};
  };
  for (size_t a = 0; a < j["ans"].size(); ++a) {
    const json& ans = j["ans"][a];
    const std::string where = "ans[" + std::to_string(a) + "]";
    MUDIT_CHECK(ans.is_object(), DataError, where, ": not an object");
    const std::string question =
        lookup(maps.questions, string_member(ans, "id", where), "question");
    add_description(out.descriptions, ans, question, where);
    if (ans.contains("tags") && !ans["tags"].is_null()) {
      MUDIT_CHECK(ans["tags"].is_array(), DataError, where, ": 'tags' is not a list");
      for (size_t t = 0; t < ans["tags"].size(); ++t) {
        const json& tag = ans["tags"][t];
        const std::string tw = where + ".tags[" + std::to_string(t) + "]";
        MUDIT_CHECK(tag.is_object(), DataError, tw, ": not an object");
        const std::string dim = lookup(maps.dimensions, string_member(tag, "tid", tw), "dimension");
        std::vector<std::string> labels;
        if (tag.contains("value") && !tag["value"].is_null()) {
          const json& v = tag["value"];
          MUDIT_CHECK(v.is_array() || v.is_string(), DataError, tw,
                      ": 'value' is not a list of strings");
          for (const json& l : v.is_array() ? v : json::array({v})) {
            MUDIT_CHECK(l.is_string(), DataError, tw, ": 'value' is not a list of strings");
            labels.push_back(text::fold_width(l.get<std::string>()));
          }
        }
        add_description(out.descriptions, tag, dim, tw);
        if (!dim.empty() && !labels.empty()) add_labels(out.tags, dim, labels);
      }
    }
    if (ans.contains("options") && !ans["options"].is_null()) {
      MUDIT_CHECK(ans["options"].is_array(), DataError, where, ": 'options' is not a list");
      for (size_t o = 0; o < ans["options"].size(); ++o) {
        const json& opt = ans["options"][o];
        const std::string ow = where + ".options[" + std::to_string(o) + "]";
        MUDIT_CHECK(opt.is_object() && opt.contains("opid"), DataError, ow,
                    ": expected an object with 'oid' and 'opid'");
        const std::string dim = lookup(maps.dimensions, string_member(opt, "oid", ow), "dimension");
        const json& opid = opt["opid"];
        MUDIT_CHECK(opid.is_number_integer() || opid.is_string(), DataError, ow,
                    ": 'opid' is not an id");
        const std::string label =
            lookup(maps.options,
                   opid.is_string() ? opid.get<std::string>() : std::to_string(opid.get<int64_t>()),
                   "option");
        add_description(out.descriptions, opt, dim, ow);
        if (!dim.empty() && !label.empty()) add_labels(out.tags, dim, {label});
      }
    }
  }
  return out;
}

TimedLyrics merge_lrc_times(std::string_view structured, std::string_view lrc) {
  text::Lyrics lyrics = text::parse_lyrics(structured);
  std::vector<std::pair<std::string, double>> timed;  // (key, time) of every timed LRC line
  for (const auto& l : text::parse_lyrics(lrc).preamble) {
    const std::string key = match_key(l.text);
    if (l.time_s && !key.empty()) timed.emplace_back(key, *l.time_s);
  }
  constexpr size_t kWindow = 8;
  constexpr size_t kMaxMerged = 4;
  size_t cursor = 0;
  TimedLyrics out;
  auto place = [&](text::LyricLine& line) {
    ++out.lines;
    line.time_s.reset();
    const std::string key = match_key(line.text);
    if (key.empty()) return;
    const size_t end = std::min(timed.size(), cursor + kWindow);
    for (size_t k = cursor; k < end; ++k) {
      if (timed[k].first == key) {
        line.time_s = timed[k].second;
        cursor = k + 1;
        ++out.timed;
        return;
      }
      std::string joined = timed[k].first;
      for (size_t m = k + 1; m < timed.size() && m < k + kMaxMerged && joined.size() < key.size();
           ++m) {
        joined += timed[m].first;
        if (joined == key) {
          line.time_s = timed[k].second;
          cursor = m + 1;
          ++out.timed;
          return;
        }
      }
    }
  };
  for (auto& l : lyrics.preamble) place(l);
  for (auto& s : lyrics.sections) {
    for (auto& l : s.lines) place(l);
  }
  out.text = text::to_lrc(lyrics);
  return out;
}

std::string parse_muchin_meta(std::string_view text) {
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = text::fold_width(line.substr(0, colon));
    const std::string value = text::fold_width(line.substr(colon + 1));
    if (!key.empty() && !value.empty()) meta[key] = value;
  }
  return meta.dump(-1, ' ', false, json::error_handler_t::replace);
}

ImportResult import_muchin(const fs::path& dir, const fs::path& audio_dir,
                           const ImportConfig& config, const fs::path& manifest_path) {
  config.validate();
  MUDIT_CHECK(fs::is_directory(dir), IoError, "'", dir.string(), "' is not a folder");
  MUDIT_CHECK(audio_dir.empty() || fs::is_directory(audio_dir), IoError, "audio folder '",
              audio_dir.string(), "' is not a folder");
  const MuchinIdMaps maps =
      with_context("MuChin id maps in " + dir.string(), [&] { return MuchinIdMaps::load(dir); });

  static const char* kFiles[] = {"str_lyric", "raw_lyric", "amat_desc_json", "prof_desc_json"};
  std::vector<fs::path> songs;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_directory()) continue;
    for (const char* f : kFiles) {
      if (fs::exists(e.path() / f)) {
        songs.push_back(e.path());
        break;
      }
    }
  }
  std::sort(songs.begin(), songs.end());

  ImportResult result;
  ImportReport& report = result.report;
  report.importer = "muchin";
  report.source = dir.string();
  train::ProgressOptions po;
  po.label = "import";
  po.total = static_cast<int64_t>(songs.size());
  train::ProgressBar progress(po);
  for (const fs::path& song : songs) {
    const std::string id = song.filename().string();
    ++report.found;
    progress.update(report.found);
    ManifestEntry e;
    e.id = id;
    TimedLyrics lyrics;
    std::vector<std::string> unresolved;
    std::string missing;
    for (const char* f : {"str_lyric", "amat_desc_json", "prof_desc_json"}) {
      if (!fs::exists(song / f)) missing += (missing.empty() ? "" : ", ") + std::string(f);
    }
    if (!missing.empty()) {
      report.skip(id, "missing annotation", (song / "").string() + " lacks " + missing);
      continue;
    }
    std::string current;
    try {
      current = "amat_desc_json";
      auto amateur = resolve_muchin_annotation(read_file(song / current), maps);
      current = "prof_desc_json";
      auto professional = resolve_muchin_annotation(read_file(song / current), maps);
      e.amateur = std::move(amateur.descriptions);
      e.amateur_tags = std::move(amateur.tags);
      e.professional = std::move(professional.descriptions);
      e.professional_tags = std::move(professional.tags);
      for (auto& u : amateur.unresolved) unresolved.push_back("amat_desc_json " + u);
      for (auto& u : professional.unresolved) unresolved.push_back("prof_desc_json " + u);
      current = "str_lyric";
      const std::string structured = read_file(song / current);
      std::string raw;
      if (fs::exists(song / "raw_lyric")) {
        current = "raw_lyric";
        raw = read_file(song / current);
      }
      lyrics = merge_lrc_times(structured, raw);
      if (fs::exists(song / "meta_info")) {
        current = "meta_info";
        e.meta = parse_muchin_meta(read_file(song / current));
      }
    } catch (const Error& err) {
      report.skip(id, "malformed annotation", (song / current).string() + ": " + err.what());
      continue;
    }
    if (lyrics.lines == 0) {
      report.skip(id, "empty lyrics", (song / "str_lyric").string() + " holds no lyric line");
      continue;
    }
    e.lyrics = lyrics.text;
    const fs::path audio = find_audio(audio_dir, id, config.audio_extensions);
    if (audio.empty()) {
      const std::string where = audio_dir.empty()
                                    ? std::string("no --audio folder given")
                                    : "no " + id + ".{wav,flac,ogg,mp3} in " + audio_dir.string();
      if (!config.allow_missing_audio) {
        report.skip(id, "missing audio", where);
        continue;
      }
      report.warn(id, "missing audio", where);
    } else {
      try {
        e.duration = audio::probe_audio(audio).duration;
      } catch (const Error& err) {
        report.skip(id, "unreadable audio", err.what());
        continue;
      }
      e.audio = manifest_audio_path(audio, manifest_path);
      ++report.audio_found;
    }
    for (const auto& u : unresolved) {
      const std::string kind = u.substr(u.find(' ') + 1, u.find(':') - u.find(' ') - 1);
      ++report.unresolved_ids[kind];
      report.warn(id, "unresolved id", u);
    }
    if (!fs::exists(song / "raw_lyric")) {
      report.warn(id, "no raw_lyric", "lyrics without times");
    }
    e.split = assign_split(id, config.valid_fraction, config.test_fraction, config.split_seed);
    ++report.splits[e.split];
    report.lyric_lines += lyrics.lines;
    report.timed_lines += lyrics.timed;
    ++report.imported;
    result.entries.push_back(std::move(e));
  }
  progress.finish();
  return result;
}

}  // namespace mudit::data
