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
// aubio's "default" tempo tracker (window 1024, hop 256) over a whole mono signal.
double aubio_bpm(const torch::Tensor& signal, int sample_rate) {
  const uint_t win = 1024;
  const uint_t hop = 256;
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

// aubio has no tempo prior and may count half or double our tempo; the periods are compared
// after moving aubio's answer by whole octaves onto ours: ours / aubio in [2^-1/2, 2^1/2).
double octave_folded_ratio(double ours, double theirs) {
  double r = ours / theirs;
  while (r >= std::sqrt(2.0)) r /= 2;
  while (r < 1 / std::sqrt(2.0)) r *= 2;
  return r;
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
      const double r = octave_folded_ratio(ours, theirs);
      octave_disagreements += std::abs(std::log2(ours / theirs)) > 0.5;
      EXPECT_NEAR(r, 1.0, 0.04) << bpm << (drums ? " drums" : "");
    }
  }
  std::cout << "aubio counts another octave on " << octave_disagreements << " of 10 signals\n";
#endif
}

}  // namespace
}  // namespace mudit
