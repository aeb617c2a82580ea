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

}  // namespace mudit::text
