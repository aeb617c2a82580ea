#include "mudit/text/g2p.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/utf8.h"
#include "mudit/text/normalize.h"
#include "text/pron_lexicon.h"

namespace mudit::text {

// The lexicon of one G2P and its copies, loaded on first use.
struct LexiconSlot {
  std::once_flag once;
  std::unique_ptr<Lexicon> lexicon;
};

namespace {

const std::vector<std::string>& arpabet_consonants() {
  static const std::vector<std::string> c = {"B",  "CH", "D",  "DH", "F",  "G", "HH", "JH",
                                             "K",  "L",  "M",  "N",  "NG", "P", "R",  "S",
                                             "SH", "T",  "TH", "V",  "W",  "Y", "Z",  "ZH"};
  return c;
}

const std::vector<std::string>& arpabet_vowels() {
  static const std::vector<std::string> v = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER",
                                             "EY", "IH", "IY", "OW", "OY", "UH", "UW"};
  return v;
}

// One lexicon per folder and process: every G2P of a folder shares it.
std::shared_ptr<LexiconSlot> slot_for(const std::string& dir) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<LexiconSlot>> slots;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = slots[dir];
  if (!slot) slot = std::make_shared<LexiconSlot>();
  return slot;
}

bool is_latin(uint32_t cp) {
  return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

}  // namespace

bool is_han(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F) || cp == 0x3007;
}

const std::vector<std::string>& pinyin_initials() {
  static const std::vector<std::string> initials = {"b",  "p",  "m",  "f", "d", "t", "n",
                                                    "l",  "g",  "k",  "h", "j", "q", "x",
                                                    "zh", "ch", "sh", "r", "z", "c", "s"};
  return initials;
}

const std::vector<std::string>& pinyin_finals() {
  static const std::vector<std::string> finals = {
      "a",    "o",  "e",  "ai",  "ei", "ao",  "ou", "an",   "en",   "ang", "eng", "ong",  "er",
      "i",    "ir", "iz", "u",   "v",  "ia",  "ie", "iao",  "iu",   "ian", "in",  "iang", "ing",
      "iong", "ua", "uo", "uai", "ui", "uan", "un", "uang", "ueng", "ve",  "van", "vn"};
  return finals;
}

Syllable split_pinyin(std::string_view pinyin) {
  Syllable s;
  s.pinyin = std::string(pinyin);
  std::string body(pinyin);
  if (!body.empty() && body.back() >= '0' && body.back() <= '9') {
    s.tone = body.back() - '0';
    body.pop_back();
    if (s.tone == 0) s.tone = 5;
  }
  MUDIT_CHECK(!body.empty() && s.tone >= 1 && s.tone <= 5, DataError, "not a pinyin syllable: '",
              pinyin, "'");
  for (char& c : body) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Syllabic nasals, ê and the r of erhua get the nearest regular final.
  if (body == "r" || body == "er") {
    s.final = "er";
    return s;
  }
  if (body == "n" || body == "ng" || body == "m" || body == "hm" || body == "hng") {
    if (body[0] == 'h' || body == "m") s.initial = body.substr(0, 1);
    s.final = body == "m" ? "u" : body.back() == 'g' ? "eng" : "en";
    return s;
  }
  if (body == "eh" || body == "ê") body = "ie";
  std::string rest = body;
  for (const char* ini : {"zh", "ch", "sh"}) {
    if (body.rfind(ini, 0) == 0) {
      s.initial = ini;
      break;
    }
  }
  if (s.initial.empty() && std::string("bpmfdtnlgkhjqxrzcs").find(body[0]) != std::string::npos) {
    s.initial = body.substr(0, 1);
  }
  rest = body.substr(s.initial.size());
  if (s.initial.empty() && body[0] == 'y') {
    rest = body.substr(1);
    if (!rest.empty() && rest[0] == 'u') {
      rest = "v" + rest.substr(1);
    } else if (rest.empty() || rest[0] != 'i') {
      rest = "i" + rest;
    }
  } else if (s.initial.empty() && body[0] == 'w') {
    rest = body.substr(1);
    if (rest.empty() || rest[0] != 'u') rest = "u" + rest;
  }
  if ((s.initial == "j" || s.initial == "q" || s.initial == "x") && !rest.empty() &&
      rest[0] == 'u') {
    rest = "v" + rest.substr(1);
  }
  if (rest == "i") {
    if (s.initial == "zh" || s.initial == "ch" || s.initial == "sh" || s.initial == "r") {
      rest = "ir";
    } else if (s.initial == "z" || s.initial == "c" || s.initial == "s") {
      rest = "iz";
    }
  }
  if (rest == "iou") rest = "iu";
  if (rest == "uei") rest = "ui";
  if (rest == "uen") rest = "un";
  if (rest == "io") rest = "o";      // yo
  if (rest == "uong") rest = "ong";  // wong
  if (rest == "iai") rest = "ai";    // yai
  const auto& finals = pinyin_finals();
  MUDIT_CHECK(std::find(finals.begin(), finals.end(), rest) != finals.end(), DataError,
              "not a pinyin syllable: '", pinyin, "'");
  s.final = rest;
  return s;
}

G2P::G2P(G2PConfig config)
    : config_(std::move(config)), dir_(find_pron_dir(config_.pron_dir)), slot_(slot_for(dir_)) {}

const Lexicon& G2P::lexicon() const {
  std::call_once(slot_->once, [this] {
    slot_->lexicon = with_context("loading the G2P lexicon from " + dir_,
                                  [this] { return std::make_unique<Lexicon>(dir_); });
  });
  return *slot_->lexicon;
}

std::vector<std::string> G2P::char_readings(uint32_t cp) const {
  const auto* r = lexicon().char_readings(cp);
  return r ? *r : std::vector<std::string>{};
}

std::vector<G2PWord> G2P::convert(std::string_view line) const {
  const Lexicon& lex = lexicon();
  std::vector<G2PWord> words;
  size_t pos = 0;
  while (pos < line.size()) {
    const size_t start = pos;
    const uint32_t cp = utf8::next(line, pos);
    if (is_han(cp)) {
      size_t end = pos;
      for (size_t p = pos; p < line.size();) {
        if (!is_han(utf8::next(line, p))) break;
        end = p;
      }
      for (const std::string& w : lex.segment(line.substr(start, end - start))) {
        G2PWord word;
        word.text = w;
        const std::string* reading = lex.word_reading(w);
        std::vector<std::string> syllables;
        if (reading) {
          size_t a = 0;
          while (a < reading->size()) {
            const size_t b = std::min(reading->find(' ', a), reading->size());
            syllables.push_back(reading->substr(a, b - a));
            a = b + 1;
          }
        }
        size_t i = 0;
        for (size_t p = 0; p < w.size(); ++i) {
          const uint32_t c = utf8::next(w, p);
          Syllable s;
          if (i < syllables.size()) {
            s = split_pinyin(syllables[i]);
          } else if (const auto* r = lex.char_readings(c)) {
            s = split_pinyin(r->front());
          }
          word.syllables.push_back(s);
        }
        words.push_back(std::move(word));
      }
      pos = end;
    } else if (is_latin(cp)) {
      size_t end = pos;
      for (size_t p = pos; p < line.size();) {
        const uint32_t c = utf8::next(line, p);
        if (!is_latin(c) && c != '\'') break;
        end = p;
      }
      G2PWord word;
      word.kind = G2PWord::Kind::kEnglish;
      word.text = std::string(line.substr(start, end - start));
      word.phones = arpabet(word.text, &word.in_dictionary);
      words.push_back(std::move(word));
      pos = end;
    }
  }
  return words;
}

std::vector<Syllable> G2P::pinyin(std::string_view text) const {
  std::vector<Syllable> out;
  for (const G2PWord& w : convert(text)) {
    if (w.kind == G2PWord::Kind::kChinese)
      out.insert(out.end(), w.syllables.begin(), w.syllables.end());
  }
  return out;
}

std::vector<std::string> G2P::arpabet(std::string_view word, bool* in_dictionary) const {
  std::string lower;
  for (char c : word) {
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '\'')
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const Lexicon& lex = lexicon();
  if (const auto* phones = lex.english(lower)) {
    if (in_dictionary) *in_dictionary = true;
    return *phones;
  }
  // Festival's entries have no apostrophes ("don't" is "dont").
  std::string letters;
  for (char c : lower) {
    if (c != '\'') letters += c;
  }
  if (const auto* phones = lex.english(letters)) {
    if (in_dictionary) *in_dictionary = true;
    return *phones;
  }
  if (in_dictionary) *in_dictionary = false;
  return lex.letter_to_sound(letters);
}

// --- vocabulary -----------------------------------------------------------------------------

PhonemeVocab::PhonemeVocab(bool tones) : tones_(tones) {
  tokens_ = {"<pad>", "<unk>", "<sep>"};
  for (Section s : {Section::kIntro, Section::kVerse, Section::kPrechorus, Section::kChorus,
                    Section::kBridge, Section::kInterlude, Section::kOutro}) {
    tokens_.push_back(section_token(s));
  }
  for (const auto& i : pinyin_initials()) tokens_.push_back("C." + i);
  for (const auto& f : pinyin_finals()) tokens_.push_back("C." + f);
  for (const auto& c : arpabet_consonants()) tokens_.push_back("E." + c);
  for (const auto& v : arpabet_vowels()) {
    for (const char* stress : {"0", "1", "2"}) tokens_.push_back("E." + v + stress);
  }
  if (tones) {
    for (int t = 1; t <= 5; ++t) tokens_.push_back("T." + std::to_string(t));
  }
  for (size_t i = 0; i < tokens_.size(); ++i) ids_[tokens_[i]] = static_cast<int64_t>(i);
}

const std::string& PhonemeVocab::id_to_token(int64_t id) const {
  MUDIT_CHECK(id >= 0 && id < vocab_size(), DataError, "phoneme id ", id, " is out of range [0, ",
              vocab_size(), ")");
  return tokens_[static_cast<size_t>(id)];
}

int64_t PhonemeVocab::token_to_id(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  return it == ids_.end() ? kUnk : it->second;
}

bool PhonemeVocab::contains(std::string_view token) const {
  return ids_.count(std::string(token)) > 0;
}

void PhonemeVocab::save(const std::string& path) const {
  std::string text;
  for (const auto& t : tokens_) text += t + "\n";
  write_file_atomic(path, text);
}

PhonemeVocab PhonemeVocab::load(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::string> tokens;
  size_t a = 0;
  while (a < text.size()) {
    const size_t b = std::min(text.find('\n', a), text.size());
    if (b > a) tokens.push_back(text.substr(a, b - a));
    a = b + 1;
  }
  for (bool tones : {false, true}) {
    PhonemeVocab v(tones);
    if (v.tokens_ == tokens) return v;
  }
  throw DataError(path + ": not a phoneme vocabulary of this mudit version (" +
                  std::to_string(tokens.size()) + " tokens; expected " +
                  std::to_string(PhonemeVocab(false).vocab_size()) + " or " +
                  std::to_string(PhonemeVocab(true).vocab_size()) + " in the built-in order)");
}

std::string section_token(Section section) {
  return std::string("<") + section_name(section) + ">";
}

std::vector<std::string> line_to_tokens(std::string_view line, const G2P& g2p) {
  const std::string text = g2p.config().normalize ? normalize_lyric_line(line) : std::string(line);
  std::vector<std::string> tokens;
  for (const G2PWord& w : g2p.convert(text)) {
    if (w.kind == G2PWord::Kind::kEnglish) {
      for (const auto& p : w.phones) tokens.push_back("E." + p);
      continue;
    }
    for (const Syllable& s : w.syllables) {
      if (s.final.empty()) {
        tokens.emplace_back("<unk>");
        continue;
      }
      if (!s.initial.empty()) tokens.push_back("C." + s.initial);
      tokens.push_back("C." + s.final);
      if (g2p.config().tones) tokens.push_back("T." + std::to_string(s.tone));
    }
  }
  return tokens;
}

std::vector<std::string> lyrics_to_tokens(const Lyrics& lyrics, const G2P& g2p) {
  std::vector<std::string> tokens;
  auto add_lines = [&](const std::vector<LyricLine>& lines) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) tokens.emplace_back("<sep>");
      const auto t = line_to_tokens(lines[i].text, g2p);
      tokens.insert(tokens.end(), t.begin(), t.end());
    }
  };
  add_lines(lyrics.preamble);
  for (const LyricSection& s : lyrics.sections) {
    tokens.push_back(section_token(s.tag.section));
    add_lines(s.lines);
  }
  return tokens;
}

G2PCoverage& G2PCoverage::operator+=(const G2PCoverage& o) {
  han_chars += o.han_chars;
  han_with_reading += o.han_with_reading;
  english_words += o.english_words;
  english_in_dictionary += o.english_in_dictionary;
  return *this;
}

G2PCoverage measure_coverage(std::string_view text, const G2P& g2p) {
  G2PCoverage c;
  size_t a = 0;
  while (a <= text.size()) {
    const size_t b = std::min(text.find('\n', a), text.size());
    const std::string_view raw = text.substr(a, b - a);
    if (parse_section_tag(raw)) {
      a = b + 1;
      continue;
    }
    const std::string line = g2p.config().normalize ? normalize_lyric_line(raw) : std::string(raw);
    for (const G2PWord& w : g2p.convert(line)) {
      if (w.kind == G2PWord::Kind::kEnglish) {
        ++c.english_words;
        c.english_in_dictionary += w.in_dictionary ? 1 : 0;
        continue;
      }
      for (const Syllable& s : w.syllables) {
        ++c.han_chars;
        c.han_with_reading += s.final.empty() ? 0 : 1;
      }
    }
    if (b == text.size()) break;
    a = b + 1;
  }
  return c;
}

std::vector<int64_t> lyrics_to_ids(const Lyrics& lyrics, const G2P& g2p,
                                   const PhonemeVocab& vocab) {
  std::vector<int64_t> ids;
  for (const auto& t : lyrics_to_tokens(lyrics, g2p)) ids.push_back(vocab.token_to_id(t));
  return ids;
}

}  // namespace mudit::text
