#pragma once

// Minimal UTF-8 helpers shared by the safetensors header reader and the text layer.

#include <cstdint>
#include <string>
#include <string_view>

#include "mudit/core/error.h"

namespace mudit::utf8 {

/// Appends the UTF-8 encoding of code point `cp` to `out`.
inline void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Decodes the code point at `pos` and advances `pos` past it; an invalid or truncated sequence
/// decodes as its first byte alone.
inline uint32_t next(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 1;
  if (pos + static_cast<size_t>(len) > s.size()) len = 1;
  uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + static_cast<size_t>(i)]);
    if ((b & 0xC0) != 0x80) {
      len = 1;
      cp = b0;
      break;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos += static_cast<size_t>(len);
  return cp;
}

/// The offset of the first byte that is not well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF), or std::string_view::npos when all of `s` is.
inline size_t invalid_at(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    const size_t len = b0 >= 0xC2 && b0 <= 0xDF   ? 2
                       : b0 >= 0xE0 && b0 <= 0xEF ? 3
                       : b0 >= 0xF0 && b0 <= 0xF4 ? 4
                                                  : 0;
    if (len == 0 || i + len > s.size()) return i;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : b0 == 0xF4 ? 0x8F : 0xBF;
    if (b1 < lo || b1 > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// "line L, byte B" of the first ill-formed byte of `s`, or "" when all of it is UTF-8.
inline std::string invalid_position(std::string_view s) {
  const size_t at = invalid_at(s);
  if (at == std::string_view::npos) return "";
  size_t line = 1;
  for (size_t i = 0; i < at; ++i) line += s[i] == '\n';
  return "line " + std::to_string(line) + ", byte " + std::to_string(at);
}

/// Throws DataError "`where`: not UTF-8 text (line L, byte B)" unless `s` is well-formed UTF-8.
inline void require_valid(std::string_view s, const std::string& where) {
  const std::string pos = invalid_position(s);
  if (!pos.empty()) MUDIT_THROW(DataError, where, ": not UTF-8 text (", pos, ")");
}

/// `text` itself, after require_valid(text, where): for text files read whole.
inline std::string checked(std::string text, const std::string& where) {
  require_valid(text, where);
  return text;
}

}  // namespace mudit::utf8
