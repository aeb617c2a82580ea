// Byte-level interop: every safetensors file in the shared fixtures reads, with consistent
// entries (the parity tests of each model then compare values).
#include <gtest/gtest.h>

#include "mudit/core/safetensors.h"

namespace mudit {
namespace {

TEST(FixtureFiles, EverySafetensorsFileReads) {
  const std::filesystem::path root = std::filesystem::path(MUDIT_SHARED_DIR) / "fixtures";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no fixtures at " << root;
  size_t files = 0, tensors = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".safetensors") continue;
    SCOPED_TRACE(entry.path().string());
    const TensorFile f = load_safetensors(entry.path());
    EXPECT_FALSE(f.tensors.empty());
    for (const auto& [name, t] : f.tensors) {
      EXPECT_TRUE(t.is_contiguous()) << name;
      if (t.is_floating_point()) EXPECT_TRUE(t.isfinite().all().item<bool>()) << name;
    }
    tensors += f.tensors.size();
    ++files;
  }
  EXPECT_GE(files, 9u) << "expected the nine fixture files of ../shared/fixtures";
  RecordProperty("files", static_cast<int>(files));
  RecordProperty("tensors", static_cast<int>(tensors));
}

TEST(FixtureFiles, KnownShapesAndMetadata) {
  const auto path =
      std::filesystem::path(MUDIT_SHARED_DIR) / "fixtures/mudit_mel/mudit_mel.safetensors";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no fixture " << path;
  SafetensorsReader reader(path);
  EXPECT_EQ(reader.entry("outputs.filterbank").shape, (std::vector<int64_t>{513, 160}));
  EXPECT_EQ(reader.entry("outputs.log_mel_f64").dtype, c10::kDouble);
  EXPECT_EQ(reader.entry("inputs.audio").shape, (std::vector<int64_t>{1, 36000}));
  EXPECT_FALSE(reader.metadata().empty());
}

}  // namespace
}  // namespace mudit
