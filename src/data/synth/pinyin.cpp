#include "data/synth/pinyin.h"

#include <array>
#include <cctype>
#include <map>

namespace mudit::data::synth::vocal {
namespace {

const std::map<std::string, std::string>& initial_zhuyin() {
  static const std::map<std::string, std::string> table = {
      {"b", "ㄅ"},  {"p", "ㄆ"},  {"m", "ㄇ"},  {"f", "ㄈ"}, {"d", "ㄉ"}, {"t", "ㄊ"}, {"n", "ㄋ"},
      {"l", "ㄌ"},  {"g", "ㄍ"},  {"k", "ㄎ"},  {"h", "ㄏ"}, {"j", "ㄐ"}, {"q", "ㄑ"}, {"x", "ㄒ"},
      {"zh", "ㄓ"}, {"ch", "ㄔ"}, {"sh", "ㄕ"}, {"r", "ㄖ"}, {"z", "ㄗ"}, {"c", "ㄘ"}, {"s", "ㄙ"}};
  return table;
}

// Finals in full spelling ("v" for ü); "" is the apical vowel after zh ch sh r z c s.
const std::map<std::string, std::string>& final_zhuyin() {
  static const std::map<std::string, std::string> table = {
      {"", ""},         {"a", "ㄚ"},      {"o", "ㄛ"},     {"e", "ㄜ"},     {"eh", "ㄝ"},
      {"ai", "ㄞ"},     {"ei", "ㄟ"},     {"ao", "ㄠ"},    {"ou", "ㄡ"},    {"an", "ㄢ"},
      {"en", "ㄣ"},     {"ang", "ㄤ"},    {"eng", "ㄥ"},   {"er", "ㄦ"},    {"ong", "ㄨㄥ"},
      {"i", "ㄧ"},      {"ia", "ㄧㄚ"},   {"io", "ㄧㄛ"},  {"ie", "ㄧㄝ"},  {"iai", "ㄧㄞ"},
      {"iao", "ㄧㄠ"},  {"iou", "ㄧㄡ"},  {"ian", "ㄧㄢ"}, {"in", "ㄧㄣ"},  {"iang", "ㄧㄤ"},
      {"ing", "ㄧㄥ"},  {"iong", "ㄩㄥ"}, {"u", "ㄨ"},     {"ua", "ㄨㄚ"},  {"uo", "ㄨㄛ"},
      {"uai", "ㄨㄞ"},  {"uei", "ㄨㄟ"},  {"uan", "ㄨㄢ"}, {"uen", "ㄨㄣ"}, {"uang", "ㄨㄤ"},
      {"ueng", "ㄨㄥ"}, {"v", "ㄩ"},      {"ve", "ㄩㄝ"},  {"van", "ㄩㄢ"}, {"vn", "ㄩㄣ"}};
  return table;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::optional<PinyinSyllable> parse_pinyin(std::string_view toned) {
  std::string s;
  for (size_t i = 0; i < toned.size(); ++i) {
    const auto c = static_cast<unsigned char>(toned[i]);
    if (c == 0xC3 && i + 1 < toned.size() && static_cast<unsigned char>(toned[i + 1]) == 0xBC) {
      s += 'v';  // ü (U+00FC)
      ++i;
    } else if (c == ':' && !s.empty() && s.back() == 'u') {
      s.back() = 'v';  // u:
    } else {
      s += static_cast<char>(std::tolower(c));
    }
  }
  PinyinSyllable out;
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s.back()))) {
    out.tone = s.back() - '0';
    s.pop_back();
    if (out.tone == 0) out.tone = 5;
    if (out.tone < 1 || out.tone > 5) return std::nullopt;
  }
  if (s.empty()) return std::nullopt;
  // y- and w- spellings stand for the medials i, u and ü.
  if (s[0] == 'y') {
    const std::string rest = s.substr(1);
    if (starts_with(rest, "u")) {
      s = "v" + rest.substr(1);
    } else if (starts_with(rest, "i")) {
      s = rest;
    } else {
      s = "i" + rest;
    }
  } else if (s[0] == 'w') {
    const std::string rest = s.substr(1);
    s = starts_with(rest, "u") ? rest : "u" + rest;
  } else {
    for (const char* ini : {"zh", "ch", "sh"}) {
      if (starts_with(s, ini)) {
        out.initial = ini;
        break;
      }
    }
    if (out.initial.empty() && initial_zhuyin().count(s.substr(0, 1)) && s != "m" && s != "n") {
      out.initial = s.substr(0, 1);
    }
    s = s.substr(out.initial.size());
  }
  const std::string& ini = out.initial;
  if ((ini == "j" || ini == "q" || ini == "x") && starts_with(s, "u")) s = "v" + s.substr(1);
  if (s == "iu") s = "iou";
  if (s == "ui") s = "uei";
  if (s == "un") s = "uen";
  const bool apical = ini == "zh" || ini == "ch" || ini == "sh" || ini == "r" || ini == "z" ||
                      ini == "c" || ini == "s";
  if (apical && s == "i") s.clear();
  if (s.empty() && !apical) return std::nullopt;
  if (!final_zhuyin().count(s)) return std::nullopt;
  // j q x take only i- and ü- finals; zh ch sh r z c s never take them.
  const bool palatal_final = s[0] == 'i' || s[0] == 'v';
  if ((ini == "j" || ini == "q" || ini == "x") && !palatal_final) return std::nullopt;
  if (apical && !s.empty() && palatal_final) return std::nullopt;
  out.final_ = s;
  return out;
}

std::string pinyin_to_zhuyin(std::string_view toned) {
  const auto syl = parse_pinyin(toned);
  if (!syl) return {};
  std::string out;
  if (!syl->initial.empty()) out = initial_zhuyin().at(syl->initial);
  return out + final_zhuyin().at(syl->final_);
}

std::string gcin_folder_name(std::string_view toned) {
  const auto syl = parse_pinyin(toned);
  if (!syl) return {};
  static const std::array<const char*, 6> suffix = {"", "", "2", "3", "4", "1"};
  return pinyin_to_zhuyin(toned) + suffix[static_cast<size_t>(syl->tone)];
}

std::string rhyme_group(std::string_view toned) {
  const auto syl = parse_pinyin(toned);
  if (!syl) return {};
  static const std::map<std::string, std::string> groups = {
      {"", "i"},       {"a", "a"},     {"ia", "a"},    {"ua", "a"},    {"o", "o"},
      {"uo", "o"},     {"io", "o"},    {"e", "o"},     {"ie", "ie"},   {"ve", "ie"},
      {"eh", "ie"},    {"ai", "ai"},   {"uai", "ai"},  {"iai", "ai"},  {"ei", "ei"},
      {"uei", "ei"},   {"ao", "ao"},   {"iao", "ao"},  {"ou", "ou"},   {"iou", "ou"},
      {"an", "an"},    {"ian", "an"},  {"uan", "an"},  {"van", "an"},  {"en", "en"},
      {"in", "en"},    {"uen", "en"},  {"vn", "en"},   {"ang", "ang"}, {"iang", "ang"},
      {"uang", "ang"}, {"eng", "eng"}, {"ing", "eng"}, {"ong", "eng"}, {"iong", "eng"},
      {"ueng", "eng"}, {"i", "i"},     {"v", "i"},     {"u", "u"},     {"er", "er"}};
  return groups.at(syl->final_);
}

}  // namespace mudit::data::synth::vocal
