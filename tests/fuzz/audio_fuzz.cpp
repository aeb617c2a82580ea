// The audio decoding front end: libsndfile over the bytes (virtual I/O), then the conversions a
// reader asks for (a window, a sample rate, a channel count). A header claiming more audio than
// the bytes hold must not allocate for the claim.
#include "fuzz_util.h"
#include "mudit/audio/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  const std::string_view bytes = mudit::fuzz::as_text(data, size);
  mudit::fuzz::expect_clean([&] {
    const mudit::audio::Audio a = mudit::audio::decode_audio(bytes, "fuzz");
    if (a.samples.dim() != 2) __builtin_trap();
  });
  mudit::fuzz::expect_clean([&] {
    mudit::audio::AudioReadOptions o;
    o.sample_rate = 16000;
    o.channels = 1;
    o.offset = 0.01;
    o.duration = 0.5;
    mudit::audio::decode_audio(bytes, "fuzz", o);
  });
  return 0;
}
