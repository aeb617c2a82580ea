#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cmath>
#include <string>
#include <vector>

#include "mudit/audio/features.h"
#include "mudit/core/device.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

using ::testing::HasSubstr;

constexpr double kPi = 3.14159265358979323846;

// A sum of sines plus a little seeded noise: [B, T] (float64 for exact references).
torch::Tensor test_signal(int64_t batch, int64_t length, double sample_rate, uint64_t seed = 1) {
  torch::manual_seed(seed);
  const torch::Tensor t =
      torch::arange(length, torch::kFloat64).unsqueeze(0) / sample_rate;  // [1, T]
  const torch::Tensor f0 =
      220.0 * torch::arange(1, batch + 1, torch::kFloat64).unsqueeze(1);  // [B, 1]
  return 0.5 * torch::sin(2 * kPi * f0 * t) + 0.2 * torch::sin(2 * kPi * 3.1 * f0 * t + 0.4) +
         0.01 * torch::randn({batch, length}, torch::kFloat64);  // [B, T]
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

using test::error_of;

// --- STFT -----------------------------------------------------------------------------------

TEST(Stft, SinePeaksAtItsBin) {
  StftOptions o;
  o.n_fft = 512;
  o.hop_length = 128;
  const double sr = 16000;
  const int64_t bin = 37;
  const torch::Tensor t = torch::arange(8000, torch::kFloat64) / sr;       // [T]
  const torch::Tensor x = torch::sin(2 * kPi * (bin * sr / o.n_fft) * t);  // [T]
  const torch::Tensor spec = stft(x, o);                                   // [F, N]
  ASSERT_EQ(spec.dim(), 2);
  EXPECT_EQ(spec.size(0), 257);
  EXPECT_EQ(spec.size(1), 1 + 8000 / 128);
  // Frames 0-1 and the last two see reflected (not sinusoidal) samples; every other peaks at bin.
  const torch::Tensor peak = spec.abs().argmax(0).slice(0, 2, -2);  // [N-4]
  EXPECT_TRUE((peak == bin).all().item<bool>()) << peak;
  // A periodic Hann window of length N has sum N/2: a unit sine on a bin gives |X| = N/4.
  EXPECT_NEAR(spec.abs().select(0, bin).slice(0, 4, -4).mean().item<double>(), 512.0 / 4, 1e-6);
}

TEST(Stft, FrameCountsForEachPadding) {
  StftOptions o;  // n_fft 1024, hop 256
  o.padding = "center";
  EXPECT_EQ(o.num_frames(36000), 141);
  EXPECT_EQ(stft(torch::zeros({36000}), o).size(1), 141);
  o.padding = "same";
  EXPECT_EQ(o.pad_amount(), 384);
  EXPECT_EQ(o.num_frames(22050), 86);
  EXPECT_EQ(stft(torch::zeros({22050}), o).size(1), 86);
  o.padding = "none";
  EXPECT_EQ(o.num_frames(22050), 1 + (22050 - 1024) / 256);
  EXPECT_EQ(stft(torch::zeros({22050}), o).size(1), o.num_frames(22050));
}

TEST(Stft, InverseRecoversTheSignal) {
  for (const std::string padding : {"center", "same"}) {
    for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
      StftOptions o;
      o.padding = padding;
      const torch::Tensor x = test_signal(2, 8192, 22050).to(dtype);  // [B, T]
      const torch::Tensor spec = stft(x, o);                          // [B, F, N]
      const torch::Tensor y = istft(spec, o, x.size(1));              // [B, T]
      ASSERT_EQ(y.sizes(), x.sizes()) << padding;
      EXPECT_EQ(y.scalar_type(), dtype);
      EXPECT_LT(max_abs(y, x), dtype == torch::kFloat64 ? 1e-12 : 1e-5) << padding;
    }
  }
}

TEST(Stft, InverseDefaultLengthAndNormalised) {
  StftOptions o;
  o.padding = "same";
  o.normalized = true;
  const torch::Tensor x = test_signal(1, 256 * 40, 22050).squeeze(0);  // [T]
  const torch::Tensor y = istft(stft(x, o), o);                        // [T]
  ASSERT_EQ(y.size(0), x.size(0));
  EXPECT_LT(max_abs(y, x), 1e-12);
}

TEST(Stft, InverseWithoutPaddingRecoversCoveredSamples) {
  StftOptions o;
  o.padding = "none";
  o.n_fft = 256;
  o.hop_length = 64;
  const torch::Tensor x = test_signal(1, 4096, 16000);  // [1, T]
  const torch::Tensor y = istft(stft(x, o), o);         // [1, L]
  const int64_t len = y.size(1);
  EXPECT_EQ(len, (o.num_frames(4096) - 1) * 64 + 256);
  // The periodic Hann window is zero at sample 0 only; everything else is covered.
  EXPECT_LT(max_abs(y.slice(1, 1, len), x.slice(1, 1, len)), 1e-12);
  EXPECT_EQ(y[0][0].item<double>(), 0.0);
}

TEST(Stft, ShortWindowIsCentredInTheFrame) {
  StftOptions o;
  o.n_fft = 16;
  o.win_length = 8;
  o.hop_length = 4;
  const torch::Tensor w = stft_window(o, torch::kFloat64);  // [16]
  ASSERT_EQ(w.size(0), 16);
  EXPECT_EQ(w.slice(0, 0, 4).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(w.slice(0, 12).abs().sum().item<double>(), 0.0);
  EXPECT_NEAR(w[8].item<double>(), 1.0, 1e-12);  // periodic Hann(8) peaks at index 4
  const torch::Tensor x = test_signal(1, 512, 8000);
  EXPECT_LT(max_abs(istft(stft(x, o), o, 512), x), 1e-12);
}

TEST(Stft, RejectsBadShapesAndOptions) {
  StftOptions o;
  EXPECT_THAT(error_of([&] { stft(torch::zeros({1, 2, 3000}), o); }), HasSubstr("[T] or [B, T]"));
  EXPECT_THAT(error_of([&] { stft(torch::zeros({100}), o); }), HasSubstr("too short"));
  o.padding = "middle";
  EXPECT_THAT(error_of([&] { stft(torch::zeros({3000}), o); }),
              HasSubstr("padding: 'middle' is not one of center, same, none"));
  StftOptions bad;
  bad.hop_length = 0;
  EXPECT_THROW(bad.validate(), ConfigError);
}

TEST(Stft, PowerAndMagnitude) {
  const torch::Tensor spec = torch::complex(torch::tensor({3.0, 0.0}, torch::kFloat64),
                                            torch::tensor({4.0, 0.0}, torch::kFloat64));
  EXPECT_TRUE(spectrum_power(spec, 1.0).allclose(torch::tensor({5.0, 0.0}, torch::kFloat64)));
  EXPECT_TRUE(spectrum_power(spec, 2.0).allclose(torch::tensor({25.0, 0.0}, torch::kFloat64)));
  const torch::Tensor m = spectrum_power(spec, 1.0, 1e-9);  // HiFi-GAN's magnitude
  EXPECT_NEAR(m[1].item<double>(), std::sqrt(1e-9), 1e-15);
  EXPECT_NEAR(m[0].item<double>(), std::sqrt(25.0 + 1e-9), 1e-12);
}

// --- mel scale ------------------------------------------------------------------------------

TEST(MelScale, KnownValues) {
  // HTK: 2595 log10(1 + f/700); 1000 Hz is (by design, to 0.02 mel) 1000 mel.
  EXPECT_NEAR(hz_to_mel(1000.0, "htk"), 1000.0, 0.02);
  EXPECT_NEAR(hz_to_mel(700.0, "htk"), 2595.0 * std::log10(2.0), 1e-9);
  EXPECT_DOUBLE_EQ(hz_to_mel(0.0, "htk"), 0.0);
  // Slaney: 3 mel per 200 Hz up to 1 kHz (= 15 mel), then 27 mel per log(6.4).
  EXPECT_NEAR(hz_to_mel(200.0, "slaney"), 3.0, 1e-12);
  EXPECT_NEAR(hz_to_mel(1000.0, "slaney"), 15.0, 1e-12);
  EXPECT_NEAR(hz_to_mel(6400.0, "slaney"), 42.0, 1e-12);
  EXPECT_NEAR(mel_to_hz(42.0, "slaney"), 6400.0, 1e-9);
  for (const std::string scale : {"htk", "slaney"}) {
    for (double hz : {0.0, 40.0, 440.0, 999.0, 1000.0, 4321.0, 11025.0}) {
      EXPECT_NEAR(mel_to_hz(hz_to_mel(hz, scale), scale), hz, 1e-9) << scale << " " << hz;
    }
    const torch::Tensor hz = torch::tensor({0.0, 40.0, 440.0, 999.0, 1000.0, 4321.0, 11025.0},
                                           torch::kFloat64);  // [7]
    const torch::Tensor mel = hz_to_mel(hz, scale);           // [7]
    for (int64_t i = 0; i < hz.size(0); ++i) {
      EXPECT_NEAR(mel[i].item<double>(), hz_to_mel(hz[i].item<double>(), scale), 1e-9);
    }
    EXPECT_LT(max_abs(mel_to_hz(mel, scale), hz), 1e-9);
  }
  EXPECT_THROW(hz_to_mel(1.0, "bark"), ConfigError);
}

TEST(MelFilterbank, ShapeAndTriangles) {
  const torch::Tensor fb =
      mel_filterbank(22050, 1024, 80, 0.0, 8000.0, "slaney", "slaney", torch::kFloat64);
  ASSERT_EQ(fb.sizes(), (std::vector<int64_t>{80, 513}));
  EXPECT_EQ(fb.scalar_type(), torch::kFloat64);
  EXPECT_GE(fb.min().item<double>(), 0.0);
  // Nothing above f_max = 8000 Hz (bin 8000 / 21.53 = 371.5).
  EXPECT_EQ(fb.slice(1, 372).abs().sum().item<double>(), 0.0);
  // Every filter has weight; the peaks rise with frequency.
  const torch::Tensor peak_bin = fb.argmax(1);  // [80]
  EXPECT_TRUE((fb.amax(1) > 0).all().item<bool>());
  EXPECT_TRUE((peak_bin.slice(0, 1) >= peak_bin.slice(0, 0, -1)).all().item<bool>());
}

// The MuDiT recipe's HTK filterbank against the triangle formula evaluated point by point in
// double precision: the shared fixture stores a float32 copy (off by up to 1.8e-5 from these
// values), so exactness is checked here instead.
TEST(MelFilterbank, HtkMatchesTheFormulaInDoublePrecision) {
  const int64_t sr = 24000, n_fft = 1024, n_mels = 160;
  const double f_min = 40, f_max = 8000;
  const torch::Tensor fb =
      mel_filterbank(sr, n_fft, n_mels, f_min, f_max, "htk", "none", torch::kFloat64);
  auto mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  auto hz = [](double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); };
  std::vector<double> edges(n_mels + 2);
  for (int64_t i = 0; i < n_mels + 2; ++i) {
    edges[i] = hz(mel(f_min) + (mel(f_max) - mel(f_min)) * static_cast<double>(i) / (n_mels + 1));
  }
  const auto acc = fb.accessor<double, 2>();
  double worst = 0;
  for (int64_t m = 0; m < n_mels; ++m) {
    for (int64_t k = 0; k <= n_fft / 2; ++k) {
      const double f = static_cast<double>(k) * sr / n_fft;
      const double up = (f - edges[m]) / (edges[m + 1] - edges[m]);
      const double down = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
      worst = std::max(worst, std::abs(acc[m][k] - std::max(0.0, std::min(up, down))));
    }
  }
  EXPECT_LT(worst, 1e-12);
}

TEST(MelFilterbank, SlaneyNormGivesUnitArea) {
  // With a fine frequency grid the Riemann sum of each triangle is its area in Hz, which the
  // Slaney norm makes 1.
  const int64_t n_fft = 1 << 16;
  const double df = 24000.0 / n_fft;
  for (const std::string scale : {"slaney", "htk"}) {
    const torch::Tensor fb =
        mel_filterbank(24000, n_fft, 40, 40.0, 8000.0, scale, "slaney", torch::kFloat64);
    const torch::Tensor area = fb.sum(1) * df;  // [40]
    EXPECT_LT((area - 1.0).abs().max().item<double>(), 2e-3) << scale;
  }
}

TEST(MelFilterbank, UnnormalisedTrianglesPeakAtOneAndSumToOne) {
  const int64_t n_fft = 1 << 14;
  const double df = 24000.0 / n_fft;
  const torch::Tensor fb =
      mel_filterbank(24000, n_fft, 20, 100.0, 6000.0, "htk", "none", torch::kFloat64);  // [M, F]
  EXPECT_LT(fb.max().item<double>(), 1.0 + 1e-12);
  EXPECT_GT(fb.amax(1).min().item<double>(), 0.99);
  // Between the centres of the first and last filters adjacent triangles sum to 1.
  const double lo = mel_to_hz(
      hz_to_mel(100.0, "htk") + (hz_to_mel(6000.0, "htk") - hz_to_mel(100.0, "htk")) / 21.0, "htk");
  const double hi = mel_to_hz(
      hz_to_mel(6000.0, "htk") - (hz_to_mel(6000.0, "htk") - hz_to_mel(100.0, "htk")) / 21.0,
      "htk");
  const int64_t b0 = static_cast<int64_t>(std::ceil(lo / df)) + 1;
  const int64_t b1 = static_cast<int64_t>(std::floor(hi / df)) - 1;
  const torch::Tensor total = fb.sum(0).slice(0, b0, b1);  // [bins]
  EXPECT_LT((total - 1.0).abs().max().item<double>(), 1e-9);
}

TEST(MelFilterbank, FullBandWhenFmaxIsNull) {
  const torch::Tensor fb =
      mel_filterbank(22050, 1024, 80, 0.0, std::nullopt, "slaney", "slaney", torch::kFloat64);
  // The last filter reaches up to (not including) the Nyquist bin.
  EXPECT_GT(fb.select(1, 511).sum().item<double>(), 0.0);
  EXPECT_THROW(mel_filterbank(22050, 1024, 80, 0.0, 12000.0), ConfigError);
}

// --- MelSpectrogram ------------------------------------------------------------------------

TEST(MelSpectrogram, PresetsHaveTheRecipesValues) {
  const MelConfig h = MelConfig::hifigan_22k();
  EXPECT_EQ(h.sample_rate, 22050);
  EXPECT_EQ(h.n_mels, 80);
  EXPECT_EQ(h.mel_scale, "slaney");
  EXPECT_EQ(h.norm, "slaney");
  EXPECT_EQ(h.power, 1.0);
  EXPECT_EQ(h.mag_eps, 1e-9);
  EXPECT_EQ(h.padding, "same");
  EXPECT_EQ(*h.f_max, 8000.0);
  EXPECT_FALSE(MelConfig::hifigan_22k_loss().f_max.has_value());
  const MelConfig m = MelConfig::mudit_24k();
  EXPECT_EQ(m.sample_rate, 24000);
  EXPECT_EQ(m.n_fft, 1024);
  EXPECT_EQ(m.hop_length, 256);
  EXPECT_EQ(m.n_mels, 160);
  EXPECT_EQ(m.f_min, 40.0);
  EXPECT_EQ(*m.f_max, 8000.0);
  EXPECT_EQ(m.power, 2.0);
  EXPECT_EQ(m.mel_scale, "htk");
  EXPECT_EQ(m.norm, "none");
  EXPECT_EQ(m.padding, "center");
  EXPECT_EQ(m.log, "ln");
  EXPECT_EQ(m.log_clamp, 1e-5);
}

TEST(MelSpectrogram, ShapesForBatchAndSingleSignal) {
  const MelSpectrogram mel(MelConfig::mudit_24k());
  const torch::Tensor x = test_signal(3, 24000, 24000).to(torch::kFloat32);  // [3, T]
  const torch::Tensor m = mel(x);                                            // [3, 160, N]
  EXPECT_EQ(m.sizes(), (std::vector<int64_t>{3, 160, 1 + 24000 / 256}));
  EXPECT_EQ(mel.num_frames(24000), 1 + 24000 / 256);
  EXPECT_EQ(mel(x[0]).sizes(), (std::vector<int64_t>{160, 1 + 24000 / 256}));
  EXPECT_GE(m.min().item<double>(), std::log(1e-5) - 1e-6);
}

TEST(MelSpectrogram, BatchOfOneEqualsRowOfBatchOfThree) {
  for (const MelConfig& cfg : {MelConfig::mudit_24k(), MelConfig::hifigan_22k()}) {
    const MelSpectrogram mel(cfg);
    const torch::Tensor x = test_signal(3, 12000, 24000).to(torch::kFloat32);  // [3, T]
    const torch::Tensor all = mel(x);                                          // [3, M, N]
    for (int64_t b = 0; b < 3; ++b) {
      EXPECT_LT(max_abs(mel(x.slice(0, b, b + 1))[0], all[b]), 1e-5) << b;
      EXPECT_LT(max_abs(mel(x[b]), all[b]), 1e-5) << b;
    }
  }
}

TEST(MelSpectrogram, Float64PathMatchesFloat32) {
  const MelSpectrogram mel(MelConfig::hifigan_22k());
  const torch::Tensor x = test_signal(2, 22050, 22050);  // [2, T] float64
  const torch::Tensor m64 = mel(x);                      // [2, 80, N]
  EXPECT_EQ(m64.scalar_type(), torch::kFloat64);
  const torch::Tensor m32 = mel(x.to(torch::kFloat32));
  EXPECT_EQ(m32.scalar_type(), torch::kFloat32);
  EXPECT_LT(max_abs(m32.to(torch::kFloat64), m64), 2e-4);
  EXPECT_EQ(mel.filterbank(c10::kCPU, torch::kFloat64).scalar_type(), torch::kFloat64);
  // Half precision input is computed in float32.
  EXPECT_EQ(mel(x.to(torch::kFloat16)).scalar_type(), torch::kFloat32);
}

TEST(MelSpectrogram, MelOfASineLandsInTheRightBand) {
  MelConfig cfg = MelConfig::mudit_24k();
  cfg.log = "none";
  const MelSpectrogram mel(cfg);
  const double f = 1500.0;
  const torch::Tensor t = torch::arange(24000, torch::kFloat64) / 24000.0;
  const torch::Tensor m = mel(torch::sin(2 * kPi * f * t));  // [160, N]
  const int64_t band = m.mean(1).argmax().item<int64_t>();
  // The band whose centre is nearest to 1500 Hz on the HTK scale.
  const double step = (hz_to_mel(8000.0, "htk") - hz_to_mel(40.0, "htk")) / 161.0;
  const double expected = (hz_to_mel(f, "htk") - hz_to_mel(40.0, "htk")) / step - 1.0;
  EXPECT_NEAR(static_cast<double>(band), expected, 0.5 + 1e-9);
}

TEST(MelSpectrogram, LogVariants) {
  MelConfig cfg = MelConfig::mudit_24k();
  const torch::Tensor x = test_signal(1, 6000, 24000).to(torch::kFloat32);
  cfg.log = "none";
  const torch::Tensor raw = MelSpectrogram(cfg)(x);  // [1, M, N]
  cfg.log = "ln";
  const torch::Tensor ln = MelSpectrogram(cfg)(x);
  cfg.log = "log10";
  const torch::Tensor lg = MelSpectrogram(cfg)(x);
  EXPECT_LT(max_abs(ln, torch::log(torch::clamp_min(raw, 1e-5))), 1e-6);
  EXPECT_LT(max_abs(lg * std::log(10.0), ln), 1e-5);
  // Magnitude (power 1) squared is power 2.
  cfg.log = "none";
  cfg.power = 1.0;
  const torch::Tensor mag_spec = spectrum_power(stft(x, cfg.stft_options()), 1.0);  // [1, F, N]
  EXPECT_LT(max_abs(mag_spec.square(), spectrum_power(stft(x, cfg.stft_options()), 2.0)), 1e-3);
}

TEST(MelSpectrogram, IsDifferentiable) {
  const MelSpectrogram mel(MelConfig::hifigan_22k());
  torch::Tensor x = test_signal(2, 8192, 22050).to(torch::kFloat32).requires_grad_(true);
  mel(x).mean().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(MelSpectrogram, GradientMatchesFiniteDifferences) {
  MelConfig cfg = MelConfig::mudit_24k();
  cfg.n_fft = 64;
  cfg.win_length = 64;
  cfg.hop_length = 16;
  cfg.n_mels = 8;
  cfg.f_min = 100.0;
  cfg.f_max = 4000.0;
  const MelSpectrogram mel(cfg);
  torch::Tensor x = test_signal(1, 256, 8000).requires_grad_(true);  // [1, T] float64
  const torch::Tensor w = torch::randn({1, 8, mel.num_frames(256)}, torch::kFloat64);
  (mel(x) * w).sum().backward();
  const torch::Tensor g = x.grad();
  torch::NoGradGuard no_grad;
  for (int64_t i : {3, 77, 128, 200}) {
    const double h = 1e-6;
    torch::Tensor xp = x.detach().clone();
    torch::Tensor xm = x.detach().clone();
    xp[0][i] += h;
    xm[0][i] -= h;
    const double fd = ((mel(xp) * w).sum() - (mel(xm) * w).sum()).item<double>() / (2 * h);
    EXPECT_NEAR(g[0][i].item<double>(), fd, 1e-5 * std::max(1.0, std::abs(fd))) << i;
  }
}

TEST(MelSpectrogram, CachesPerDeviceAndDtypeOutsideInferenceMode) {
  const MelSpectrogram mel(MelConfig::mudit_24k());
  {
    c10::InferenceMode guard;
    mel(torch::zeros({4096}));
  }
  const torch::Tensor a = mel.filterbank(c10::kCPU, torch::kFloat32);
  EXPECT_EQ(a.data_ptr(), mel.filterbank(c10::kCPU, torch::kFloat32).data_ptr());
  EXPECT_FALSE(a.is_inference());
  EXPECT_NE(a.data_ptr(), mel.filterbank(c10::kCPU, torch::kFloat64).data_ptr());
  EXPECT_EQ(mel.window().size(0), 1024);
  // The cache built under InferenceMode still serves training.
  torch::Tensor x = torch::randn({4096}).requires_grad_(true);
  mel(x).sum().backward();
  EXPECT_TRUE(x.grad().defined());
  // Copies share the cache.
  const MelSpectrogram copy = mel;
  EXPECT_EQ(copy.filterbank().data_ptr(), a.data_ptr());
}

TEST(MelSpectrogram, ConfigValidationNamesTheChoices) {
  MelConfig cfg;
  cfg.mel_scale = "bark";
  EXPECT_THAT(error_of([&] { cfg.validate(); }),
              HasSubstr("mel_scale: 'bark' is not one of htk, slaney"));
  cfg = MelConfig{};
  cfg.log = "log2";
  EXPECT_THAT(error_of([&] { cfg.validate(); }), HasSubstr("one of ln, log10, none"));
  cfg = MelConfig{};
  cfg.f_max = 20000.0;
  EXPECT_THAT(error_of([&] { MelSpectrogram{cfg}; }), HasSubstr("f_max must be in"));
  EXPECT_THAT(error_of([&] {
                MelSpectrogram{}(torch::zeros({2, 2, 4096}));
              }),
              HasSubstr("[T] or [B, T]"));
}

// --- pitch classes of mel bands ---------------------------------------------------------------

// Tones over the default range (Eb4 311 Hz to C6 1047 Hz) through the MuDiT mel: the chroma of
// their mel magnitude peaks at the tone's pitch class, with at least 30 % of the weight there
// (below ~300 Hz the STFT's main lobe spans several semitones; see mel_chroma_matrix).
TEST(MelChroma, ToneChromaPeaksAtItsPitchClass) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const torch::Tensor matrix = mel_chroma_matrix(cfg);  // [12, M]
  ASSERT_EQ(matrix.sizes(), (std::vector<int64_t>{12, cfg.n_mels}));
  const MelSpectrogram mel(cfg);
  const torch::Tensor t = torch::arange(24000, torch::kFloat64) / 24000.0;
  for (int midi = 63; midi <= 84; ++midi) {
    const double hz = 440.0 * std::pow(2.0, (midi - 69) / 12.0);
    const torch::Tensor tone = torch::sin(2 * M_PI * hz * t).to(torch::kFloat32);  // [T]
    const torch::Tensor magnitude = torch::exp(mel(tone) * 0.5);                   // [M, N]
    const torch::Tensor chroma = torch::matmul(matrix, magnitude).mean(1);         // [12]
    EXPECT_EQ(chroma.argmax().item<int64_t>(), midi % 12) << "MIDI " << midi;
    EXPECT_GT((chroma.max() / chroma.sum()).item<double>(), 0.3) << "MIDI " << midi;
  }
}

TEST(MelChroma, BandsOutsideTheRangeWeighNothingAndInsideSumToOne) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const torch::Tensor matrix = mel_chroma_matrix(cfg, 200.0, 1000.0);
  const torch::Tensor per_band = matrix.sum(0);  // [M]
  const int64_t inside = per_band.gt(0.5).sum().item<int64_t>();
  EXPECT_GT(inside, 10);
  EXPECT_LT(inside, cfg.n_mels / 2);
  EXPECT_TRUE(
      torch::allclose(per_band.masked_select(per_band.gt(0.5)), torch::ones({inside}), 1e-5, 1e-5));
  EXPECT_EQ(per_band.lt(0.5).logical_and(per_band.ne(0)).sum().item<int64_t>(), 0);
  EXPECT_THAT(error_of([&] { mel_chroma_matrix(cfg, 9000.0, 9500.0); }),
              HasSubstr("no mel band lies in"));
  EXPECT_THAT(error_of([&] { mel_chroma_matrix(cfg, 500.0, 400.0); }), HasSubstr("f_min < f_max"));
}

// --- device x dtype -----------------------------------------------------------------------

class MelDevice : public ::testing::TestWithParam<std::string> {};

TEST_P(MelDevice, MatchesCpuFloat64) {
  const std::string name = GetParam();
  if (name != "cpu" && !cuda_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device device = parse_device(name);
  for (const MelConfig& cfg : {MelConfig::mudit_24k(), MelConfig::hifigan_22k()}) {
    const MelSpectrogram mel(cfg);
    const torch::Tensor x = test_signal(2, 16000, 24000);          // [2, T] float64
    const torch::Tensor ref = mel(x.to(torch::kFloat32));          // [2, M, N]
    const torch::Tensor got = mel(x.to(device, torch::kFloat32));  // [2, M, N]
    EXPECT_EQ(got.device(), device);
    EXPECT_LT(max_abs(got.cpu(), ref), 1e-4);
    const torch::Tensor spec = stft(x.to(device), cfg.stft_options());
    EXPECT_LT(max_abs(istft(spec, cfg.stft_options(), x.size(1)).cpu(), x), 1e-10);
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, MelDevice, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mudit
