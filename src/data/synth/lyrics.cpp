// write_lyrics: rhyming lyric lines assembled from the built-in word lists, one syllable per
// melody note.
//
// A line is one of a few patterns over word roles (wordlist.h), filled by a randomised search
// so that the syllable counts add up exactly to the phrase's note count:
//   noun ending   [place] subject [adverb] verb [determiner] [modifier] NOUN
//   verb ending   [place] subject [adverb] END-VERB
//   image         [place] [determiner] [modifier] NOUN
// Long phrases become two clauses (the second one rhymes); a phrase no pattern can fill
// exactly is padded at the front with "啦" / "la".
//
// Rhyme rule: every line of a section ends in the section's rhyme group (AAAA); each section
// draws its own group, and every chorus after the first repeats the first chorus's text line
// by line where the note counts agree (and rhymes on its group where they do not).
// The language is English for a share config.english_fraction of songs (decided from the seed),
// else Chinese; the theme (love, night, road, home, rain, spring, dreams) is drawn per song and
// favours words tagged with it.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/synth/pinyin.h"
#include "data/synth/vocal_rng.h"
#include "data/synth/wordlist.h"
#include "mudit/core/error.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace vocal {
namespace {

/// A word ready for assembly: its syllables as written and as sounded.
struct Entry {
  std::string text;
  std::vector<std::string> syllables;  // "月" or "to"
  std::vector<std::string> sounds;     // "yue4" or the hyphenated word "to-night"
  Role role;
  uint8_t themes = 0;
  std::string rhyme;  // of the last syllable
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

struct Lexicon {
  std::string lang;
  std::vector<Entry> entries;
  std::string filler_text;   // pads a line that no pattern fills
  std::string filler_sound;  // its sound
};

const Lexicon& zh_lexicon() {
  static const Lexicon lex = [] {
    Lexicon l;
    l.lang = "zh";
    l.filler_text = "啦";
    l.filler_sound = "la1";
    for (const auto& w : zh_words()) {
      Entry e;
      e.text = w.text;
      e.syllables = utf8_chars(w.text);
      e.sounds = split(w.pinyin, ' ');
      MUDIT_CHECK(e.syllables.size() == e.sounds.size(), DataError, "word list: '", w.text,
                  "' has ", e.syllables.size(), " characters but pinyin '", w.pinyin, "'");
      e.role = w.role;
      e.themes = w.themes;
      e.rhyme = rhyme_group(e.sounds.back());
      l.entries.push_back(std::move(e));
    }
    return l;
  }();
  return lex;
}

const Lexicon& en_lexicon() {
  static const Lexicon lex = [] {
    Lexicon l;
    l.lang = "en";
    l.filler_text = "la";
    l.filler_sound = "la";
    for (const auto& w : en_words()) {
      Entry e;
      e.text = w.text;
      for (const auto& word : split(w.syllables, ' ')) {
        for (const auto& syl : split(word, '-')) {
          e.syllables.push_back(syl);
          e.sounds.push_back(word);
        }
      }
      e.role = w.role;
      e.themes = w.themes;
      e.rhyme = w.rhyme;
      l.entries.push_back(std::move(e));
    }
    return l;
  }();
  return lex;
}

struct Slot {
  Role role;
  bool optional;
};
using Pattern = std::vector<Slot>;

std::vector<Pattern> patterns(const std::string& lang, bool noun_ending) {
  const Slot place{Role::kPlace, true}, subject{Role::kSubject, false}, adverb{Role::kAdverb, true},
      verb{Role::kVerb, false}, modifier{Role::kModifier, true};
  if (lang == "en") {
    const Slot det{Role::kDeterminer, false}, det_opt{Role::kDeterminer, true};
    if (noun_ending)
      return {{place, subject, adverb, verb, det, modifier}, {place, det_opt, modifier}};
    return {{place, subject, adverb}};
  }
  if (noun_ending) return {{place, subject, adverb, verb, modifier}, {place, modifier}};
  return {{place, subject, adverb}};
}

class LineWriter {
 public:
  LineWriter(const Lexicon& lex, uint8_t theme, VocalRng& rng)
      : lex_(lex), theme_(theme), rng_(rng) {
    for (size_t i = 0; i < lex.entries.size(); ++i) {
      const auto& e = lex.entries[i];
      if (e.themes == 0 || (e.themes & theme)) by_role_[e.role].push_back(i);
    }
    for (size_t i = 0; i < lex.entries.size(); ++i) {
      const auto& e = lex.entries[i];
      if (by_role_[e.role].size() < 3) by_role_[e.role].push_back(i);  // a thin theme
    }
  }

  /// Rhyme groups with at least four endings.
  std::vector<std::string> rhyme_groups() const {
    std::map<std::string, int> count;
    for (size_t i : endings_for("")) count[lex_.entries[i].rhyme]++;
    std::vector<std::string> out;
    for (const auto& [group, n] : count) {
      if (n >= 4 && !group.empty()) out.push_back(group);
    }
    return out;
  }

  /// Entries (indices) for a line of `n` syllables ending in `rhyme` ("" = any ending),
  /// avoiding the endings in `used_endings` (the song's so far) while others fit.
  std::vector<size_t> line(int n, const std::string& rhyme, std::set<size_t>& used_endings) {
    if (n <= 0) return {};
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto out = clause(n, rhyme, used_endings, attempt == 1); !out.empty()) return out;
    }
    // Two clauses: a free one, then the rhyming one.
    for (int n2 = std::min(n - 1, 7); n2 >= 2; --n2) {
      std::set<size_t> scratch;
      auto first = clause(n - n2, "", scratch, true);
      if (first.empty()) continue;
      auto second = clause(n2, rhyme, used_endings, true);
      if (second.empty()) continue;
      first.insert(first.end(), second.begin(), second.end());
      return first;
    }
    // Pad the front: the shortest rhyming ending that fits, filler before it.
    std::vector<size_t> endings = endings_for(rhyme);
    std::sort(endings.begin(), endings.end(), [&](size_t a, size_t b) {
      return lex_.entries[a].syllables.size() < lex_.entries[b].syllables.size();
    });
    for (size_t e : endings) {
      const int len = static_cast<int>(lex_.entries[e].syllables.size());
      if (len <= n) {
        std::vector<size_t> out(static_cast<size_t>(n - len), kFiller);
        out.push_back(e);
        return out;
      }
    }
    return std::vector<size_t>(static_cast<size_t>(n), kFiller);
  }

  static constexpr size_t kFiller = static_cast<size_t>(-1);

 private:
  const std::vector<size_t>& role_list(Role role) const {
    static const std::vector<size_t> none;
    auto it = by_role_.find(role);
    return it == by_role_.end() ? none : it->second;
  }

  // Every ending of a rhyme group ("" = any), whatever its theme: clause() puts the theme's
  // first, so a theme never leaves a group without endings.
  std::vector<size_t> endings_for(const std::string& rhyme) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < lex_.entries.size(); ++i) {
      const Entry& e = lex_.entries[i];
      if ((e.role == Role::kNoun || e.role == Role::kEndVerb) &&
          (rhyme.empty() || e.rhyme == rhyme)) {
        out.push_back(i);
      }
    }
    return out;
  }

  int length(size_t i) const { return static_cast<int>(lex_.entries[i].syllables.size()); }

  // One clause of exactly n syllables, or empty. Endings used earlier in the song are
  // avoided unless `reuse` is set.
  std::vector<size_t> clause(int n, const std::string& rhyme, std::set<size_t>& used, bool reuse) {
    std::vector<size_t> endings = endings_for(rhyme);
    rng_.shuffle(endings);
    std::stable_partition(endings.begin(), endings.end(),
                          [&](size_t i) { return lex_.entries[i].themes & theme_; });
    int tried = 0;
    for (size_t end : endings) {
      if (!reuse && used.count(end)) continue;
      const int rest = n - length(end);
      if (rest < 0) continue;
      auto pats = patterns(lex_.lang, lex_.entries[end].role == Role::kNoun);
      if (rest == 0) pats = {Pattern{}};
      rng_.shuffle(pats);
      for (const auto& pat : pats) {
        std::vector<size_t> out;
        std::set<std::string> words{lex_.entries[end].text};
        if (fill(pat, 0, rest, out, words)) {
          used_words_.insert(out.begin(), out.end());
          out.push_back(end);
          used.insert(end);
          return out;
        }
      }
      if (++tried >= 12) break;
    }
    return {};
  }

  // Fills slots [k, end) of `pat` with exactly `rest` syllables (depth-first, random order).
  bool fill(const Pattern& pat, size_t k, int rest, std::vector<size_t>& out,
            std::set<std::string>& words) {
    if (k == pat.size()) return rest == 0;
    int min_rest = 0;
    for (size_t j = k + 1; j < pat.size(); ++j) min_rest += pat[j].optional ? 0 : 1;
    std::vector<size_t> cands = role_list(pat[k].role);
    rng_.shuffle(cands);
    // Words the song has not used yet come first, so lines vary.
    std::stable_partition(cands.begin(), cands.end(),
                          [&](size_t c) { return used_words_.count(c) == 0; });
    // An optional slot is skipped first half of the time.
    const bool skip_first = pat[k].optional && rng_.below(2) == 0;
    if (skip_first && fill(pat, k + 1, rest, out, words)) return true;
    for (size_t c : cands) {
      const int len = length(c);
      if (len > rest - min_rest || words.count(lex_.entries[c].text)) continue;
      out.push_back(c);
      words.insert(lex_.entries[c].text);
      if (fill(pat, k + 1, rest - len, out, words)) return true;
      out.pop_back();
      words.erase(lex_.entries[c].text);
    }
    if (pat[k].optional && !skip_first) return fill(pat, k + 1, rest, out, words);
    return false;
  }

  const Lexicon& lex_;
  uint8_t theme_;
  VocalRng& rng_;
  std::map<Role, std::vector<size_t>> by_role_;
  std::set<size_t> used_words_;  // words (not endings) the song has used
};

/// Makes the line's text and syllables (untimed) from entries.
LyricLine assemble(const Lexicon& lex, const std::vector<size_t>& entries) {
  LyricLine line;
  line.lang = lex.lang;
  for (size_t i : entries) {
    const bool filler = i == LineWriter::kFiller;
    if (lex.lang == "en" && !line.text.empty()) line.text += ' ';
    if (filler) {
      line.text += lex.filler_text;
      line.syllables.push_back({lex.filler_text, lex.filler_sound});
      continue;
    }
    const Entry& e = lex.entries[i];
    line.text += e.text;
    for (size_t s = 0; s < e.syllables.size(); ++s) {
      line.syllables.push_back({e.syllables[s], e.sounds[s]});
    }
  }
  if (!entries.empty()) {
    const size_t last = entries.back();
    line.rhyme = last == LineWriter::kFiller ? "" : lex.entries[last].rhyme;
  }
  return line;
}

}  // namespace
}  // namespace vocal

void write_lyrics(SongLabels& song, const SynthConfig& config, uint64_t seed) {
  using namespace vocal;
  VocalRng rng(seed, 0x4C595249);  // "LYRI"
  const bool english = rng.uniform() < config.english_fraction;
  const Lexicon& lex = english ? en_lexicon() : zh_lexicon();
  const uint8_t theme = static_cast<uint8_t>(1u << rng.below(kThemeCount));
  LineWriter writer(lex, theme, rng);
  const std::vector<std::string> groups = writer.rhyme_groups();

  song.lyrics.clear();
  std::map<int, std::string> section_rhyme;  // section index -> group
  std::set<size_t> used_endings;             // endings used in the song
  std::map<int, int> line_in_section;        // lines written so far
  std::vector<LyricLine> first_chorus;       // lines of the first chorus
  int first_chorus_section = -1;
  std::string previous_group;
  for (const Phrase& phrase : song.phrases) {
    MUDIT_CHECK(
        phrase.section_index >= 0 && phrase.section_index < static_cast<int>(song.sections.size()),
        DataError, "phrase section index ", phrase.section_index, " out of range");
    MUDIT_CHECK(phrase.note_count >= 0 && phrase.first_note >= 0 &&
                    phrase.first_note + phrase.note_count <= static_cast<int>(song.melody.size()),
                DataError, "phrase notes [", phrase.first_note, ", ",
                phrase.first_note + phrase.note_count, ") outside the melody");
    const int si = phrase.section_index;
    const text::SectionTag& tag = song.sections[static_cast<size_t>(si)].tag;
    const bool chorus = tag.section == text::Section::kChorus;
    if (chorus && first_chorus_section < 0) first_chorus_section = si;
    const int index = line_in_section[si]++;

    if (!section_rhyme.count(si)) {
      if (chorus && first_chorus_section != si && section_rhyme.count(first_chorus_section)) {
        section_rhyme[si] = section_rhyme[first_chorus_section];
      } else {
        std::vector<std::string> choices = groups;
        if (choices.size() > 1) {
          choices.erase(std::remove(choices.begin(), choices.end(), previous_group), choices.end());
        }
        section_rhyme[si] = choices.empty() ? "" : choices[rng.below(choices.size())];
      }
    }
    const std::string& group = section_rhyme[si];
    previous_group = group;

    LyricLine line;
    const bool repeat =
        chorus && si != first_chorus_section && index < static_cast<int>(first_chorus.size()) &&
        static_cast<int>(first_chorus[static_cast<size_t>(index)].syllables.size()) ==
            phrase.note_count;
    if (repeat) {
      line = first_chorus[static_cast<size_t>(index)];
    } else {
      line = assemble(lex, writer.line(phrase.note_count, group, used_endings));
    }
    if (si == first_chorus_section) first_chorus.push_back(line);
    line.section = tag;
    line.start_s = phrase.start_s;
    line.end_s = phrase.end_s;
    for (int k = 0; k < phrase.note_count; ++k) {
      const Note& note = song.melody[static_cast<size_t>(phrase.first_note + k)];
      Syllable& syl = line.syllables[static_cast<size_t>(k)];
      syl.start_s = note.start_s;
      syl.end_s = note.end_s;
      syl.pitch = note.pitch;
    }
    song.lyrics.push_back(std::move(line));
  }
}

}  // namespace mudit::data::synth
