// The YAML presets under configs/codec/ hold exactly the values of the C++ HiFi-GAN presets.
#include <gtest/gtest.h>

#include <string>

#include "mudit/core/config.h"
#include "mudit/models/hifigan.h"

namespace mudit {
namespace {

const std::string kConfigDir = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/codec/";

void expect_file_equals(const std::string& file, const HifiganConfig& preset) {
  const auto cfg = bind_config<HifiganConfig>(load_config_file(kConfigDir + file));
  EXPECT_EQ(dump_config(cfg), dump_config(preset)) << file;
}

TEST(HifiganConfigYaml, FilesEqualPresets) {
  expect_file_equals("hifigan/v1.yaml", HifiganConfig::v1());
  expect_file_equals("hifigan/v2.yaml", HifiganConfig::v2());
  expect_file_equals("hifigan/v3.yaml", HifiganConfig::v3());
  expect_file_equals("hifigan/v1_large.yaml", HifiganConfig::v1_large());
  expect_file_equals("hifigan/tiny.yaml", HifiganConfig::tiny());
}

TEST(HifiganConfigYaml, BadValuesAreConfigErrors) {
  EXPECT_THROW(bind_config<HifiganConfig>(parse_config_text("resblock: \"4\"\n", "t.yaml")),
               ConfigError);
  EXPECT_THROW(bind_config<HifiganConfig>(parse_config_text("upsample_rate: [8]\n", "t.yaml")),
               ConfigError);
}

}  // namespace
}  // namespace mudit
