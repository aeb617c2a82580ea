#pragma once

// Text normalisation for lyrics and descriptions (part of mudit::mudit; uses OpenCC).

#include <string>
#include <string_view>

namespace mudit::text {

/// Traditional → simplified Chinese with OpenCC's t2s configuration (phrase-aware: 頭髮 → 头发).
/// Other text passes through. Thread-safe; the converter loads once. Throws IoError when OpenCC's
/// data cannot be loaded.
std::string to_simplified(std::string_view text);

/// Lower-cases ASCII letters (CJK has no case).
std::string ascii_lower(std::string_view text);

/// Number of Unicode code points in UTF-8 text.
size_t count_code_points(std::string_view text);

/// Spells out the numbers of a line (runs of ASCII digits, with an optional decimal part and
/// "%"), in the language of their neighbourhood: the nearest letter before or after the number
/// decides (a Han character → Chinese, a Latin letter → English); with neither, a line holding
/// any Han character reads Chinese, else English.
///   Chinese: "15" → 十五, "100" → 一百, "105" → 一百零五, "2000" → 两千, "3.5" → 三点五,
///            "10%" → 百分之十; a 2-4 digit number before 年, and a number with a leading zero or
///            more than 12 digits, digit by digit: "2024年" → 二零二四年, "007" → 零零七.
///   English: "15" → "fifteen", "3.5" → "three point five", "10%" → "ten percent", hyphenated
///            tens ("twenty-one"); words are separated from neighbouring letters by spaces.
std::string digits_to_words(std::string_view line);

/// The normalisation lyrics get before G2P: widths folded, traditional → simplified, numbers
/// spelled out (digits_to_words), punctuation and symbols turned into spaces (apostrophes inside
/// Latin words kept), spaces collapsed and trimmed. Letter case is kept.
std::string normalize_lyric_line(std::string_view line);

}  // namespace mudit::text
