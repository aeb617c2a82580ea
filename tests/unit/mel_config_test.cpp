#include <gtest/gtest.h>

#include <string>

#include "mudit/audio/features.h"
#include "mudit/core/config.h"

namespace mudit {
namespace {

// The YAML presets under configs/audio/ hold exactly the values of the C++ presets.
const std::string kConfigDir = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/audio/";

void expect_same(const MelConfig& a, const MelConfig& b) {
  EXPECT_EQ(dump_config(a), dump_config(b));
  EXPECT_EQ(a.f_max.has_value(), b.f_max.has_value());
  if (a.f_max && b.f_max) EXPECT_EQ(*a.f_max, *b.f_max);
  EXPECT_EQ(a.mag_eps, b.mag_eps);
  EXPECT_EQ(a.log_clamp, b.log_clamp);
}

TEST(MelConfigYaml, HifiganFileEqualsPreset) {
  const auto cfg = bind_config<MelConfig>(load_config_file(kConfigDir + "mel_hifigan_v1.yaml"));
  expect_same(cfg, MelConfig::hifigan_22k());
}

TEST(MelConfigYaml, HifiganLossFileEqualsPreset) {
  const auto cfg =
      bind_config<MelConfig>(load_config_file(kConfigDir + "mel_hifigan_v1_loss.yaml"));
  EXPECT_FALSE(cfg.f_max.has_value());
  expect_same(cfg, MelConfig::hifigan_22k_loss());
}

TEST(MelConfigYaml, MuditFileEqualsPreset) {
  const auto cfg = bind_config<MelConfig>(load_config_file(kConfigDir + "mel_mudit_24k.yaml"));
  expect_same(cfg, MelConfig::mudit_24k());
}

TEST(MelConfigYaml, ValidationErrorsNameTheField) {
  try {
    bind_config<MelConfig>(parse_config_text("mel_scale: mel\n", "bad.yaml"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("mel_scale: 'mel' is not one of htk, slaney"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mudit
