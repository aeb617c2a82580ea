// A process killed (SIGKILL) in the middle of writing a checkpoint leaves `latest` pointing at
// the previous checkpoint, which loads intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/types.h>
#include <unistd.h>

#include <cstdio>

#include "mudit/core/checkpoint.h"
#include "mudit/core/safetensors.h"
#include "unit/test_util.h"

extern char** environ;

namespace mudit {
namespace {

namespace fs = std::filesystem;

// Starts the writer with stdout on a pipe; returns its pid and the read end.
std::pair<pid_t, FILE*> spawn_writer(const std::vector<std::string>& args) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  std::vector<std::string> all = {MUDIT_CHECKPOINT_WRITER};
  all.insert(all.end(), args.begin(), args.end());
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  return {pid, fdopen(fds[0], "r")};
}

int run_writer(const std::vector<std::string>& args) {
  auto [pid, out] = spawn_writer(args);
  char line[64];
  while (std::fgets(line, sizeof line, out)) {
  }
  std::fclose(out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CheckpointKill, LatestSurvivesAKillMidWrite) {
  test::TempDir dir;
  const fs::path root = dir / "checkpoints";
  ASSERT_EQ(run_writer({root.string(), "1", "2", "1"}), 0);  // a complete step-1

  // Step 2: eight files of 48 MB; kill it once the third is on disk.
  auto [pid, out] = spawn_writer({root.string(), "2", "8", "48"});
  char line[64];
  bool killed = false;
  while (std::fgets(line, sizeof line, out)) {
    if (std::string(line) == "wrote 2\n") {
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
      killed = true;
      break;
    }
  }
  std::fclose(out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(killed) << "the writer finished before it could be killed";
  ASSERT_TRUE(WIFSIGNALED(status));

  CheckpointManager mgr(root);
  EXPECT_EQ(mgr.steps(), std::vector<int64_t>{1});
  EXPECT_EQ(mgr.latest(), 1);
  for (int i = 0; i < 2; ++i) {
    const auto t = load_safetensors(mgr.resolve() / ("part-" + std::to_string(i) + ".safetensors"))
                       .tensors.at("w");
    EXPECT_EQ(t.numel(), (1 << 20) / 4);
    EXPECT_TRUE(torch::all(t == 100.0f + i).item<bool>());
  }
  EXPECT_EQ(mgr.remove_partial(), 1u);  // the killed write's folder, cleaned up

  // The run carries on: the next save publishes normally.
  ASSERT_EQ(run_writer({root.string(), "2", "1", "1"}), 0);
  EXPECT_EQ(CheckpointManager(root).latest(), 2);
}

}  // namespace
}  // namespace mudit
