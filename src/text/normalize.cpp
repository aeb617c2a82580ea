#include "mudit/text/normalize.h"

#include <opencc/opencc.h>

#include <cctype>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "mudit/core/error.h"
#include "mudit/core/utf8.h"
#include "mudit/text/g2p.h"
#include "mudit/text/lyrics.h"

namespace mudit::text {
namespace {

// One converter for the process. OpenCC's converter is not documented as thread-safe, so calls
// are serialised.
struct Converter {
  opencc_t handle = reinterpret_cast<opencc_t>(-1);
  std::mutex mutex;
  Converter() {
    handle = opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
    MUDIT_CHECK(handle != reinterpret_cast<opencc_t>(-1), IoError,
                "cannot load OpenCC's traditional-to-simplified data (", opencc_error(),
                "); install libopencc1.1 / libopencc-data");
  }
  ~Converter() { opencc_close(handle); }
};

Converter& converter() {
  static Converter c;
  return c;
}

}  // namespace

std::string to_simplified(std::string_view text) {
  if (text.empty()) return {};
  Converter& c = converter();
  std::lock_guard<std::mutex> lock(c.mutex);
  char* out = opencc_convert_utf8(c.handle, text.data(), text.size());
  MUDIT_CHECK(out, IoError, "OpenCC conversion failed: ", opencc_error());
  std::string result(out);
  opencc_convert_utf8_free(out);
  return result;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

size_t count_code_points(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

namespace {

const char* const kZhDigits[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};

std::string zh_digit_by_digit(std::string_view digits) {
  std::string out;
  for (char c : digits) out += kZhDigits[c - '0'];
  return out;
}

// 0 <= n < 10^4, read within a group: 一千零五, 三百二十, 十五 (a leading 一十 only when `inner`).
std::string zh_below_10000(int n, bool inner) {
  static const char* const units[] = {"", "十", "百", "千"};
  std::string out;
  bool zero = false;  // a skipped zero is pending
  for (int pos = 3; pos >= 0; --pos) {
    int p10 = 1;
    for (int i = 0; i < pos; ++i) p10 *= 10;
    const int d = (n / p10) % 10;
    if (d == 0) {
      if (!out.empty()) zero = true;
      continue;
    }
    if (zero) out += "零";
    zero = false;
    const bool leading = out.empty();
    if (pos == 1 && d == 1 && leading && !inner) {
      out += "十";  // 15 → 十五, not 一十五
    } else if (d == 2 && leading && pos >= 2) {
      out += std::string("两") + units[pos];  // 两百, 两千
    } else {
      out += std::string(kZhDigits[d]) + units[pos];
    }
  }
  return out;
}

std::string zh_integer(uint64_t n) {
  if (n == 0) return "零";
  static const char* const groups[] = {"", "万", "亿", "万亿"};
  std::vector<int> parts;  // groups of four digits, lowest first
  for (uint64_t m = n; m > 0; m /= 10000) parts.push_back(static_cast<int>(m % 10000));
  std::string out;
  bool zero = false;
  for (size_t g = parts.size(); g-- > 0;) {
    const int part = parts[g];
    if (part == 0) {
      zero = !out.empty();
      continue;
    }
    const bool inner = !out.empty();
    if (inner && (zero || part < 1000)) out += "零";
    zero = false;
    std::string words = zh_below_10000(part, inner);
    if (g > 0 && part == 2 && !inner) words = "两";  // 两万, 两亿
    out += words + groups[g];
  }
  return out;
}

const char* const kEnOnes[] = {"zero",    "one",     "two",       "three",    "four",
                               "five",    "six",     "seven",     "eight",    "nine",
                               "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                               "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
const char* const kEnTens[] = {"",      "",      "twenty",  "thirty", "forty",
                               "fifty", "sixty", "seventy", "eighty", "ninety"};

std::string en_below_1000(int n) {
  std::string out;
  if (n >= 100) {
    out = std::string(kEnOnes[n / 100]) + " hundred";
    n %= 100;
    if (n == 0) return out;
    out += " ";
  }
  if (n < 20) return out + kEnOnes[n];
  out += kEnTens[n / 10];
  if (n % 10) out += std::string("-") + kEnOnes[n % 10];
  return out;
}

std::string en_integer(uint64_t n) {
  if (n == 0) return "zero";
  static const char* const scales[] = {"", " thousand", " million", " billion", " trillion"};
  std::vector<int> parts;
  for (uint64_t m = n; m > 0; m /= 1000) parts.push_back(static_cast<int>(m % 1000));
  std::string out;
  for (size_t g = parts.size(); g-- > 0;) {
    if (parts[g] == 0) continue;
    out += (out.empty() ? "" : " ") + en_below_1000(parts[g]) + scales[g];
  }
  return out;
}

bool is_letter(uint32_t cp) {
  return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || is_han(cp);
}

}  // namespace

std::string digits_to_words(std::string_view line) {
  std::vector<uint32_t> cps;
  for (size_t pos = 0; pos < line.size();) cps.push_back(utf8::next(line, pos));
  auto is_digit = [&](size_t i) { return i < cps.size() && cps[i] >= '0' && cps[i] <= '9'; };
  bool line_has_han = false;
  for (uint32_t c : cps) line_has_han = line_has_han || is_han(c);
  std::string out;
  for (size_t i = 0; i < cps.size();) {
    if (!is_digit(i)) {
      utf8::append(out, cps[i++]);
      continue;
    }
    const size_t start = i;
    while (is_digit(i)) ++i;
    const std::string integer(cps.begin() + static_cast<long>(start),
                              cps.begin() + static_cast<long>(i));
    std::string fraction;
    if (i + 1 < cps.size() && cps[i] == '.' && is_digit(i + 1)) {
      ++i;
      const size_t f = i;
      while (is_digit(i)) ++i;
      fraction.assign(cps.begin() + static_cast<long>(f), cps.begin() + static_cast<long>(i));
    }
    bool percent = false;
    if (i < cps.size() && (cps[i] == '%' || cps[i] == 0xFF05)) {
      percent = true;
      ++i;
    }
    // The language of the nearest letter on either side.
    int before = -1, after = -1;  // 0 Latin, 1 Han
    for (size_t k = start; k-- > 0;) {
      if (is_letter(cps[k])) {
        before = is_han(cps[k]) ? 1 : 0;
        break;
      }
    }
    for (size_t k = i; k < cps.size(); ++k) {
      if (is_letter(cps[k])) {
        after = is_han(cps[k]) ? 1 : 0;
        break;
      }
    }
    const bool chinese = before >= 0 ? before == 1 : after >= 0 ? after == 1 : line_has_han;
    const bool year = chinese && fraction.empty() && !percent && integer.size() >= 2 &&
                      integer.size() <= 4 && i < cps.size() && cps[i] == 0x5E74;  // 年
    const bool digit_by_digit = (integer.size() > 1 && integer[0] == '0') || integer.size() > 12;
    std::string words;
    if (chinese) {
      if (percent) words = "百分之";
      words +=
          year || digit_by_digit ? zh_digit_by_digit(integer) : zh_integer(std::stoull(integer));
      if (!fraction.empty()) words += "点" + zh_digit_by_digit(fraction);
    } else {
      std::string spoken;
      if (digit_by_digit) {
        for (char c : integer)
          spoken += (spoken.empty() ? "" : " ") + std::string(kEnOnes[c - '0']);
      } else {
        spoken = en_integer(std::stoull(integer));
      }
      if (!fraction.empty()) {
        spoken += " point";
        for (char c : fraction) spoken += std::string(" ") + kEnOnes[c - '0'];
      }
      if (percent) spoken += " percent";
      const bool letter_before =
          !out.empty() && std::isalpha(static_cast<unsigned char>(out.back()));
      const bool letter_after = i < cps.size() && is_letter(cps[i]);
      words = (letter_before ? " " : "") + spoken + (letter_after ? " " : "");
    }
    out += words;
  }
  return out;
}

std::string normalize_lyric_line(std::string_view line) {
  const std::string text = digits_to_words(to_simplified(fold_width(line)));
  std::vector<uint32_t> cps;
  for (size_t pos = 0; pos < text.size();) cps.push_back(utf8::next(text, pos));
  auto latin = [&](size_t i) {
    return i < cps.size() && ((cps[i] >= 'a' && cps[i] <= 'z') || (cps[i] >= 'A' && cps[i] <= 'Z'));
  };
  std::string out;
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t c = cps[i];
    const bool keep = is_han(c) || latin(i) || (c >= '0' && c <= '9') ||
                      (c == '\'' && i > 0 && latin(i - 1) && latin(i + 1)) ||
                      (c > 0x7F && c < 0x2000 && c != 0xB7);  // other scripts' letters
    if (keep) {
      utf8::append(out, c);
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace mudit::text
