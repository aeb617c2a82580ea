// Two Gloo ranks on this machine: collectives give known values, reduced gradients equal one
// process's full batch, a dead or silent peer becomes a DistError within the timeout, and
// torchrun can launch the ranks.
#include <gtest/gtest.h>

#include "dist/process_util.h"

namespace mudit {
namespace {

using test::Finished;

// Runs the worker as `world` ranks (torchrun's variables set by hand).
std::vector<Finished> run_ranks(const test::TempDir& dir, const std::string& mode,
                                const std::string& timeout_s = "30", int world = 2,
                                double deadline_s = 60) {
  const int port = test::free_port();
  std::vector<test::Spawned> procs;
  for (int rank = 0; rank < world; ++rank) {
    procs.push_back(test::spawn({MUDIT_DIST_WORKER, mode, timeout_s},
                                {{"RANK", std::to_string(rank)},
                                 {"WORLD_SIZE", std::to_string(world)},
                                 {"LOCAL_RANK", std::to_string(rank)},
                                 {"MASTER_ADDR", "127.0.0.1"},
                                 {"MASTER_PORT", std::to_string(port)}},
                                dir / ("rank" + std::to_string(rank) + ".log")));
  }
  auto out = test::wait_all(procs, deadline_s);
  for (const auto& f : out) {
    if (f.status == 77) return {};
  }
  return out;
}

#define SKIP_WITHOUT_GLOO(results) \
  if ((results).empty()) GTEST_SKIP() << "built without Gloo headers (libgloo-dev)"

TEST(DistTwoRanks, CollectivesGiveKnownValues) {
  test::TempDir dir;
  const auto out = run_ranks(dir, "collectives");
  SKIP_WITHOUT_GLOO(out);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(out[r].status, 0) << "rank " << r << ":\n" << out[r].output;
    EXPECT_NE(out[r].output.find("ok collectives rank " + std::to_string(r) + " of 2"),
              std::string::npos)
        << out[r].output;
  }
}

TEST(DistTwoRanks, ReducedGradientsEqualTheFullBatch) {
  test::TempDir dir;
  const auto out = run_ranks(dir, "grad");
  SKIP_WITHOUT_GLOO(out);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(out[r].status, 0) << "rank " << r << ":\n" << out[r].output;
    EXPECT_NE(out[r].output.find("ok grad"), std::string::npos) << out[r].output;
  }
}

TEST(DistTwoRanks, GatheredNegativesGiveTheWholeBatchGradient) {
  test::TempDir dir;
  const auto out = run_ranks(dir, "gather");
  SKIP_WITHOUT_GLOO(out);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(out[r].status, 0) << "rank " << r << ":\n" << out[r].output;
    EXPECT_NE(out[r].output.find("ok gather"), std::string::npos) << out[r].output;
  }
}

// The survivor of a peer that died exits with a DistError naming its rank and the operation,
// well within the deadline.
void expect_dist_error(const std::vector<Finished>& out, const std::string& operation) {
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].status, 1) << out[1].output;
  EXPECT_EQ(out[0].status, 3) << out[0].output;  // mudit::Error in the worker
  EXPECT_LT(out[0].seconds, 30) << out[0].output;
  EXPECT_NE(out[0].output.find("error: rank 0: " + operation), std::string::npos) << out[0].output;
  EXPECT_NE(out[0].output.find(" failed after "), std::string::npos) << out[0].output;
}

TEST(DistTwoRanks, DeadPeerIsAnErrorNotAHang) {
  test::TempDir dir;
  const auto out = run_ranks(dir, "dead", "5");
  SKIP_WITHOUT_GLOO(out);
  expect_dist_error(out, "all_reduce (sum)");
}

TEST(DistTwoRanks, DeadPeerDuringGradientReduction) {
  test::TempDir dir;
  const auto out = run_ranks(dir, "dead-grad", "5");
  SKIP_WITHOUT_GLOO(out);
  expect_dist_error(out, "all_reduce of gradient bucket 0");
}

TEST(DistTwoRanks, SilentPeerTimesOut) {
  test::TempDir dir;
  const auto out = run_ranks(dir, "stall", "3");
  SKIP_WITHOUT_GLOO(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status, 3) << out[0].output;
  EXPECT_NE(out[0].output.find("error: rank 0: all_reduce (sum)"), std::string::npos)
      << out[0].output;
  EXPECT_GE(out[0].seconds, 2.5) << out[0].output;
  EXPECT_LT(out[0].seconds, 20) << out[0].output;
}

TEST(DistTwoRanks, MissingPeerFailsTheRendezvous) {
  test::TempDir dir;
  const int port = test::free_port();
  auto proc = test::spawn({MUDIT_DIST_WORKER, "collectives", "3"},
                          {{"RANK", "0"},
                           {"WORLD_SIZE", "2"},
                           {"LOCAL_RANK", "0"},
                           {"MASTER_ADDR", "127.0.0.1"},
                           {"MASTER_PORT", std::to_string(port)}},
                          dir / "rank0.log");
  const auto out = test::wait_all({proc}, 60);
  if (out[0].status == 77) GTEST_SKIP() << "built without Gloo headers (libgloo-dev)";
  EXPECT_EQ(out[0].status, 3) << out[0].output;
  EXPECT_NE(out[0].output.find("error: rank 0: rendezvous at 127.0.0.1:"), std::string::npos)
      << out[0].output;
  EXPECT_LT(out[0].seconds, 30) << out[0].output;
}

TEST(DistTorchrun, LaunchesTwoRanks) {
  const std::string torchrun = MUDIT_TORCHRUN;
  if (torchrun.empty()) GTEST_SKIP() << "torchrun not found at configure time";
  test::TempDir dir;
  const int port = test::free_port();
  auto proc = test::spawn(
      {torchrun, "--no-python", "--nnodes", "1", "--nproc-per-node", "2", "--master-addr",
       "127.0.0.1", "--master-port", std::to_string(port), MUDIT_DIST_WORKER, "collectives", "30"},
      {{"OMP_NUM_THREADS", "1"}}, dir / "torchrun.log");
  const auto out = test::wait_all({proc}, 90);
  if (out[0].output.find("skip: built without Gloo") != std::string::npos) {
    GTEST_SKIP() << "built without Gloo headers (libgloo-dev)";
  }
  EXPECT_EQ(out[0].status, 0) << out[0].output;
  EXPECT_NE(out[0].output.find("ok collectives rank 0 of 2 (torchrun)"), std::string::npos)
      << out[0].output;
  EXPECT_NE(out[0].output.find("ok collectives rank 1 of 2 (torchrun)"), std::string::npos)
      << out[0].output;
}

}  // namespace
}  // namespace mudit
