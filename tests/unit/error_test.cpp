#include <gtest/gtest.h>

#include "mudit/core/error.h"

namespace mudit {
namespace {

TEST(Error, ContextIsPrependedOutermostFirst) {
  IoError e("truncated header");
  e.add_context("reading model.safetensors");
  e.add_context("loading bundle demo");
  EXPECT_STREQ(e.what(), "loading bundle demo: reading model.safetensors: truncated header");
  EXPECT_EQ(e.message(), "truncated header");
  ASSERT_EQ(e.context().size(), 2u);
  EXPECT_EQ(e.context()[0], "loading bundle demo");
}

TEST(Error, KindsNameTheirCategory) {
  EXPECT_STREQ(ConfigError("x").kind(), "config");
  EXPECT_STREQ(IoError("x").kind(), "io");
  EXPECT_STREQ(DataError("x").kind(), "data");
  EXPECT_STREQ(CheckpointError("x").kind(), "checkpoint");
  EXPECT_STREQ(ShapeError("x").kind(), "shape");
  EXPECT_STREQ(DistError("x").kind(), "dist");
}

TEST(Error, CheckStreamsItsArguments) {
  const int depth = 0;
  try {
    MUDIT_CHECK(depth > 0, ConfigError, "depth must be positive, got ", depth);
    FAIL() << "MUDIT_CHECK did not throw";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "depth must be positive, got 0");
  }
  EXPECT_NO_THROW(MUDIT_CHECK(depth == 0, ConfigError, "unreachable"));
}

TEST(Error, WithContextKeepsTheTypeAndAddsContext) {
  auto failing = [] { MUDIT_THROW(ShapeError, "expected [B, T], got [3]"); };
  try {
    with_context("encoding song 7", failing);
    FAIL() << "with_context swallowed the error";
  } catch (const ShapeError& e) {
    EXPECT_STREQ(e.what(), "encoding song 7: expected [B, T], got [3]");
  }
  // The context callable runs only on failure, and the value passes through.
  int calls = 0;
  const int value = with_context(
      [&] {
        ++calls;
        return std::string("ctx");
      },
      [] { return 42; });
  EXPECT_EQ(value, 42);
  EXPECT_EQ(calls, 0);
}

TEST(Error, CatchableAsStdException) {
  try {
    throw DistError("peer 1 gone during all_reduce");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "peer 1 gone during all_reduce");
  }
}

}  // namespace
}  // namespace mudit
