#include "mudit/text/normalize.h"

#include <opencc/opencc.h>

#include <cctype>
#include <memory>
#include <mutex>

#include "mudit/core/error.h"

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

}  // namespace mudit::text
