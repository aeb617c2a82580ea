// Griffin-Lim phase reconstruction on signals with known answers: a chord's magnitude comes back
// consistent (the spectral convergence falls far below that of random phases), the mel round
// trip keeps the pitch of each tone, the same seed gives the same audio, bad input is refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>

#include "mudit/audio/features.h"
#include "mudit/audio/griffin_lim.h"
#include "mudit/core/error.h"

namespace mudit {
namespace {

constexpr double kRate = 24000;

at::Tensor chord(const std::vector<double>& hz, double seconds) {
  const at::Tensor t = at::arange(static_cast<int64_t>(seconds * kRate), at::kFloat) / kRate;
  at::Tensor x = at::zeros_like(t);
  for (double f : hz) x = x + 0.2 * at::sin(2 * M_PI * f * t);
  return x * (0.6 + 0.4 * at::cos(2 * M_PI * 1.5 * t));  // a slow swell
}

// || |STFT(y)| - M ||_F / || M ||_F
double spectral_convergence(const at::Tensor& y, const at::Tensor& magnitude,
                            const StftOptions& o) {
  const at::Tensor m = stft(y, o).abs();
  return ((m - magnitude).norm() / magnitude.norm()).item<double>();
}

// The frequency of the largest peak of |rfft| between lo and hi Hz.
double peak_hz(const at::Tensor& y, double lo, double hi) {
  const at::Tensor spectrum = torch::fft::rfft(y * at::hann_window(y.size(0), true)).abs();
  const double bin = kRate / static_cast<double>(y.size(0));
  const auto a = static_cast<int64_t>(lo / bin), b = static_cast<int64_t>(hi / bin);
  return static_cast<double>(a + spectrum.slice(0, a, b).argmax().item<int64_t>()) * bin;
}

TEST(GriffinLim, RebuildsAConsistentSpectrogram) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const StftOptions o = cfg.stft_options();
  const at::Tensor x = chord({220.0, 277.18, 329.63}, 1.5);
  const at::Tensor magnitude = stft(x, o).abs();
  GriffinLimConfig none;
  none.iterations = 0;
  const double random = spectral_convergence(griffin_lim(magnitude, o, none), magnitude, o);
  GriffinLimConfig plain;
  plain.momentum = 0;
  const double slow = spectral_convergence(griffin_lim(magnitude, o, plain), magnitude, o);
  const double fast = spectral_convergence(griffin_lim(magnitude, o, {}), magnitude, o);
  GriffinLimConfig longer;
  longer.iterations = 100;
  const double more = spectral_convergence(griffin_lim(magnitude, o, longer), magnitude, o);
  std::cout << "  spectral convergence: random phases " << random << ", 32 iterations " << slow
            << ", with momentum " << fast << ", 100 with momentum " << more << "\n";
  EXPECT_GT(random, 0.3);
  EXPECT_LT(fast, random / 4);
  EXPECT_LT(fast, slow);  // the momentum converges faster
  EXPECT_LT(slow, random);
  EXPECT_LT(more, fast);  // and each iteration still helps
  const at::Tensor y = griffin_lim(magnitude, o, {}, x.size(0));
  EXPECT_EQ(y.size(0), x.size(0));
  EXPECT_TRUE(torch::equal(y, griffin_lim(magnitude, o, {}, x.size(0))));  // seeded
  GriffinLimConfig other;
  other.seed = 1;
  EXPECT_FALSE(torch::equal(y, griffin_lim(magnitude, o, other, x.size(0))));
  // A batch gives each item what it gets alone.
  const at::Tensor both = griffin_lim(at::stack({magnitude, magnitude}), o, {}, x.size(0));
  EXPECT_EQ(both.sizes(), (at::IntArrayRef{2, x.size(0)}));
  EXPECT_TRUE(torch::allclose(both[1], y, 1e-4, 1e-5));
}

TEST(GriffinLim, MelRoundTripKeepsEachTonesPitch) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const MelSpectrogram mel(cfg);
  for (double f : {196.0, 261.63, 440.0, 659.26}) {
    const at::Tensor x = chord({f}, 1.0);
    const at::Tensor logmel = mel(x);  // [160, N]
    const at::Tensor y = griffin_lim_from_log_mel(logmel, cfg, {});
    EXPECT_EQ(y.size(0), logmel.size(1) * cfg.hop_length);
    const double got = peak_hz(y, 100, 2000);
    std::cout << "  " << f << " Hz came back at " << got << " Hz\n";
    // The same note: within a quarter of a semitone (below 400 Hz a mel band is narrower than
    // an STFT bin, and the phases, not the magnitudes, place the partial).
    EXPECT_LT(std::abs(12 * std::log2(got / f)), 0.25) << f << " Hz came back at " << got;
    // And its mel is the one asked for, where the tone is.
    const at::Tensor back = mel(y.slice(0, 0, x.size(0)));
    const at::Tensor loud = logmel > logmel.max() - 4;
    EXPECT_LT((back - logmel).abs().masked_select(loud).mean().item<double>(), 0.5) << f;
  }
}

TEST(GriffinLim, RefusesBadInput) {
  const StftOptions o = MelConfig::mudit_24k().stft_options();
  EXPECT_THROW(griffin_lim(at::ones({100, 10}), o, {}), ShapeError);
  GriffinLimConfig bad;
  bad.iterations = -1;
  EXPECT_THROW(griffin_lim(at::ones({513, 10}), o, bad), ConfigError);
  bad = {};
  bad.momentum = 2.5;
  EXPECT_THROW(griffin_lim(at::ones({513, 10}), o, bad), ConfigError);
  EXPECT_THROW(mel_to_magnitude(at::ones({80, 10}), MelConfig::mudit_24k()), ShapeError);
}

}  // namespace
}  // namespace mudit
