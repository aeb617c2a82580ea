#include <gtest/gtest.h>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

size_t count_entries(const std::filesystem::path& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.exists() ? 1 : 0;
  return n;
}

TEST(AtomicFile, CommitPublishesTheBytes) {
  test::TempDir dir;
  const auto path = dir / "sub" / "out.bin";
  AtomicFile f(path);
  f.write("hello ");
  EXPECT_FALSE(std::filesystem::exists(path));  // nothing visible before commit
  f.write("world");
  f.commit();
  EXPECT_EQ(read_file(path), "hello world");
  EXPECT_EQ(count_entries(dir / "sub"), 1u);
}

TEST(AtomicFile, AbandonedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  test::TempDir dir;
  const auto path = dir.write("model.bin", "old");
  {
    AtomicFile f(path);
    f.write("new but unfinished");
  }  // destroyed without commit, as when an exception unwinds
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(count_entries(dir.path()), 1u);
}

TEST(AtomicFile, ReplacesAnExistingFile) {
  test::TempDir dir;
  const auto path = dir.write("a.txt", "1");
  write_file_atomic(path, "2");
  EXPECT_EQ(read_file(path), "2");
}

TEST(ReadFile, ErrorsNameThePath) {
  test::TempDir dir;
  try {
    read_file(dir / "absent.bin");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.bin: no such file"), std::string::npos);
  }
  EXPECT_THROW(read_file(dir.path()), IoError);
}

}  // namespace
}  // namespace mudit
