#pragma once

// Rhyme classes of Mandarin lyrics after 中华新韵 (the 18 rhymes of the 2005 New Chinese Rhymes),
// line-end rhyme marking per section, and the MuChin `str_rhyme` layout.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mudit/text/g2p.h"

namespace mudit::text {

/// The 18 rhymes of 中华新韵, in their traditional order; kNone for a line that ends in no Han
/// character (or one without a reading).
enum class RhymeClass : int {
  kNone = 0,
  kMa,    // 一麻 a ia ua
  kBo,    // 二波 o uo
  kGe,    // 三歌 e
  kJie,   // 四皆 ie ve (üe)
  kZhi,   // 五支 -i after zh ch sh r z c s (finals ir, iz)
  kEr,    // 六儿 er
  kQi,    // 七齐 i
  kWei,   // 八微 ei ui
  kKai,   // 九开 ai uai
  kGu,    // 十姑 u
  kYu,    // 十一鱼 v (ü)
  kHou,   // 十二侯 ou iu
  kHao,   // 十三豪 ao iao
  kHan,   // 十四寒 an ian uan van
  kHen,   // 十五痕 en in un vn
  kTang,  // 十六唐 ang iang uang
  kGeng,  // 十七庚 eng ing ueng
  kDong,  // 十八东 ong iong
};

/// "一麻", "二波", …, "十八东"; "" for kNone.
const char* rhyme_class_name(RhymeClass c);

/// The class of a final as split_pinyin() writes it ("ang" → kTang, "ir" → kZhi, "v" → kYu).
/// kNone for text that is not one of pinyin_finals().
RhymeClass rhyme_class_of_final(std::string_view final);

/// The class of a line's last Han character, read in the context of its line (so a polyphone
/// takes its reading in the word it ends).
RhymeClass line_end_class(std::string_view line, const G2P& g2p);

/// Which line ends of one section rhyme: a line end rhymes when its class is shared by another
/// line end of the same section (a lone class, and kNone, never rhyme).
std::vector<bool> mark_rhymes(const std::vector<RhymeClass>& line_ends);

/// The MuChin `str_rhyme` text of a `str_lyric` text: header lines as they are, every other
/// non-empty line as one 'c' per code point (spaces stay spaces) with the last 'c' replaced by
/// 'R' when the line rhymes
/// (mark_rhymes within each section; lines before the first header form a section). Empty lines
/// and the presence of a final newline are kept.
std::string str_rhyme_layout(std::string_view str_lyric, const G2P& g2p);

/// Line-level agreement of two str_rhyme texts over the lines both mark (R or not).
struct RhymeAgreement {
  int64_t lines = 0;
  int64_t both = 0;              // R in both
  int64_t neither = 0;           // R in neither
  int64_t only_ours = 0;         // R in the first only
  int64_t only_theirs = 0;       // R in the second only
  int64_t mismatched_lines = 0;  // lines whose layout (length, header) differs
  double agreement() const;
  /// Cohen's kappa: (p_o - p_e) / (1 - p_e).
  double kappa() const;
  RhymeAgreement& operator+=(const RhymeAgreement& o);
};
RhymeAgreement compare_str_rhyme(std::string_view ours, std::string_view theirs);

/// compare_str_rhyme() summed over every song folder of `dir` that has both `str_lyric` and
/// `str_rhyme` (a MuChin folder); `songs` receives their number. Throws IoError / DataError.
RhymeAgreement evaluate_muchin_rhyme(const std::string& dir, const G2P& g2p, size_t* songs);

}  // namespace mudit::text
