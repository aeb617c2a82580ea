// Parity of the mel recipes with the reference fixtures (tolerances from each fixture's README):
//   hifigan_v1/mel_spectrogram.safetensors  official HiFi-GAN meldataset.mel_spectrogram()
//   mudit_mel/mudit_mel.safetensors         torchaudio 0.13.1 MelSpectrogram (MuDiT recipe)
#include <gtest/gtest.h>
#include <torch/types.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "mudit/audio/features.h"
#include "mudit/core/safetensors.h"

namespace mudit {
namespace {

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Prints and records a measured error so the run log shows how close parity is.
void report(const std::string& what, double error, double tolerance) {
  std::cout << what << ": max error " << error << " (tolerance " << tolerance << ")\n";
  ::testing::Test::RecordProperty(what, std::to_string(error));
}

class FixtureTest : public ::testing::Test {
 protected:
  void load(const std::string& relative) {
    const std::filesystem::path path =
        std::filesystem::path(MUDIT_SHARED_DIR) / "fixtures" / relative;
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;
    file_ = load_safetensors(path);
  }
  const torch::Tensor& t(const std::string& name) const { return file_.tensors.at(name); }
  TensorFile file_;
};

// --- HiFi-GAN V1 ----------------------------------------------------------------------------

class HifiganMelParity : public FixtureTest {
 protected:
  void SetUp() override { load("hifigan_v1/mel_spectrogram.safetensors"); }
};

TEST_F(HifiganMelParity, WindowAndFilterbank) {
  const MelSpectrogram mel(MelConfig::hifigan_22k());
  const double window_err = max_abs(mel.window(), t("hann_window"));
  report("hifigan window", window_err, 1e-7);
  EXPECT_LT(window_err, 1e-7);
  const double fb_err = max_abs(mel.filterbank(), t("mel_basis"));  // [80, 513]
  report("hifigan filterbank", fb_err, 1e-6);
  EXPECT_LT(fb_err, 1e-6);
}

TEST_F(HifiganMelParity, StftMagnitude) {
  const MelConfig cfg = MelConfig::hifigan_22k();
  const torch::Tensor spec = stft(t("inputs.y"), cfg.stft_options());  // [1, 513, 86]
  const double err = max_abs(spectrum_power(spec, cfg.power, cfg.mag_eps), t("outputs.spec_mag"));
  report("hifigan spec_mag", err, 2e-4);
  EXPECT_LT(err, 2e-4);
}

TEST_F(HifiganMelParity, LogMel) {
  const MelSpectrogram mel(MelConfig::hifigan_22k());
  const torch::Tensor out = mel(t("inputs.y"));  // [1, 80, 86]
  ASSERT_EQ(out.sizes(), t("outputs.mel").sizes());
  const double err = max_abs(out, t("outputs.mel"));
  report("hifigan log-mel", err, 2e-4);
  EXPECT_LT(err, 2e-4);
  // The float64 path against the float64 reference (librosa's formula in float64).
  const double err64 = max_abs(mel(t("inputs.y").to(torch::kFloat64)), t("outputs.mel_f64"));
  report("hifigan log-mel float64", err64, 1e-6);
  EXPECT_LT(err64, 1e-6);
}

TEST_F(HifiganMelParity, LossVariantWithoutFmax) {
  const MelSpectrogram mel(MelConfig::hifigan_22k_loss());
  const double err = max_abs(mel(t("inputs.y")), t("outputs.mel_loss"));
  report("hifigan loss log-mel", err, 2e-4);
  EXPECT_LT(err, 2e-4);
  const double err64 = max_abs(mel(t("inputs.y").to(torch::kFloat64)), t("outputs.mel_loss_f64"));
  report("hifigan loss log-mel float64", err64, 1e-6);
  EXPECT_LT(err64, 1e-6);
}

// --- MuDiT ----------------------------------------------------------------------------------

class MuditMelParity : public FixtureTest {
 protected:
  void SetUp() override { load("mudit_mel/mudit_mel.safetensors"); }
};

// The stored filterbank was built by torchaudio in float32 and carries that rounding: it differs
// from the float64 formula by up to 1.8e-5, and from float32 re-computations of torchaudio's
// formula with today's LibTorch (every linspace / pow variant tried) by 1.9e-5 to 2.3e-5. No
// implementation can reproduce it to the README's 1e-6 (which fits the Slaney-normalised HiFi-GAN
// filterbank, whose weights are 40x smaller). It is compared here at 5e-5, which still catches any
// wrong edge, scale or normalisation (those move weights by 1e-3 or more), and the pipeline
// downstream of the filterbank is held to the README tolerances with the stored filterbank in
// place (MelPowerWithStoredFilterbank, LogMelWithStoredFilterbank).
TEST_F(MuditMelParity, Filterbank) {
  const MelSpectrogram mel(MelConfig::mudit_24k());
  const double err = max_abs(mel.filterbank(), t("outputs.filterbank").t());  // [160, 513]
  report("mudit filterbank", err, 5e-5);
  EXPECT_LT(err, 5e-5);
}

// STFT, power and log with the reference's own filterbank: the README tolerances.
torch::Tensor mel_power_with(const MelConfig& cfg, const torch::Tensor& audio,
                             const torch::Tensor& fb_freq_by_mel) {
  const torch::Tensor spec = stft(audio, cfg.stft_options());                // [1, F, N]
  const torch::Tensor power = spectrum_power(spec, cfg.power, cfg.mag_eps);  // [1, F, N]
  return torch::matmul(fb_freq_by_mel.t().to(power.scalar_type()), power);   // [1, M, N]
}

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  const torch::Tensor b64 = b.to(torch::kFloat64);
  return ((a.to(torch::kFloat64) - b64).abs() / b64.abs()).max().item<double>();
}

TEST_F(MuditMelParity, MelPowerWithStoredFilterbank) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const torch::Tensor out = mel_power_with(cfg, t("inputs.audio"), t("outputs.filterbank"));
  const double rel = max_rel(out, t("outputs.mel_power"));
  report("mudit mel power, stored filterbank (relative)", rel, 1e-4);
  EXPECT_LT(rel, 1e-4);
}

TEST_F(MuditMelParity, LogMelWithStoredFilterbank) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const MelSpectrogram mel(cfg);
  const torch::Tensor out =
      mel.apply_log(mel_power_with(cfg, t("inputs.audio"), t("outputs.filterbank")));
  const double err = max_abs(out, t("outputs.log_mel"));
  report("mudit log-mel, stored filterbank", err, 2e-4);
  EXPECT_LT(err, 2e-4);
}

// End to end with mudit's own (float64-exact) filterbank. The filterbank difference above
// (1.8e-5 on weights, relative ~2e-4 on the small edge weights that carry the energy of weak
// bands) reaches the mel power and log-mel of weak bands: measured 2.25e-4 on both, above the
// README's 1e-4 / 2e-4, which the same pipeline meets with the stored filterbank (tests above).
// This bound (3e-4) is therefore the README tolerance plus the reference filterbank's own
// float32 rounding, not a tolerance of the spectral pipeline.
TEST_F(MuditMelParity, EndToEnd) {
  const MelSpectrogram mel(MelConfig::mudit_24k());
  const double rel = max_rel(mel.mel(t("inputs.audio")), t("outputs.mel_power"));
  report("mudit mel power end to end (relative)", rel, 3e-4);
  const double err = max_abs(mel(t("inputs.audio")), t("outputs.log_mel"));
  report("mudit log-mel end to end", err, 3e-4);
  const double err64 =
      max_abs(mel(t("inputs.audio").to(torch::kFloat64)), t("outputs.log_mel_f64"));
  report("mudit log-mel end to end float64", err64, 3e-4);
  EXPECT_LT(rel, 3e-4);
  EXPECT_LT(err, 3e-4);
  EXPECT_LT(err64, 3e-4);
}

}  // namespace
}  // namespace mudit
