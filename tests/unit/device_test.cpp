#include <gtest/gtest.h>
#include <torch/types.h>

#include <set>

#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/rng.h"

namespace mudit {
namespace {

TEST(Device, ParsesNames) {
  EXPECT_EQ(parse_device("cpu"), c10::Device(c10::kCPU));
  EXPECT_EQ(parse_device("CPU"), c10::Device(c10::kCPU));
  const c10::Device automatic = parse_device("auto");
  EXPECT_EQ(automatic.is_cuda(), cuda_available());
}

TEST(Device, RejectsMalformedNames) {
  EXPECT_THROW(parse_device("gpu"), ConfigError);
  EXPECT_THROW(parse_device("cuda:"), ConfigError);
  EXPECT_THROW(parse_device("cuda:x"), ConfigError);
  EXPECT_THROW(parse_device("cuda:-1"), ConfigError);
  EXPECT_THROW(parse_device(""), ConfigError);
}

TEST(Device, CudaWithoutGpuIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  try {
    parse_device("cuda:0");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device is usable"), std::string::npos);
  }
}

TEST(Device, IndexPastTheLastDevice) {
  if (!cuda_available()) GTEST_SKIP() << "needs CUDA";
  EXPECT_THROW(parse_device("cuda:" + std::to_string(cuda_device_count())), ConfigError);
}

TEST(Device, DtypeNamesRoundTrip) {
  for (const char* name : {"fp32", "bf16", "fp16", "fp64"}) {
    EXPECT_EQ(dtype_name(parse_dtype(name)), name);
  }
  EXPECT_EQ(parse_dtype("bfloat16"), c10::kBFloat16);
  EXPECT_EQ(parse_dtype("half"), c10::kHalf);
  EXPECT_EQ(parse_dtype("float32"), c10::kFloat);
  EXPECT_THROW(parse_dtype("int8"), ConfigError);
}

TEST(Device, ThreadCountIsApplied) {
  const int before = at::get_num_threads();
  set_num_threads(1);
  EXPECT_EQ(at::get_num_threads(), 1);
  set_num_threads(0);  // 0 leaves the setting alone
  EXPECT_EQ(at::get_num_threads(), 1);
  set_num_threads(before);
  EXPECT_THROW(set_num_threads(-1), ConfigError);
}

TEST(Rng, DerivedSeedsAreDeterministicAndDistinct) {
  EXPECT_EQ(derive_seed(42, 0), derive_seed(42, 0));
  std::set<uint64_t> seen;
  for (uint64_t base : {0ULL, 1ULL, 42ULL}) {
    for (uint64_t rank = 0; rank < 8; ++rank) {
      for (auto stream : {RngStream::kGlobal, RngStream::kData, RngStream::kNoise}) {
        seen.insert(derive_seed(base, rank, stream));
      }
    }
  }
  EXPECT_EQ(seen.size(), 3u * 8u * 3u);
}

TEST(Rng, GeneratorsReproduceTheirStream) {
  auto g1 = make_generator(123);
  auto g2 = make_generator(123);
  auto g3 = make_generator(124);
  const auto a = torch::randn({64}, g1);
  const auto b = torch::randn({64}, g2);
  const auto c = torch::randn({64}, g3);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
}

TEST(Rng, SeedEverythingDependsOnRank) {
  seed_everything(7, 0);
  const auto r0 = torch::rand({16});
  seed_everything(7, 1);
  const auto r1 = torch::rand({16});
  seed_everything(7, 0);
  const auto r0_again = torch::rand({16});
  EXPECT_TRUE(torch::equal(r0, r0_again));
  EXPECT_FALSE(torch::equal(r0, r1));
}

}  // namespace
}  // namespace mudit
