// The training engine end to end on the toy task: loss falls, accumulation equals a larger batch,
// resume is bit-identical, non-finite steps are skipped and counted, activation checkpointing
// changes nothing, 2 Gloo ranks equal 1 rank with the global batch, and SIGTERM checkpoints.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/types.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include "mudit/core/checkpoint.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "mudit/dist/comm.h"
#include "mudit/train/trainer.h"
#include "unit/test_util.h"

extern char** environ;

namespace mudit::train {
namespace {

namespace fs = std::filesystem;

RunConfig toy_run(const fs::path& dir, const std::vector<std::string>& overrides = {}) {
  ConfigNode tree = parse_config_text(R"(
task: toy
train:
  steps: 6
  batch_size: 4
  log_every: 1
  checkpoint_every: 0
  clip_grad_norm: 0
  optim: {name: adamw, lr: 0.01, weight_decay: 0.01}
  schedule: {kind: cosine, warmup_steps: 2, total_steps: 6}
  ema: {enabled: true, decay: 0.9}
  logging: {progress: false, tensorboard: false}
model: {in_dim: 4, dim: 16, depth: 2, heads: 2, seq_len: 8}
)",
                                      "toy_run");
  apply_override(tree, "run_dir='" + dir.string() + "'");
  for (const auto& o : overrides) apply_override(tree, o);
  return bind_config<RunConfig>(tree);
}

std::map<std::string, at::Tensor> final_weights(const fs::path& run_dir) {
  CheckpointManager mgr(run_dir / "checkpoints");
  return load_safetensors(mgr.resolve() / "model.safetensors").tensors;
}

double max_diff(const std::map<std::string, at::Tensor>& a,
                const std::map<std::string, at::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [k, v] : a) worst = std::max(worst, (v - b.at(k)).abs().max().item<double>());
  return worst;
}

// The step each process that trained `run_dir` started from (its sessions.jsonl): 0 for a fresh
// start, else the checkpoint it resumed. A run that silently restarted would show a 0.
std::vector<int64_t> session_starts(const fs::path& run_dir) {
  std::vector<int64_t> starts;
  std::istringstream lines(read_file(run_dir / "sessions.jsonl"));
  for (std::string line; std::getline(lines, line);)
    starts.push_back(nlohmann::json::parse(line).at("from_step").get<int64_t>());
  return starts;
}

bool bit_equal(const std::map<std::string, at::Tensor>& a,
               const std::map<std::string, at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    if (!b.count(k) || !torch::equal(v, b.at(k))) return false;
  }
  return true;
}

TEST(Trainer, ToyLossFalls) {
  test::TempDir dir;
  const TrainResult r = train(toy_run(dir.path(), {"train.steps=40"}));
  EXPECT_EQ(r.step, 40);
  EXPECT_EQ(r.skipped_steps, 0);
  // Loss at step 40 against step 1 (a one-step run from the same seed).
  const TrainResult first = train(toy_run(dir.path() / "first", {"train.steps=1"}));
  EXPECT_LT(r.last_metrics.at("model/loss"), 0.5 * first.last_metrics.at("model/loss"));
  EXPECT_NE(read_file(dir / "metrics.jsonl").find("\"model/loss\""), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "config.yaml"));
  EXPECT_TRUE(fs::exists(dir / "train.log"));
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "step-40" / "ema.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "step-40" / "optimizer_model.safetensors"));
}

// Equivalence runs use Adam eps = 1e-3. With the default 1e-8, Adam's first updates are close to
// sign(g): a gradient that is zero up to rounding, summed in a different order, flips sign and
// moves its weight by a whole learning rate (measured: 8e-5 after 1 step, 1e-3 after 5). With
// eps = 1e-3 the same runs agree to 6e-8, so the comparison tests the gradients, not Adam's
// sensitivity to the last bit.
TEST(Trainer, AccumulationEqualsTheLargerBatch) {
  test::TempDir dir;
  train(toy_run(dir / "big", {"train.steps=5", "train.batch_size=8", "train.optim.eps=0.001"}));
  train(toy_run(dir / "accum", {"train.steps=5", "train.batch_size=4", "train.grad_accum=2",
                                "train.optim.eps=0.001"}));
  EXPECT_LE(max_diff(final_weights(dir / "big"), final_weights(dir / "accum")), 1e-5);
}

TEST(Trainer, ResumeIsBitIdentical) {
  test::TempDir dir;
  train(toy_run(dir / "straight", {"train.steps=6"}));
  train(toy_run(dir / "split", {"train.steps=3"}));
  const TrainResult resumed = train(toy_run(dir / "split", {"train.steps=6"}));
  EXPECT_EQ(resumed.step, 6);
  EXPECT_EQ(session_starts(dir / "split"), (std::vector<int64_t>{0, 3}));  // resumed, not redone
  EXPECT_TRUE(bit_equal(final_weights(dir / "straight"), final_weights(dir / "split")));
  const auto ema_a =
      load_safetensors(CheckpointManager(dir / "straight" / "checkpoints").resolve() /
                       "ema.safetensors")
          .tensors;
  const auto ema_b = load_safetensors(CheckpointManager(dir / "split" / "checkpoints").resolve() /
                                      "ema.safetensors")
                         .tensors;
  EXPECT_TRUE(bit_equal(ema_a, ema_b));
}

TEST(Trainer, ActivationCheckpointingChangesNothing) {
  test::TempDir dir;
  train(toy_run(dir / "plain", {"train.steps=3"}));
  train(toy_run(dir / "ckpt", {"train.steps=3", "train.activation_checkpointing=true"}));
  EXPECT_TRUE(bit_equal(final_weights(dir / "plain"), final_weights(dir / "ckpt")));
}

// Wraps the toy task and poisons the loss at chosen steps.
class PoisonedTask : public Task {
 public:
  PoisonedTask(std::unique_ptr<Task> inner, std::set<int64_t> bad)
      : inner_(std::move(inner)), bad_(std::move(bad)) {}
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    return inner_->modules();
  }
  std::string arch() const override { return inner_->arch(); }
  std::string model_config_yaml() const override { return inner_->model_config_yaml(); }
  NamedParams parameters(int i) override { return inner_->parameters(i); }
  Batch batch(int64_t step, int64_t micro) override { return inner_->batch(step, micro); }
  std::map<std::string, at::Tensor> losses(const Batch& b, int i, int64_t step) override {
    auto l = inner_->losses(b, i, step);
    if (bad_.count(step)) l["loss"] = l["loss"] * std::nan("");
    return l;
  }

 private:
  std::unique_ptr<Task> inner_;
  std::set<int64_t> bad_;
};

std::unique_ptr<Task> toy_task(const RunConfig& run) {
  TaskContext ctx;
  ctx.batch_size = run.train.batch_size;
  ctx.model = run.model;
  ctx.data = run.data;
  return make_task("toy", ctx);
}

std::shared_ptr<dist::Comm> local_comm() {
  return dist::init_comm(dist::DistEnv{}, dist::DistConfig{}, c10::Device(c10::kCPU));
}

TEST(Trainer, NonFiniteStepsAreSkippedAndCounted) {
  test::TempDir dir;
  const RunConfig run = toy_run(dir.path(), {"train.steps=5"});
  PoisonedTask task(toy_task(run), {1, 3});
  const TrainResult r = train(run, task, local_comm());
  EXPECT_EQ(r.step, 5);
  EXPECT_EQ(r.skipped_steps, 2);
  for (const auto& [k, v] : final_weights(dir.path()))
    EXPECT_TRUE(v.isfinite().all().item<bool>()) << k;
}

TEST(Trainer, TooManyNonFiniteStepsStopTheRun) {
  test::TempDir dir;
  const RunConfig run = toy_run(dir.path(), {"train.steps=10", "train.max_nonfinite_steps=3"});
  PoisonedTask task(toy_task(run), {2, 3, 4, 5});
  try {
    train(run, task, local_comm());
    FAIL() << "a diverged run kept going";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("3 consecutive steps with non-finite losses"));
  }
}

TEST(Trainer, EpochsBecomeSteps) {
  test::TempDir dir;
  // 64 samples per epoch, global batch 4 x 2 micro-steps = 8: 8 steps an epoch, 3 epochs.
  const TrainResult r = train(
      toy_run(dir.path(), {"train.epochs=3", "train.grad_accum=2", "data.samples_per_epoch=64"}));
  EXPECT_EQ(r.step, 24);
  try {
    train(toy_run(dir / "endless", {"train.epochs=1"}));
    FAIL() << "epochs accepted for an endless stream";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("train.epochs needs data with a finite epoch"));
  }
}

TEST(Trainer, UnknownTaskNamesTheClosest) {
  test::TempDir dir;
  try {
    train(toy_run(dir.path(), {"task=tyo"}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("did you mean 'toy'?"));
  }
}

// ---- through the CLI: several processes

int run_command(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string write_run_file(const test::TempDir& dir) {
  return dir
      .write("toy.yaml", R"(
task: toy
train:
  steps: 5
  batch_size: 4
  log_every: 1
  clip_grad_norm: 0
  optim: {name: adamw, lr: 0.01, eps: 0.001}  # see AccumulationEqualsTheLargerBatch
  schedule: {kind: constant}
  ema: {enabled: false}
  dist: {timeout_s: 60}
  logging: {progress: false, tensorboard: false}
model: {in_dim: 4, dim: 16, depth: 2, heads: 2, seq_len: 8}
)")
      .string();
}

TEST(TrainerCli, TwoGlooRanksEqualOneRankWithTheGlobalBatch) {
  test::TempDir dir;
  const std::string cfg = write_run_file(dir);
  const std::string mudit = MUDIT_BINARY;
  ASSERT_EQ(run_command(mudit + " train --log-level warn --config " + cfg + " --run-dir " +
                        (dir / "one").string() + " --set train.batch_size=8"),
            0);
  ASSERT_EQ(
      run_command(mudit + " launch -n 2 --master-port 29613 -- train --log-level warn --config " +
                  cfg + " --run-dir " + (dir / "two").string()),
      0);
  EXPECT_LE(max_diff(final_weights(dir / "one"), final_weights(dir / "two")), 1e-5);
}

TEST(TrainerCli, TorchrunLaunchesTwoRanks) {
  const std::string torchrun = MUDIT_TORCHRUN;
  if (torchrun.empty()) GTEST_SKIP() << "torchrun not found";
  test::TempDir dir;
  const std::string cfg = write_run_file(dir);
  ASSERT_EQ(run_command(std::string(MUDIT_BINARY) + " train --log-level warn --config " + cfg +
                        " --run-dir " + (dir / "one").string() + " --set train.batch_size=8"),
            0);
  ASSERT_EQ(run_command(torchrun + " --no-python --nproc-per-node 2 --master-port 29671 " +
                        MUDIT_BINARY + " train --log-level warn --config " + cfg + " --run-dir " +
                        (dir / "two").string() + " > " + (dir / "torchrun.log").string() + " 2>&1"),
            0)
      << read_file(dir / "torchrun.log");
  EXPECT_LE(max_diff(final_weights(dir / "one"), final_weights(dir / "two")), 1e-5);
}

// Starts one rank of a 2-rank `mudit train` by hand (no launcher that would stop the other).
pid_t spawn_rank(int rank, int port, const std::string& cfg, const fs::path& run,
                 const fs::path& log) {
  std::vector<std::string> env_strings = {
      "RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank), "WORLD_SIZE=2",
      "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {
      MUDIT_BINARY, "train",      "--log-level", "warn",    "--config", cfg,
      "--run-dir",  run.string(), "--steps",     "1000000", "--set",    "train.dist.timeout_s=10"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

TEST(TrainerCli, KilledPeerGivesDistErrorNotAHang) {
  test::TempDir dir;
  const std::string cfg = write_run_file(dir);
  const fs::path run = dir / "run";
  const pid_t r0 = spawn_rank(0, 29683, cfg, run, dir / "rank0.log");
  const pid_t r1 = spawn_rank(1, 29683, cfg, run, dir / "rank1.log");
  for (int i = 0; i < 600; ++i) {  // until training is under way
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (fs::exists(run / "metrics.jsonl") && fs::file_size(run / "metrics.jsonl") > 200) break;
  }
  ASSERT_EQ(::kill(r1, SIGKILL), 0);
  ::waitpid(r1, nullptr, 0);
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  ::waitpid(r0, &status, 0);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 4);  // runtime failure, not a hang, not a crash
  EXPECT_LT(waited, 30.0);            // within the 10 s collective timeout plus shutdown
  const std::string log = read_file(dir / "rank0.log");
  EXPECT_NE(log.find("rank 0"), std::string::npos) << log;
  EXPECT_NE(log.find("error"), std::string::npos) << log;
}

TEST(TrainerCli, SigtermCheckpointsAndExits143ThenResumes) {
  test::TempDir dir;
  const std::string cfg = write_run_file(dir);
  const fs::path run = dir / "run";
  std::vector<std::string> args = {MUDIT_BINARY, "train",     "--log-level", "warn",    "--config",
                                   cfg,          "--run-dir", run.string(),  "--steps", "1000000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  // Wait for a few logged steps, then ask it to stop.
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (fs::exists(run / "metrics.jsonl") && fs::file_size(run / "metrics.jsonl") > 200) break;
  }
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143);
  CheckpointManager mgr(run / "checkpoints");
  ASSERT_TRUE(mgr.latest().has_value());
  const int64_t stopped = *mgr.latest();
  EXPECT_GT(stopped, 0);
  // Resuming carries on from that checkpoint.
  ASSERT_EQ(run_command(std::string(MUDIT_BINARY) + " train --log-level warn --config " + cfg +
                        " --run-dir " + run.string() + " --steps " + std::to_string(stopped + 3)),
            0);
  EXPECT_EQ(CheckpointManager(run / "checkpoints").latest(), stopped + 3);
  // The second process started from the checkpoint SIGTERM wrote and ran only 3 steps.
  EXPECT_EQ(session_starts(run), (std::vector<int64_t>{0, stopped}));
}

pid_t spawn_train(const std::string& cfg, const fs::path& run, int64_t steps) {
  std::vector<std::string> args = {
      MUDIT_BINARY, "train",     "--log-level", "error",   "--config",
      cfg,          "--run-dir", run.string(),  "--steps", std::to_string(steps)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  return pid;
}

// SIGKILL at 10 random points of a run that checkpoints every step (during steps, during
// checkpoint writes, during start-up), each time resumed: the weights at the end are
// bit-identical to those of an uninterrupted run.
TEST(TrainerCli, SigkillAtTenRandomPointsThenResumeIsBitIdentical) {
  test::TempDir dir;
  const std::string cfg = dir.write("toy.yaml", R"(
task: toy
train:
  steps: 30
  batch_size: 4
  log_every: 1
  checkpoint_every: 1
  clip_grad_norm: 1.0
  optim: {name: adamw, lr: 0.01}
  schedule: {kind: cosine, warmup_steps: 3, total_steps: 30}
  ema: {enabled: true, decay: 0.9}
  checkpoint: {keep_last: 2}
  logging: {progress: false, tensorboard: false}
model: {in_dim: 4, dim: 16, depth: 2, heads: 2, seq_len: 8}
)")
                              .string();
  const int64_t total = 30;
  ASSERT_EQ(run_command(std::string(MUDIT_BINARY) + " train --log-level error --config " + cfg +
                        " --run-dir " + (dir / "straight").string()),
            0);
  const fs::path run = dir / "killed";
  std::mt19937 rng(20261203);
  // A kill comes 0-20 ms after the run has checkpointed its target step; targets in the first
  // half leave at least 15 steps, each with a checkpoint written, so every kill lands inside.
  std::uniform_int_distribution<int> delay_ms(0, 20);
  std::vector<int64_t> targets;  // the checkpointed step after which each kill comes
  std::uniform_int_distribution<int64_t> step(1, total / 2);
  for (int i = 0; i < 10; ++i) targets.push_back(step(rng));
  std::sort(targets.begin(), targets.end());
  int kills = 0;
  std::vector<int64_t> expected_starts;  // the latest checkpoint as each process starts
  for (const int64_t target : targets) {
    expected_starts.push_back(CheckpointManager(run / "checkpoints").latest().value_or(0));
    const pid_t pid = spawn_train(cfg, run, total);
    for (int i = 0; i < 3000; ++i) {  // until the run has passed `target`, or finished
      const auto latest = CheckpointManager(run / "checkpoints").latest();
      if (latest && *latest >= target) break;
      if (::waitpid(pid, nullptr, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      ++kills;  // it was still running: a real interruption
  }
  std::cout << "  " << kills << " of 10 kills interrupted the run\n";
  EXPECT_EQ(kills, 10) << "every kill must land inside the run";
  int status = 0;
  expected_starts.push_back(CheckpointManager(run / "checkpoints").latest().value_or(0));
  ASSERT_LT(expected_starts.back(), total);  // the last process still had steps to run
  const pid_t last = spawn_train(cfg, run, total);
  ::waitpid(last, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(CheckpointManager(run / "checkpoints").latest(), total);
  EXPECT_TRUE(bit_equal(final_weights(dir / "straight"), final_weights(run)));
  const auto ema = [](const fs::path& r) {
    return load_safetensors(CheckpointManager(r / "checkpoints").resolve() / "ema.safetensors")
        .tensors;
  };
  EXPECT_TRUE(bit_equal(ema(dir / "straight"), ema(run)));
  // Every process resumed from the checkpoint that was there when it started (a process killed
  // during start-up may have written no line, so the record is a subsequence of the starts).
  const std::vector<int64_t> starts = session_starts(run);
  ASSERT_FALSE(starts.empty());
  EXPECT_EQ(starts.back(), expected_starts.back());
  EXPECT_GT(starts.back(), 0);
  EXPECT_TRUE(
      std::includes(expected_starts.begin(), expected_starts.end(), starts.begin(), starts.end()))
      << "a process started from a step other than the latest checkpoint";
}

// The disk fills up (RLIMIT_FSIZE) while a checkpoint is written: one clear error, a non-zero
// exit, the previous checkpoint intact and no temporary file left behind.
TEST(TrainerCli, DiskFullDuringACheckpointKeepsThePreviousOne) {
  test::TempDir dir;
  const std::string cfg = dir.write("toy.yaml", R"(
task: toy
train:
  steps: 2
  batch_size: 4
  checkpoint_every: 1
  optim: {name: adamw, lr: 0.01}
  logging: {progress: false, tensorboard: false, jsonl: false}
model: {in_dim: 4, dim: 96, depth: 2, heads: 2, seq_len: 8}
)")
                              .string();
  const fs::path run = dir / "run";
  const std::string train = std::string(MUDIT_BINARY) + " train --log-level warn --config " + cfg +
                            " --run-dir " + run.string();
  ASSERT_EQ(run_command(train), 0);
  const fs::path previous = CheckpointManager(run / "checkpoints").resolve();
  const auto before = load_safetensors(previous / "model.safetensors").tensors;
  const auto model_bytes = fs::file_size(previous / "model.safetensors");
  ASSERT_GT(model_bytes, 100000u);  // larger than the limit below
  // 64 KiB per file; SIGXFSZ ignored so that write() fails with EFBIG instead of killing.
  const int code = run_command("bash -c \"trap '' XFSZ; ulimit -f 64; exec " + train +
                               " --steps 4\" 2> " + (dir / "err").string());
  EXPECT_NE(code, 0);
  const std::string err = read_file(dir / "err");
  EXPECT_NE(err.find("error"), std::string::npos) << err;
  EXPECT_NE(err.find("File too large"), std::string::npos) << err;
  EXPECT_EQ(CheckpointManager(run / "checkpoints").resolve(), previous);
  EXPECT_TRUE(bit_equal(before, load_safetensors(previous / "model.safetensors").tensors));
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << e.path();
    EXPECT_EQ(name.find("partial"), std::string::npos) << e.path();
  }
  // With room again the run resumes from that checkpoint and finishes.
  ASSERT_EQ(run_command(train + " --steps 4"), 0);
  EXPECT_EQ(CheckpointManager(run / "checkpoints").latest(), 4);
  // Both later processes started from step 2, the checkpoint the full disk left intact.
  EXPECT_EQ(session_starts(run), (std::vector<int64_t>{0, 2, 2}));
}

// A preset's schedule pinned to its own length (toy.yaml: steps 200, total_steps 200) follows
// the run when --steps or --set train.steps changes it, so the cosine reaches its floor at the
// run's last step; a total_steps set explicitly is kept.
TEST(TrainerCli, ThePresetsScheduleFollowsTheRunsLength) {
  test::TempDir dir;
  const std::string toy = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/train/toy.yaml";
  auto last_lr = [&](const std::string& name, const std::string& extra) {
    const fs::path run = dir / name;
    EXPECT_EQ(run_command(std::string(MUDIT_BINARY) + " train --log-level warn --config " + toy +
                          " --run-dir " + run.string() +
                          " --set train.schedule.warmup_steps=2 --set train.log_every=1"
                          " --set train.checkpoint_every=0 " +
                          extra),
              0);
    std::string text = read_file(run / "metrics.jsonl"), line;
    std::istringstream lines(text);
    double lr = -1;
    while (std::getline(lines, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("model/lr")) lr = j.at("model/lr").get<double>();
    }
    return lr;
  };
  // The last optimizer step is N - 1 of N: cosine factor 0.1 + 0.45 (1 + cos(pi (N - 3) / (N -
  // 2))).
  auto want = [](double n) {
    return 0.003 * (0.1 + 0.45 * (1 + std::cos(M_PI * (n - 3) / (n - 2))));
  };
  EXPECT_NEAR(last_lr("steps_flag", "--steps 10"), want(10), 1e-9);
  EXPECT_NEAR(last_lr("steps_set", "--set train.steps=12"), want(12), 1e-9);
  // Explicitly 100: at step 10 the cosine has barely begun.
  EXPECT_GT(last_lr("explicit", "--steps 10 --set train.schedule.total_steps=100"), 0.9 * 0.003);
}

}  // namespace
}  // namespace mudit::train
