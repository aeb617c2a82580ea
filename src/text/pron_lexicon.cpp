#include "text/pron_lexicon.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/utf8.h"

namespace mudit::text {
namespace {

// The lines of a lexicon file after its "# mudit pron v1" header.
std::vector<std::string_view> body_lines(const std::string& text, const std::string& path) {
  MUDIT_CHECK(
      text.rfind("# mudit pron v1", 0) == 0, IoError, path,
      ": not a mudit pron v1 lexicon (rebuild it: cmake --build build --target mudit_pron)");
  std::vector<std::string_view> lines;
  size_t pos = text.find('\n');
  while (pos != std::string::npos && pos + 1 < text.size()) {
    const size_t end = text.find('\n', pos + 1);
    const size_t stop = end == std::string::npos ? text.size() : end;
    lines.emplace_back(text.data() + pos + 1, stop - pos - 1);
    pos = end;
  }
  return lines;
}

std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

Lexicon::Lexicon(const std::string& dir) {
  {
    const std::string path = dir + "/zh_chars.tsv";
    const std::string text = read_file(path);
    for (std::string_view line : body_lines(text, path)) {
      const size_t tab = line.find('\t');
      if (tab == std::string_view::npos) continue;
      size_t pos = 0;
      const uint32_t cp = utf8::next(line.substr(0, tab), pos);
      chars_[cp] = split_spaces(line.substr(tab + 1));
    }
  }
  {
    const std::string path = dir + "/zh_words.tsv";
    const std::string text = read_file(path);
    double total = 0.0;
    for (std::string_view line : body_lines(text, path)) {
      const size_t t1 = line.find('\t');
      const size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
      if (t2 == std::string_view::npos) continue;
      const double freq =
          std::max(1.0, std::atof(std::string(line.substr(t1 + 1, t2 - t1 - 1)).c_str()));
      Word& w = words_[std::string(line.substr(0, t1))];
      w.log_freq = freq;  // made a log below, once the total is known
      w.reading = std::string(line.substr(t2 + 1));
      total += freq;
      max_word_chars_ = std::max(max_word_chars_, code_points(line.substr(0, t1)));
    }
    log_total_ = std::log(std::max(total, 1.0));
    for (auto& [word, w] : words_) w.log_freq = std::log(w.log_freq);
  }
  {
    const std::string path = dir + "/en_words.tsv";
    const std::string text = read_file(path);
    for (std::string_view line : body_lines(text, path)) {
      const size_t tab = line.find('\t');
      if (tab == std::string_view::npos) continue;
      english_[std::string(line.substr(0, tab))] = split_spaces(line.substr(tab + 1));
    }
  }
  {
    const std::string path = dir + "/en_lts.txt";
    const std::string text = read_file(path);
    std::vector<std::string> lines;
    for (std::string_view line : body_lines(text, path)) lines.emplace_back(line);
    size_t pos = 0;
    while (pos < lines.size()) {
      if (lines[pos].empty()) {
        ++pos;
        continue;
      }
      MUDIT_CHECK(lines[pos].size() == 3 && lines[pos][0] == 'L', IoError, path, ": line ", pos + 2,
                  ": expected 'L <letter>'");
      auto& tree = lts_[lines[pos][2]];
      ++pos;
      read_lts_node(lines, pos, tree);
    }
  }
}

int Lexicon::read_lts_node(const std::vector<std::string>& lines, size_t& pos,
                           std::vector<LtsNode>& out) {
  MUDIT_CHECK(pos < lines.size(), IoError, "en_lts.txt: truncated tree");
  const std::string& line = lines[pos++];
  const int index = static_cast<int>(out.size());
  out.emplace_back();
  if (line.rfind("= ", 0) == 0) {
    out[index].leaf = true;
    out[index].value = line.substr(2);
    return index;
  }
  MUDIT_CHECK(line.rfind("? ", 0) == 0, IoError, "en_lts.txt: bad node '", line, "'");
  const auto parts = split_spaces(line.substr(2));
  MUDIT_CHECK(parts.size() == 2, IoError, "en_lts.txt: bad node '", line, "'");
  // "p.p.name" looks two letters back, "n.name" one ahead, "name" at the letter itself.
  int offset = 0;
  for (size_t i = 0; i + 1 < parts[0].size(); i += 2) {
    if (parts[0].compare(i, 2, "p.") == 0) --offset;
    if (parts[0].compare(i, 2, "n.") == 0) ++offset;
  }
  out[index].feature = offset;
  out[index].value = parts[1];
  const int yes = read_lts_node(lines, pos, out);
  const int no = read_lts_node(lines, pos, out);
  out[index].yes = yes;
  out[index].no = no;
  return index;
}

const std::vector<std::string>* Lexicon::char_readings(uint32_t cp) const {
  const auto it = chars_.find(cp);
  return it == chars_.end() || it->second.empty() ? nullptr : &it->second;
}

const std::string* Lexicon::word_reading(const std::string& word) const {
  const auto it = words_.find(word);
  return it == words_.end() || it->second.reading.empty() ? nullptr : &it->second.reading;
}

const std::vector<std::string>* Lexicon::english(const std::string& word) const {
  const auto it = english_.find(word);
  return it == english_.end() ? nullptr : &it->second;
}

std::vector<std::string> Lexicon::segment(std::string_view run) const {
  // Byte offsets of the characters, plus the end.
  std::vector<size_t> starts;
  for (size_t pos = 0; pos < run.size();) {
    starts.push_back(pos);
    utf8::next(run, pos);
  }
  const size_t n = starts.size();
  starts.push_back(run.size());
  // best[i]: log-probability of the best segmentation of characters i..n-1; next[i]: its first
  // word ends before next[i].
  std::vector<double> best(n + 1, 0.0);
  std::vector<size_t> next(n + 1, n);
  for (size_t i = n; i-- > 0;) {
    best[i] = -std::numeric_limits<double>::infinity();
    for (size_t j = i + 1; j <= n && j - i <= max_word_chars_; ++j) {
      const auto it = words_.find(std::string(run.substr(starts[i], starts[j] - starts[i])));
      double score;
      if (it != words_.end()) {
        score = it->second.log_freq;
      } else if (j == i + 1) {
        score = 0.0;  // log(1): an unknown single character
      } else {
        continue;
      }
      score += best[j] - log_total_;
      if (score > best[i]) {
        best[i] = score;
        next[i] = j;
      }
    }
  }
  std::vector<std::string> words;
  for (size_t i = 0; i < n; i = next[i]) {
    words.emplace_back(run.substr(starts[i], starts[next[i]] - starts[i]));
  }
  return words;
}

std::vector<std::string> Lexicon::letter_to_sound(const std::string& word) const {
  std::vector<std::string> phones;
  const int n = static_cast<int>(word.size());
  auto letter_at = [&](int j) -> std::string {
    if (j >= 0 && j < n) return std::string(1, word[static_cast<size_t>(j)]);
    return j == -1 || j == n ? "#" : "0";  // word boundary, then padding
  };
  for (int i = 0; i < n; ++i) {
    const auto tree = lts_.find(word[static_cast<size_t>(i)]);
    if (tree == lts_.end() || tree->second.empty()) continue;
    const auto& nodes = tree->second;
    int k = 0;
    while (!nodes[static_cast<size_t>(k)].leaf) {
      const auto& node = nodes[static_cast<size_t>(k)];
      k = letter_at(i + node.feature) == node.value ? node.yes : node.no;
    }
    const std::string& out = nodes[static_cast<size_t>(k)].value;
    if (out == "_epsilon_") continue;
    // "k-s" is two phones; Festival's schwa "ax" is ARPAbet's unstressed AH.
    size_t start = 0;
    while (start <= out.size()) {
      const size_t dash = out.find('-', start);
      std::string ph =
          out.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
      if (ph.rfind("ax", 0) == 0) ph = "ah0";
      for (char& c : ph) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!ph.empty()) phones.push_back(ph);
      if (dash == std::string::npos) break;
      start = dash + 1;
    }
  }
  return phones;
}

}  // namespace mudit::text
