// Structured lyrics and G2P: the lyric/structure parser (its canonical layout must be a fixed
// point: parsing it again gives it back), then every line through G2P into phoneme tokens.
#include <string>

#include "fuzz_util.h"
#include "mudit/text/g2p.h"
#include "mudit/text/lyrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  static const mudit::text::G2P g2p;  // the lexicon of the build tree (MUDIT_PRON_DIR)
  mudit::fuzz::expect_clean([&] {
    const mudit::text::Lyrics lyrics = mudit::text::parse_lyrics(mudit::fuzz::as_text(data, size));
    const std::string canonical = mudit::text::to_canonical(lyrics);
    if (mudit::text::to_canonical(mudit::text::parse_lyrics(canonical)) != canonical)
      __builtin_trap();
    mudit::text::lyrics_to_tokens(lyrics, g2p);
    mudit::text::measure_coverage(mudit::fuzz::as_text(data, size), g2p);
  });
  return 0;
}
