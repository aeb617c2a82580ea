#pragma once

// What every fuzz target shares. A target feeds its input to one parser; the parser may reject
// it only with a mudit::Error (the CLI turns that into one error line). Any other exception, a
// crash or a sanitizer report is a finding.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mudit/core/error.h"
#include "mudit/core/log.h"

namespace mudit::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Runs `f`, swallowing the errors a parser is allowed to raise.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const mudit::Error&) {
  }
}

/// Quiet logs: warnings for every bad input would drown libFuzzer's own output.
inline void quiet() {
  static const bool once = [] {
    log::set_level(log::Level::kError);
    return true;
  }();
  (void)once;
}

}  // namespace mudit::fuzz
