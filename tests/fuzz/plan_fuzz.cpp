// The musical plan's text parsers: a plan file (parse, write, parse again: the written file must
// be a fixed point), and the same bytes as a key, a chord symbol, a meter and a description.
#include <string>

#include "fuzz_util.h"
#include "mudit/generation/plan_file.h"
#include "mudit/generation/plan_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mudit::generation;
  mudit::fuzz::quiet();
  const std::string text(mudit::fuzz::as_text(data, size));
  mudit::fuzz::expect_clean([&] {
    const std::string once = plan_to_json(plan_from_json(text));
    if (plan_to_json(plan_from_json(once)) != once) __builtin_trap();
  });
  mudit::fuzz::expect_clean([&] { parse_key(text); });
  mudit::fuzz::expect_clean([&] {
    const PlanChord c = parse_chord(text);
    if (parse_chord(chord_symbol(c)).tones != c.tones) __builtin_trap();  // the name reads back
  });
  mudit::fuzz::expect_clean([&] { beats_per_bar(text); });
  mudit::fuzz::expect_clean([&] { parse_plan_hints(text); });
  return 0;
}
