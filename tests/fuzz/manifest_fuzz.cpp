// A manifest line: parse, write, parse again; the written line must come back unchanged.
#include <string>

#include "fuzz_util.h"
#include "mudit/data/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  mudit::fuzz::expect_clean([&] {
    const mudit::data::ManifestEntry e =
        mudit::data::parse_manifest_line(mudit::fuzz::as_text(data, size));
    const std::string line = mudit::data::to_json_line(e);
    if (mudit::data::to_json_line(mudit::data::parse_manifest_line(line)) != line) __builtin_trap();
  });
  return 0;
}
