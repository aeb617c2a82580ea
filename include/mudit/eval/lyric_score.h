#pragma once

// The seed's objective lyric score, done on section-coded templates. A template is a MuChin
// `str_rhyme` text: section headers ("(verse1)") and one line per lyric line, a 'c' per
// character and 'R' on a rhyming line end. Lyrics are scored against a template after being
// turned into one (text::str_rhyme_layout: rhymes marked per section with the 中华新韵 classes).
//
// Phases (points): P1 (10) the SequenceMatcher ratio of the two whole layouts; P2.1 (32.5) the
// ratio of the section-code strings ("VVCC…"); P2.2 (17.5) that ratio times the share of lines
// in the matched sections that pair up, 2 Σ min(n_t, n_l) / Σ (n_t + n_l); P3 (20) the product
// over paired lines of 2 min(len_t, len_l) / (len_t + len_l), times the P2.2 factor; P4 (20)
// the agreement of the rhyme counts, 2 min(R_t, R_l) / (R_t + R_l), times the P2.2 factor; and
// an extra rhyme bonus (10 × the P2.2 factor × 1 when 60–80 % of the paired lyric lines rhyme,
// 0.7 when every rhyme falls where the template has one, else 0.4 (1 − |r − 0.7|) within 0.3 of
// 70 %). Differences from the seed's script, all on purpose: blank lines are layout, not lines;
// a ratio with an empty denominator is 0 (the seed added 0.01 to one of them, so a lyric scored
// against its own template fell short of the maximum), except that no rhyme on either side is
// full rhyme agreement (the seed gave P4 nothing); both sides' section codes come from the
// canonical section (text::parse_section_tag), so "[Chorus]" and "(chorus1)" agree.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "mudit/text/g2p.h"

namespace mudit::eval {

struct LyricScore {
  double p1 = 0, p2_1 = 0, p2_2 = 0, p3 = 0, p4 = 0, extra = 0;
  double total = 0;  ///< the sum; at most 110
  /// Share of the template's sections matched, in order, by a lyric section of the same kind.
  double structure_accuracy = 0;
  int64_t template_lines = 0, lyric_lines = 0;
  int64_t template_chars = 0, lyric_chars = 0;  ///< 'c' and 'R' (characters of the lines)
  int64_t template_rhymes = 0, lyric_rhymes = 0;
  std::map<std::string, double> to_map() const;
};

/// The template of lyrics text (tags in any form parse_section_tag knows, LRC timestamps
/// ignored): canonical headers, then each line's layout with rhymes marked.
std::string lyric_template(std::string_view lyrics, const text::G2P& g2p);

/// Scores a lyric layout (lyric_template of the lyrics) against a template (a MuChin
/// `str_rhyme`, or lyric_template of the reference lyrics). Scoring a template against itself
/// gives every phase its full points and the bonus its rhyme density earns.
LyricScore score_lyric_layout(std::string_view lyric_layout, std::string_view template_layout);

/// score_lyric_layout(lyric_template(lyrics), template).
LyricScore score_lyrics(std::string_view lyrics, std::string_view template_layout,
                        const text::G2P& g2p);

}  // namespace mudit::eval
