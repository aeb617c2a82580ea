// mudit launch: every copy runs with torchrun's variables; a failing copy stops the others and
// its status comes back; SIGTERM to the launcher reaches the copies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "dist/process_util.h"
#include "mudit/core/error.h"
#include "mudit/dist/launch.h"

namespace mudit::dist {
namespace {

using ::testing::HasSubstr;

LaunchOptions shell(const std::string& script, int nproc = 2) {
  LaunchOptions o;
  o.nproc = nproc;
  o.executable = "/bin/sh";
  o.args = {"-c", script};
  o.kill_grace_s = 5;
  return o;
}

TEST(Launch, EveryCopyGetsItsRank) {
  test::TempDir dir;
  const auto out = (dir / "ranks").string();
  auto o = shell("echo \"$RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $MASTER_ADDR\" > " + out +
                 ".$RANK && [ -n \"$MASTER_PORT\" ]");
  o.master_port = 29777;
  EXPECT_EQ(launch(o), 0);
  EXPECT_EQ(test::read_file(out + ".0"), "0 0 2 2 127.0.0.1\n");
  EXPECT_EQ(test::read_file(out + ".1"), "1 1 2 2 127.0.0.1\n");
}

TEST(Launch, AFailingCopyStopsTheOthers) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(launch(shell("if [ \"$RANK\" = 1 ]; then exit 7; fi; exec sleep 30")), 7);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10);
}

TEST(Launch, BadOptionsAreConfigErrors) {
  auto o = shell("true");
  o.nproc = 0;
  EXPECT_THROW(launch(o), ConfigError);
  o = shell("true");
  o.args.clear();
  EXPECT_THROW(launch(o), ConfigError);
}

TEST(Launch, ForwardsSigterm) {
  test::TempDir dir;
  const auto marker = (dir / "stopped").string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Each copy notes the SIGTERM it receives, then exits 143.
    const int rc = launch(
        shell("trap 'touch " + marker + ".$RANK; kill $!; exit 143' TERM; " + "sleep 30 & wait"));
    ::_exit(rc);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto out = test::wait_all({{pid, dir / "none"}}, 20);
  EXPECT_EQ(out[0].status, 143);
  EXPECT_TRUE(std::filesystem::exists(marker + ".0"));
  EXPECT_TRUE(std::filesystem::exists(marker + ".1"));
}

TEST(LaunchCli, RunsTwoCopiesOfAMuditCommand) {
  test::TempDir dir;
  auto proc =
      test::spawn({MUDIT_BINARY, "launch", "-n", "2", "--", "version"}, {}, dir / "launch.log");
  const auto out = test::wait_all({proc}, 60);
  EXPECT_EQ(out[0].status, 0) << out[0].output;
  // Each copy prints the build summary (one "LibTorch" line) once.
  size_t copies = 0;
  for (size_t pos = out[0].output.find("LibTorch"); pos != std::string::npos;
       pos = out[0].output.find("LibTorch", pos + 1)) {
    ++copies;
  }
  EXPECT_EQ(copies, 2u) << out[0].output;
}

TEST(LaunchCli, AFailingCommandFailsTheLaunch) {
  test::TempDir dir;
  auto proc = test::spawn(
      {MUDIT_BINARY, "launch", "-n", "2", "--", "inspect", (dir / "missing.safetensors").string()},
      {}, dir / "launch.log");
  const auto out = test::wait_all({proc}, 60);
  EXPECT_EQ(out[0].status, 3) << out[0].output;  // IoError of the copies
  EXPECT_THAT(out[0].output, HasSubstr("missing.safetensors"));
}

TEST(LaunchCli, NeedsACommand) {
  test::TempDir dir;
  auto proc = test::spawn({MUDIT_BINARY, "launch", "-n", "2"}, {}, dir / "launch.log");
  const auto out = test::wait_all({proc}, 60);
  EXPECT_EQ(out[0].status, 2) << out[0].output;
}

}  // namespace
}  // namespace mudit::dist
