// The YAML config loader: parse, emit, parse again (the emitted YAML must load back to the same
// text), and the input as a command-line override.
#include <string>

#include "fuzz_util.h"
#include "mudit/core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  const std::string_view text = mudit::fuzz::as_text(data, size);
  mudit::fuzz::expect_clean([&] {
    const mudit::ConfigNode node = mudit::parse_config_text(text, "fuzz");
    const std::string yaml = mudit::to_yaml(node);
    if (mudit::to_yaml(mudit::parse_config_text(yaml, "emitted")) != yaml) __builtin_trap();
  });
  mudit::fuzz::expect_clean([&] {
    mudit::ConfigNode root = mudit::parse_config_text("a: {b: 1}\nc: [1, 2]\n", "base");
    mudit::apply_override(root, text);
  });
  return 0;
}
