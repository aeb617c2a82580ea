#include <gtest/gtest.h>

#include <vector>

#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

// Captures messages through the sink, restoring the console and level afterwards.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = log::level();
    log::set_sink([this](log::Level l, std::string_view m) { lines_.emplace_back(l, m); });
  }
  void TearDown() override {
    log::set_sink(nullptr);
    log::set_level(saved_);
    log::set_rank(0, 1);
    log::close_files();
  }
  std::vector<std::pair<log::Level, std::string>> lines_;
  log::Level saved_ = log::Level::kInfo;
};

TEST_F(LogTest, LevelFilters) {
  log::set_level(log::Level::kWarn);
  log::info("hidden ", 1);
  log::warn("shown ", 2);
  log::error("also shown");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[0].first, log::Level::kWarn);
  EXPECT_EQ(lines_[0].second, "shown 2");
  EXPECT_EQ(lines_[1].second, "also shown");
}

TEST_F(LogTest, OffSilencesEverything) {
  log::set_level(log::Level::kOff);
  log::error("nothing");
  EXPECT_TRUE(lines_.empty());
}

TEST_F(LogTest, ParsesLevelNames) {
  EXPECT_EQ(log::parse_level("DEBUG"), log::Level::kDebug);
  EXPECT_EQ(log::parse_level("warning"), log::Level::kWarn);
  EXPECT_THROW(log::parse_level("loud"), ConfigError);
  EXPECT_STREQ(log::level_name(log::Level::kTrace), "trace");
}

TEST_F(LogTest, FileSinkGetsRankPrefix) {
  test::TempDir dir;
  const auto path = dir / "train.log";
  log::set_level(log::Level::kInfo);
  log::set_rank(1, 2);
  log::add_file(path.string());
  log::info("step ", 10, " loss ", 0.5);
  log::flush();
  log::close_files();
  const std::string text = test::read_file(path);
  EXPECT_NE(text.find("[rank 1/2] step 10 loss 0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("[info]"), std::string::npos) << text;
}

TEST_F(LogTest, UnwritableFileIsAnIoError) {
  test::TempDir dir;
  const auto blocker = dir.write("not-a-folder", "x");  // a file where a folder would have to be
  EXPECT_THROW(log::add_file((blocker / "train.log").string()), IoError);
}

}  // namespace
}  // namespace mudit
