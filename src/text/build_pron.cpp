// Build-time tool: turns the Debian pronunciation data into mudit's compact lexicon files.
//
//   mudit_build_pron OUT_DIR UNIHAN_READINGS.bz2 TERRA_PINYIN.dict.yaml JIEBA_DICT.txt
//                    CMUDICT.out CMU_LTS_RULES.scm "SOURCE VERSIONS"
//
// Writes OUT_DIR/{zh_chars.tsv, zh_words.tsv, en_words.tsv, en_lts.txt}; each starts with a
// "# mudit pron v1: ..." line naming the sources. Readings are pinyin with a tone digit (1-5) and
// "v" for ü. No torch; links OpenCC (terra_pinyin is traditional Chinese) and libbz2 (Unihan).
#include <bzlib.h>
#include <opencc/opencc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mudit/core/utf8.h"

namespace {

[[noreturn]] void die(const std::string& message) {
  throw std::runtime_error(message);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_bz2(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) die("cannot read " + path);
  int err = BZ_OK;
  BZFILE* bz = BZ2_bzReadOpen(&err, f, 0, 0, nullptr, 0);
  std::string out;
  char buf[1 << 16];
  while (err == BZ_OK) {
    const int n = BZ2_bzRead(&err, bz, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  BZ2_bzReadClose(&err, bz);
  std::fclose(f);
  if (out.empty()) die("cannot decompress " + path);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines = split(text, '\n');
  for (auto& l : lines) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
  }
  return lines;
}

// Tone-marked pinyin ("lǜ", "zhǎng") → tone-digit pinyin ("lv4", "zhang3").
std::string tone_marks_to_digit(const std::string& marked) {
  static const std::vector<std::pair<std::string, std::pair<char, int>>> marks = {
      {"ā", {'a', 1}}, {"á", {'a', 2}}, {"ǎ", {'a', 3}}, {"à", {'a', 4}}, {"ē", {'e', 1}},
      {"é", {'e', 2}}, {"ě", {'e', 3}}, {"è", {'e', 4}}, {"ī", {'i', 1}}, {"í", {'i', 2}},
      {"ǐ", {'i', 3}}, {"ì", {'i', 4}}, {"ō", {'o', 1}}, {"ó", {'o', 2}}, {"ǒ", {'o', 3}},
      {"ò", {'o', 4}}, {"ū", {'u', 1}}, {"ú", {'u', 2}}, {"ǔ", {'u', 3}}, {"ù", {'u', 4}},
      {"ǖ", {'v', 1}}, {"ǘ", {'v', 2}}, {"ǚ", {'v', 3}}, {"ǜ", {'v', 4}}, {"ü", {'v', 0}},
      {"ń", {'n', 2}}, {"ň", {'n', 3}}, {"ǹ", {'n', 4}}, {"ḿ", {'m', 2}}, {"ê", {'e', 0}}};
  std::string out;
  int tone = 5;
  for (size_t i = 0; i < marked.size();) {
    bool matched = false;
    for (const auto& [m, rep] : marks) {
      if (marked.compare(i, m.size(), m) == 0) {
        out += rep.first;
        if (rep.second) tone = rep.second;
        i += m.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    const unsigned char c = static_cast<unsigned char>(marked[i]);
    if (c >= 0x80) {
      ++i;  // a combining mark (e.g. ê̄): drop it
      continue;
    }
    if (c >= 'a' && c <= 'z') out += static_cast<char>(c);
    ++i;
  }
  if (out.empty()) return out;
  return out + std::to_string(tone);
}

uint32_t parse_codepoint(const std::string& field) {  // "U+4E50"
  return static_cast<uint32_t>(std::stoul(field.substr(2), nullptr, 16));
}

struct Converter {
  opencc_t handle;
  Converter() : handle(opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP)) {
    if (handle == reinterpret_cast<opencc_t>(-1)) die("cannot load OpenCC t2s data");
  }
  ~Converter() { opencc_close(handle); }
  std::string operator()(const std::string& text) const {
    char* out = opencc_convert_utf8(handle, text.data(), text.size());
    if (!out) die("OpenCC conversion failed");
    std::string s(out);
    opencc_convert_utf8_free(out);
    return s;
  }
};

size_t count_code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end()) {
    list.push_back(item);
  }
}

// Character readings, most frequent first: Unihan kHanyuPinlu (by count), kMandarin, terra_pinyin
// single characters (by weight), kHanyuPinyin.
void build_chars(const std::string& unihan, const std::string& terra_path, const Converter& t2s,
                 const std::string& header, const std::string& out_path,
                 std::map<std::string, std::vector<std::string>>& chars) {
  std::map<std::string, std::vector<std::string>> pinlu, mandarin, hanyu, terra;
  for (const std::string& line : lines_of(unihan)) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    if (f.size() < 3) continue;
    std::string ch;
    mudit::utf8::append(ch, parse_codepoint(f[0]));
    if (f[1] == "kHanyuPinlu") {  // "lè(283) yuè(54)"
      std::vector<std::pair<long, std::string>> counted;
      for (const auto& item : split(f[2], ' ')) {
        const size_t open = item.find('(');
        if (open == std::string::npos) continue;
        counted.emplace_back(-std::stol(item.substr(open + 1)),
                             tone_marks_to_digit(item.substr(0, open)));
      }
      std::stable_sort(counted.begin(), counted.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [n, r] : counted) add_unique(pinlu[ch], r);
    } else if (f[1] == "kMandarin") {
      for (const auto& item : split(f[2], ' ')) add_unique(mandarin[ch], tone_marks_to_digit(item));
    } else if (f[1] == "kHanyuPinyin") {  // "10048.060:liǎo,le,liào 10049.010:..."
      for (const auto& group : split(f[2], ' ')) {
        const size_t colon = group.find(':');
        if (colon == std::string::npos) continue;
        for (const auto& item : split(group.substr(colon + 1), ','))
          add_unique(hanyu[ch], tone_marks_to_digit(item));
      }
    }
  }
  std::map<std::string, std::vector<std::pair<double, std::string>>> weighted;
  bool body = false;
  for (const std::string& line : lines_of(read_text(terra_path))) {
    if (!body) {
      body = line == "...";
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    if (f.size() < 2 || count_code_points(f[0]) != 1 || f[1].find(' ') != std::string::npos)
      continue;
    double w = 1.0;
    if (f.size() >= 3 && !f[2].empty()) w = std::atof(f[2].c_str());
    weighted[t2s(f[0])].emplace_back(-w, f[1]);
    if (t2s(f[0]) != f[0]) weighted[f[0]].emplace_back(-w, f[1]);
  }
  for (auto& [ch, list] : weighted) {
    std::stable_sort(list.begin(), list.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [w, r] : list) add_unique(terra[ch], r);
  }
  for (auto* source : {&pinlu, &mandarin, &terra, &hanyu}) {
    for (const auto& [ch, list] : *source) {
      for (const auto& r : list) add_unique(chars[ch], r);
    }
  }
  std::ofstream out(out_path, std::ios::binary);
  out << header << "\n";
  for (const auto& [ch, list] : chars) {
    out << ch << '\t';
    for (size_t i = 0; i < list.size(); ++i) out << (i ? " " : "") << list[i];
    out << '\n';
  }
  if (!out) die("cannot write " + out_path);
}

// Words: jieba's frequencies for segmentation, terra_pinyin's readings (converted to simplified)
// where it has the word; terra words jieba lacks join with frequency 1.
void build_words(const std::string& jieba_path, const std::string& terra_path, const Converter& t2s,
                 const std::string& header, const std::string& out_path) {
  std::unordered_map<std::string, std::pair<double, std::string>> readings;  // weight, reading
  bool body = false;
  for (const std::string& line : lines_of(read_text(terra_path))) {
    if (!body) {
      body = line == "...";
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    if (f.size() < 2 || count_code_points(f[0]) < 2) continue;
    double w = 100.0;  // an unweighted entry is the word's only reading
    if (f.size() >= 3 && !f[2].empty()) w = std::atof(f[2].c_str());
    const std::string word = t2s(f[0]);
    // one syllable per character, or the entry is unusable
    if (static_cast<size_t>(std::count(f[1].begin(), f[1].end(), ' ') + 1) !=
        count_code_points(word))
      continue;
    auto it = readings.find(word);
    if (it == readings.end() || w > it->second.first) readings[word] = {w, f[1]};
  }
  std::ofstream out(out_path, std::ios::binary);
  out << header << "\n";
  std::unordered_set<std::string> written;
  for (const std::string& line : lines_of(read_text(jieba_path))) {
    const auto f = split(line, ' ');
    if (f.size() < 2 || f[0].empty()) continue;
    if (!written.insert(f[0]).second) continue;
    const auto it = readings.find(f[0]);
    out << f[0] << '\t' << f[1] << '\t' << (it == readings.end() ? "" : it->second.second) << '\n';
  }
  std::vector<std::string> extra;
  for (const auto& [word, r] : readings) {
    if (!written.count(word)) extra.push_back(word);
  }
  std::sort(extra.begin(), extra.end());
  for (const auto& word : extra) out << word << "\t1\t" << readings[word].second << '\n';
  if (!out) die("cannot write " + out_path);
}

// Festival's cmudict lines: ("hello" nil (((hh ax) 0) ((l ow) 1))) → hello\tHH AH0 L OW1.
void build_english(const std::string& cmu_path, const std::string& header,
                   const std::string& out_path) {
  static const std::unordered_set<std::string> vowels = {"aa", "ae", "ah", "ao", "aw", "ax",
                                                         "ay", "eh", "er", "ey", "ih", "iy",
                                                         "ow", "oy", "uh", "uw"};
  std::ofstream out(out_path, std::ios::binary);
  out << header << "\n";
  std::unordered_set<std::string> seen;
  for (const std::string& line : lines_of(read_text(cmu_path))) {
    if (line.size() < 4 || line[0] != '(' || line[1] != '"') continue;
    const size_t q = line.find('"', 2);
    if (q == std::string::npos) continue;
    const std::string word = line.substr(2, q - 2);
    if (!seen.insert(word).second) continue;  // the first entry (of several POS) wins
    const size_t body = line.find("(((", q);
    if (body == std::string::npos) continue;
    // Syllables: "((ph ph ...) stress)".
    std::string phones;
    size_t pos = body + 1;
    while ((pos = line.find("((", pos)) != std::string::npos) {
      const size_t close = line.find(')', pos);
      const std::string syl = line.substr(pos + 2, close - pos - 2);
      const char stress = line[close + 2];
      for (std::string ph : split(syl, ' ')) {
        if (ph.empty()) continue;
        const bool vowel = vowels.count(ph) > 0;
        const bool schwa = ph == "ax";  // ARPAbet writes the schwa as unstressed AH
        if (schwa) ph = "ah";
        for (char& c : ph) c = static_cast<char>(c - 'a' + 'A');
        if (vowel) ph += schwa ? '0' : stress;
        phones += (phones.empty() ? "" : " ") + ph;
      }
      pos = close + 1;
    }
    out << word << '\t' << phones << '\n';
  }
  if (!out) die("cannot write " + out_path);
}

// Festival's letter-to-sound CART trees, flattened in prefix order, one node a line:
// "L letter", then per node "? feature value" (yes subtree, then no subtree) or "= phone".
struct SexpReader {
  const std::string& s;
  size_t i = 0;
  void skip() {
    while (i < s.size()) {
      if (s[i] == ';') {
        while (i < s.size() && s[i] != '\n') ++i;
      } else if (isspace(static_cast<unsigned char>(s[i]))) {
        ++i;
      } else {
        break;
      }
    }
  }
  bool peek(char c) {
    skip();
    return i < s.size() && s[i] == c;
  }
  void expect(char c) {
    if (!peek(c)) die(std::string("LTS rules: expected '") + c + "' at byte " + std::to_string(i));
    ++i;
  }
  std::string atom() {
    skip();
    const size_t start = i;
    while (i < s.size() && !isspace(static_cast<unsigned char>(s[i])) && s[i] != '(' && s[i] != ')')
      ++i;
    return s.substr(start, i - start);
  }
  // A node: ((feat is value) YES NO) or (((ph p) ... ph)).
  void node(std::ostream& out) {
    expect('(');
    expect('(');
    if (peek('(')) {  // leaf: distribution then the chosen phone
      while (peek('(')) {
        ++i;
        while (!peek(')')) atom();
        ++i;
      }
      out << "= " << atom() << '\n';
      expect(')');
      expect(')');
      return;
    }
    const std::string feature = atom();
    const std::string is = atom();
    const std::string value = atom();
    expect(')');
    if (is != "is") die("LTS rules: unsupported operator " + is);
    out << "? " << feature << ' ' << value << '\n';
    node(out);
    node(out);
    expect(')');
  }
};

void build_lts(const std::string& lts_path, const std::string& header,
               const std::string& out_path) {
  const std::string text = read_text(lts_path);
  const size_t start = text.find("'(");
  if (start == std::string::npos) die("LTS rules: no rule list in " + lts_path);
  SexpReader r{text, start + 2};
  std::ofstream out(out_path, std::ios::binary);
  out << header << "\n";
  while (r.peek('(')) {
    ++r.i;
    out << "L " << r.atom() << '\n';
    r.node(out);
    r.expect(')');
  }
  if (!out) die("cannot write " + out_path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::cerr << "usage: mudit_build_pron OUT_DIR UNIHAN.bz2 TERRA.yaml JIEBA.txt CMUDICT.out "
                 "CMU_LTS.scm VERSIONS\n";
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const std::string versions = argv[7];
    const Converter t2s;
    std::map<std::string, std::vector<std::string>> chars;
    build_chars(read_bz2(argv[2]), argv[3], t2s,
                "# mudit pron v1: zh char readings from " + std::string(argv[2]) +
                    " (kHanyuPinlu, " + "kMandarin, kHanyuPinyin) and " + argv[3] + "; " + versions,
                dir + "/zh_chars.tsv", chars);
    build_words(argv[4], argv[3], t2s,
                "# mudit pron v1: zh words (word, frequency, reading) from " +
                    std::string(argv[4]) + " and " + argv[3] + " (OpenCC t2s); " + versions,
                dir + "/zh_words.tsv");
    build_english(
        argv[5],
        "# mudit pron v1: en words (ARPAbet) from " + std::string(argv[5]) + "; " + versions,
        dir + "/en_words.tsv");
    build_lts(
        argv[6],
        "# mudit pron v1: en letter-to-sound trees from " + std::string(argv[6]) + "; " + versions,
        dir + "/en_lts.txt");
  } catch (const std::exception& e) {
    std::cerr << "mudit_build_pron: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
