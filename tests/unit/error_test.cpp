#include <gtest/gtest.h>

#include "mudit/core/error.h"
#include "mudit/core/utf8.h"

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

TEST(Utf8, InvalidAtFindsTheFirstIllFormedByte) {
  using utf8::invalid_at;
  constexpr size_t kOk = std::string_view::npos;
  EXPECT_EQ(invalid_at(""), kOk);
  EXPECT_EQ(invalid_at("plain ascii"), kOk);
  EXPECT_EQ(invalid_at("歌词 café \xF0\x9F\x8E\xB5"), kOk);  // 3-, 2- and 4-byte forms
  EXPECT_EQ(invalid_at("caf\xE9!"), 3u);                     // Latin-1 é
  EXPECT_EQ(invalid_at("ab\xC0\xAF"), 2u);                   // overlong '/'
  EXPECT_EQ(invalid_at("\xED\xA0\x80"), 0u);                 // a UTF-16 surrogate
  EXPECT_EQ(invalid_at("\xF4\x90\x80\x80"), 0u);             // above U+10FFFF
  EXPECT_EQ(invalid_at("x\xE6\xAD"), 1u);                    // cut short
  EXPECT_EQ(invalid_at("\x80"), 0u);                         // a lone continuation byte
  try {
    utf8::require_valid("one\ntwo \xFF", "lyrics.txt");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "lyrics.txt: not UTF-8 text (line 2, byte 8)");
  }
  EXPECT_EQ(utf8::checked("好", "x"), "好");
}

}  // namespace
}  // namespace mudit
