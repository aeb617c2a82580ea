// Files written by mudit read in Python's safetensors, and the other way round.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>

#include "mudit/core/safetensors.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

// The same tensors as expected() in safetensors_interop.py.
std::map<std::string, torch::Tensor> expected() {
  return {
      {"f64", torch::arange(6, torch::kDouble).reshape({2, 3}) / 7},
      {"f32", torch::linspace(-1, 1, 10, torch::kFloat)},
      {"f16", torch::tensor({0.5, -2.0, 65504.0}).to(torch::kHalf)},
      {"bf16", torch::tensor({1.0, -3.25, 1e30}).to(torch::kBFloat16)},
      {"i64", torch::tensor({INT64_MIN, INT64_MAX}, torch::kLong)},
      {"i32", torch::tensor({-7, 7}, torch::kInt)},
      {"i16", torch::tensor({-300, 300}, torch::kShort)},
      {"i8", torch::tensor({-128, 127}, torch::kChar)},
      {"u8", torch::tensor({0, 255}, torch::kByte)},
      {"bool", torch::tensor({true, false})},
      {"empty", torch::zeros({0, 3})},
  };
}

// Runs the Python side; returns its exit status (77: Python lacks torch or safetensors).
int run_python(const std::string& mode, const std::filesystem::path& file) {
  const std::string python = MUDIT_TEST_PYTHON;
  if (python.empty()) return 77;
  const std::string script =
      std::string(MUDIT_TEST_DATA_DIR) + "/../integration/safetensors_interop.py";
  const std::string cmd = "'" + python + "' '" + script + "' " + mode + " '" + file.string() + "'";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SafetensorsInterop, PythonReadsMuditFiles) {
  test::TempDir dir;
  const auto path = dir / "from_mudit.safetensors";
  save_safetensors(path, expected(), {{"writer", "mudit"}, {"unicode", "\xe6\xad\x8c"}});
  const int rc = run_python("check", path);
  if (rc == 77) GTEST_SKIP() << "Python with torch and safetensors not available";
  EXPECT_EQ(rc, 0);
}

TEST(SafetensorsInterop, MuditReadsPythonFiles) {
  test::TempDir dir;
  const auto path = dir / "from_python.safetensors";
  const int rc = run_python("write", path);
  if (rc == 77) GTEST_SKIP() << "Python with torch and safetensors not available";
  ASSERT_EQ(rc, 0);
  const TensorFile f = load_safetensors(path);
  EXPECT_EQ(f.metadata.at("writer"), "python");
  EXPECT_EQ(f.metadata.at("unicode"), "\xe6\xad\x8c");
  for (const auto& [name, t] : expected()) {
    ASSERT_TRUE(f.tensors.count(name)) << name;
    EXPECT_EQ(f.tensors.at(name).scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(f.tensors.at(name), t)) << name;
  }
}

}  // namespace
}  // namespace mudit
