// Cross-checks estimate_tempo() against aubio's beat tracker on the same synthetic signals.
// aubio is linked into this test only (MUDIT_HAVE_AUBIO); without it the test skips.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cmath>
#include <iostream>
#include <vector>

#include "mudit/audio/analysis.h"
#include "unit/music_signals.h"

#ifdef MUDIT_HAVE_AUBIO
#include <aubio/aubio.h>
#endif

namespace mudit {
namespace {

#ifdef MUDIT_HAVE_AUBIO
// aubio's "default" tempo tracker (window 1024, hop 512) over a whole mono signal.
double aubio_bpm(const torch::Tensor& signal, int sample_rate) {
  const uint_t win = 1024;
  const uint_t hop = 512;
  aubio_tempo_t* tempo = new_aubio_tempo("default", win, hop, static_cast<uint_t>(sample_rate));
  fvec_t* in = new_fvec(hop);
  fvec_t* out = new_fvec(1);
  const torch::Tensor x = signal.to(torch::kFloat32).contiguous();
  const float* data = x.data_ptr<float>();
  for (int64_t at = 0; at + hop <= x.size(0); at += hop) {
    for (uint_t i = 0; i < hop; ++i) in->data[i] = data[at + i];
    aubio_tempo_do(tempo, in, out);
  }
  const double bpm = aubio_tempo_get_bpm(tempo);
  del_fvec(out);
  del_fvec(in);
  del_aubio_tempo(tempo);
  return bpm;
}
#endif

// aubio knows nothing of the 60-180 BPM range, so its value is folded into it by octaves
// before the periods are compared.
double fold_into_range(double bpm) {
  while (bpm > 0 && bpm < 60.0) bpm *= 2;
  while (bpm > 180.0) bpm /= 2;
  return bpm;
}

TEST(AubioCrossCheck, TempoAgreesWithAubio) {
#ifndef MUDIT_HAVE_AUBIO
  GTEST_SKIP() << "aubio (libaubio-dev) not found at configure time";
#else
  const int sr = 22050;
  int octave_disagreements = 0;
  for (const bool drums : {false, true}) {
    for (const double bpm : {72.0, 96.0, 120.0, 150.0, 174.0}) {
      const torch::Tensor x =
          drums ? test::drum_chord_track(bpm, 20.0, sr) : test::click_track(bpm, 20.0, sr);
      const double ours = estimate_tempo(x, sr).item<double>();
      const double theirs = aubio_bpm(x, sr);
      std::cout << (drums ? "drums+chords " : "click track ") << bpm << " BPM: mudit " << ours
                << ", aubio " << theirs << "\n";
      octave_disagreements += std::abs(theirs - fold_into_range(theirs)) > 1e-9;
      EXPECT_NEAR(fold_into_range(theirs), ours, 0.03 * ours) << bpm << (drums ? " drums" : "");
    }
  }
  std::cout << "aubio answers outside 60-180 BPM (octave errors): " << octave_disagreements
            << " of 10\n";
#endif
}

}  // namespace
}  // namespace mudit
