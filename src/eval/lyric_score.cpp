#include "mudit/eval/lyric_score.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "mudit/eval/sequence_matcher.h"
#include "mudit/text/lyrics.h"
#include "mudit/text/rhyme.h"

namespace mudit::eval {
namespace {

// One letter per canonical section, so section strings compare as the seed's "VVCC…" do.
char32_t section_code(text::Section s) {
  switch (s) {
    case text::Section::kIntro:
      return U'I';
    case text::Section::kVerse:
      return U'V';
    case text::Section::kPrechorus:
      return U'P';
    case text::Section::kChorus:
      return U'C';
    case text::Section::kBridge:
      return U'B';
    case text::Section::kInterlude:
      return U'N';
    case text::Section::kOutro:
      return U'O';
  }
  return U'?';
}

struct Layout {
  std::string text;  // canonical: headers and lines joined by '\n', no blank lines
  std::u32string codes;
  std::vector<std::vector<std::u32string>> lines;  // per section
};

Layout parse_layout(std::string_view layout) {
  const text::Lyrics parsed = text::parse_lyrics(layout);
  Layout out;
  out.text = text::to_canonical(parsed);
  while (!out.text.empty() && out.text.back() == '\n') out.text.pop_back();
  // Preamble lines (before any header) count towards P1 only, as in the seed.
  for (const text::LyricSection& s : parsed.sections) {
    out.codes.push_back(section_code(s.tag.section));
    auto& lines = out.lines.emplace_back();
    for (const text::LyricLine& l : s.lines) lines.push_back(utf8_to_u32(l.text));
  }
  return out;
}

double share(double num, double den) {
  return den > 0 ? num / den : 0.0;
}

}  // namespace

std::map<std::string, double> LyricScore::to_map() const {
  return {{"p1", p1},
          {"p2_1", p2_1},
          {"p2_2", p2_2},
          {"p3", p3},
          {"p4", p4},
          {"extra", extra},
          {"total", total},
          {"structure_accuracy", structure_accuracy},
          {"template_lines", static_cast<double>(template_lines)},
          {"lyric_lines", static_cast<double>(lyric_lines)},
          {"template_chars", static_cast<double>(template_chars)},
          {"lyric_chars", static_cast<double>(lyric_chars)},
          {"template_rhymes", static_cast<double>(template_rhymes)},
          {"lyric_rhymes", static_cast<double>(lyric_rhymes)}};
}

std::string lyric_template(std::string_view lyrics, const text::G2P& g2p) {
  return text::str_rhyme_layout(text::to_canonical(text::parse_lyrics(lyrics)), g2p);
}

LyricScore score_lyric_layout(std::string_view lyric_layout, std::string_view template_layout) {
  const Layout t = parse_layout(template_layout);
  const Layout l = parse_layout(lyric_layout);
  LyricScore s;
  auto count = [](const Layout& x, int64_t& lines, int64_t& chars, int64_t& rhymes) {
    for (const auto& sec : x.lines) {
      lines += static_cast<int64_t>(sec.size());
      for (const auto& line : sec) {
        chars +=
            std::count(line.begin(), line.end(), U'c') + std::count(line.begin(), line.end(), U'R');
        rhymes += std::count(line.begin(), line.end(), U'R');
      }
    }
  };
  count(t, s.template_lines, s.template_chars, s.template_rhymes);
  count(l, s.lyric_lines, s.lyric_chars, s.lyric_rhymes);

  const double whole = SequenceMatcher::of_utf8(t.text, l.text).ratio();
  const SequenceMatcher sections(t.codes, l.codes);
  const double section_ratio = sections.ratio();

  // Pair the sections of matching blocks, then their lines in order.
  int64_t paired_lines = 0, matched_section_lines = 0, matched_sections = 0;
  int64_t rhymes_t = 0, rhymes_l = 0, both_rhyme = 0;
  double length_match = 1.0;
  for (const MatchingBlock& m : sections.matching_blocks()) {
    for (int64_t k = 0; k < m.size; ++k, ++matched_sections) {
      const auto& tl = t.lines[m.a + k];
      const auto& ll = l.lines[m.b + k];
      const size_t n = std::min(tl.size(), ll.size());
      for (size_t x = 0; x < n; ++x) {
        const auto rt = std::count(tl[x].begin(), tl[x].end(), U'R');
        const auto rl = std::count(ll[x].begin(), ll[x].end(), U'R');
        const auto cl = std::count(ll[x].begin(), ll[x].end(), U'c') +
                        std::count(ll[x].begin(), ll[x].end(), U' ') + rl;
        rhymes_t += rt;
        rhymes_l += rl;
        both_rhyme += rt > 0 && rl > 0;
        const auto lt = static_cast<int64_t>(tl[x].size());
        length_match *= share(2.0 * static_cast<double>(std::min<int64_t>(lt, cl)),
                              static_cast<double>(lt + ll[x].size()));
      }
      paired_lines += static_cast<int64_t>(n);
      matched_section_lines += static_cast<int64_t>(tl.size() + ll.size());
    }
  }
  const double structure = section_ratio * share(2.0 * static_cast<double>(paired_lines),
                                                 static_cast<double>(matched_section_lines));
  // No rhyme on either side agrees fully (the seed scored it 0).
  const double rhyme_agreement = rhymes_t + rhymes_l == 0
                                     ? 1.0
                                     : 2.0 * static_cast<double>(std::min(rhymes_t, rhymes_l)) /
                                           static_cast<double>(rhymes_t + rhymes_l);
  s.p1 = 10.0 * whole;
  s.p2_1 = 50.0 * 0.65 * section_ratio;
  s.p2_2 = 50.0 * 0.35 * structure;
  s.p3 = 20.0 * length_match * structure;
  s.p4 = 20.0 * rhyme_agreement * structure;
  const double r = share(static_cast<double>(rhymes_l), static_cast<double>(paired_lines));
  double bonus = 0.0;
  if (r >= 0.6 && r <= 0.8) {
    bonus = 1.0;
  } else if (both_rhyme == rhymes_t && rhymes_t == rhymes_l && both_rhyme > 0) {
    bonus = 0.7;
  } else if (std::abs(r - 0.7) <= 0.3) {
    bonus = 0.4 * (1.0 - std::abs(r - 0.7));
  }
  s.extra = 10.0 * structure * bonus;
  s.total = s.p1 + s.p2_1 + s.p2_2 + s.p3 + s.p4 + s.extra;
  s.structure_accuracy =
      share(static_cast<double>(matched_sections), static_cast<double>(t.codes.size()));
  return s;
}

LyricScore score_lyrics(std::string_view lyrics, std::string_view template_layout,
                        const text::G2P& g2p) {
  return score_lyric_layout(lyric_template(lyrics, g2p), template_layout);
}

}  // namespace mudit::eval
