// DistEnv from torchrun, SLURM or nothing; DistConfig validation; the world-1 Comm and
// GradReducer are no-ops.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdlib>
#include <map>
#include <string>

#include "mudit/dist/comm.h"
#include "mudit/dist/grad_reducer.h"

namespace mudit::dist {
namespace {

// Sets exactly `vars` among the variables DistEnv reads, restoring them afterwards.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& vars) {
    for (const char* name : kNames) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
    for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const char* name : kNames) ::unsetenv(name);
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  static constexpr const char* kNames[] = {"RANK",          "WORLD_SIZE",
                                           "LOCAL_RANK",    "LOCAL_WORLD_SIZE",
                                           "MASTER_ADDR",   "MASTER_PORT",
                                           "SLURM_PROCID",  "SLURM_NTASKS",
                                           "SLURM_LOCALID", "TORCHELASTIC_USE_AGENT_STORE"};
  std::map<std::string, std::string> saved_;
};

std::string config_error(const std::map<std::string, std::string>& vars) {
  ScopedEnv env(vars);
  try {
    DistEnv::from_environment();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DistEnv, NothingSetIsAWorldOfOne) {
  ScopedEnv env(std::map<std::string, std::string>{
      {"SLURM_NTASKS", "4"}});  // an salloc shell: not a launched task
  const auto e = DistEnv::from_environment();
  EXPECT_EQ(e.source, "none");
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
  EXPECT_FALSE(e.distributed());
}

TEST(DistEnv, ReadsTorchrun) {
  ScopedEnv env({{"RANK", "3"},
                 {"WORLD_SIZE", "8"},
                 {"LOCAL_RANK", "1"},
                 {"LOCAL_WORLD_SIZE", "2"},
                 {"MASTER_ADDR", "node-a"},
                 {"MASTER_PORT", "29411"},
                 {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                 {"SLURM_PROCID", "7"}});  // torchrun inside an allocation wins
  const auto e = DistEnv::from_environment();
  EXPECT_EQ(e.source, "torchrun");
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "node-a");
  EXPECT_EQ(e.master_port, 29411);
  EXPECT_TRUE(e.use_agent_store);
  EXPECT_TRUE(e.distributed());
}

TEST(DistEnv, ReadsSlurm) {
  ScopedEnv env({{"SLURM_PROCID", "5"},
                 {"SLURM_NTASKS", "6"},
                 {"SLURM_LOCALID", "2"},
                 {"MASTER_ADDR", "10.0.0.1"},
                 {"MASTER_PORT", "12345"}});
  const auto e = DistEnv::from_environment();
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 6);
  EXPECT_EQ(e.local_rank, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.1");
  EXPECT_EQ(e.master_port, 12345);
  EXPECT_FALSE(e.use_agent_store);
}

TEST(DistEnv, SingleTaskNeedsNoMaster) {
  ScopedEnv env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_LOCALID", "0"}});
  const auto e = DistEnv::from_environment();
  EXPECT_EQ(e.source, "slurm");
  EXPECT_FALSE(e.distributed());
}

TEST(DistEnv, PartialOrInconsistentVariablesAreConfigErrors) {
  using ::testing::HasSubstr;
  EXPECT_THAT(config_error({{"RANK", "0"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}),
              HasSubstr("WORLD_SIZE, LOCAL_RANK are not set"));
  EXPECT_THAT(config_error({{"LOCAL_RANK", "0"}, {"WORLD_SIZE", "2"}}),
              HasSubstr("RANK is not set"));
  EXPECT_THAT(config_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}),
              HasSubstr("MASTER_ADDR, MASTER_PORT are not set"));
  EXPECT_THAT(config_error({{"RANK", "2"},
                            {"WORLD_SIZE", "2"},
                            {"LOCAL_RANK", "0"},
                            {"MASTER_ADDR", "a"},
                            {"MASTER_PORT", "1"}}),
              HasSubstr("RANK=2 is not below WORLD_SIZE=2"));
  EXPECT_THAT(config_error({{"RANK", "x1"},
                            {"WORLD_SIZE", "2"},
                            {"LOCAL_RANK", "0"},
                            {"MASTER_ADDR", "a"},
                            {"MASTER_PORT", "1"}}),
              HasSubstr("RANK='x1' is not an integer"));
  EXPECT_THAT(config_error({{"RANK", "1"},
                            {"WORLD_SIZE", "2"},
                            {"LOCAL_RANK", "0"},
                            {"MASTER_ADDR", "a"},
                            {"MASTER_PORT", "70000"}}),
              HasSubstr("MASTER_PORT=70000 is out of range"));
  EXPECT_THAT(config_error({{"RANK", "1"},
                            {"WORLD_SIZE", "4"},
                            {"LOCAL_RANK", "2"},
                            {"LOCAL_WORLD_SIZE", "2"},
                            {"MASTER_ADDR", "a"},
                            {"MASTER_PORT", "1"}}),
              HasSubstr("LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2"));
  EXPECT_THAT(config_error({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}}),
              HasSubstr("SLURM_LOCALID is not"));
  EXPECT_THAT(config_error({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "1"}}),
              HasSubstr("MASTER_ADDR, MASTER_PORT are not set"));
  EXPECT_THAT(config_error({{"SLURM_PROCID", "1"},
                            {"SLURM_NTASKS", "2"},
                            {"SLURM_LOCALID", "1"},
                            {"MASTER_ADDR", "a"}}),
              HasSubstr("MASTER_PORT is not set"));
}

TEST(DistConfig, Validates) {
  DistConfig ok;
  EXPECT_NO_THROW(ok.validate());
  DistConfig bad_backend;
  bad_backend.backend = "mpi";
  EXPECT_THROW(bad_backend.validate(), ConfigError);
  DistConfig bad_timeout;
  bad_timeout.timeout_s = 0;
  EXPECT_THROW(bad_timeout.validate(), ConfigError);
  DistConfig bad_bucket;
  bad_bucket.bucket_mb = -1;
  EXPECT_THROW(bad_bucket.validate(), ConfigError);
}

TEST(DistComm, UnknownBackendIsADistError) {
  DistEnv env;
  env.world_size = 2;
  DistConfig config;
  config.backend = "mpi";
  EXPECT_THROW(init_comm(env, config, torch::kCPU), DistError);
  config.backend = "nccl";
  EXPECT_THROW(init_comm(env, config, torch::kCPU), DistError);  // nccl needs CUDA
}

TEST(DistComm, WorldOfOneIsANoOp) {
  auto comm = init_comm(DistEnv{}, DistConfig{}, torch::kCPU);
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_TRUE(comm->is_main());
  std::vector<at::Tensor> t = {torch::tensor({1.0f, 2.0f})};
  comm->all_reduce(t, ReduceOp::kMean);
  comm->broadcast(t);
  comm->barrier();
  EXPECT_TRUE(torch::equal(t[0], torch::tensor({1.0f, 2.0f})));
  const std::map<std::string, double> values = {{"loss", 0.5}};
  EXPECT_EQ(comm->average(values), values);
  torch::nn::Linear net(2, 2);
  const auto before = net->weight.clone();
  comm->broadcast_module(*net);
  EXPECT_TRUE(torch::equal(net->weight, before));

  GradReducer reducer(comm, net->parameters(), 25);
  EXPECT_EQ(reducer.num_buckets(), 1u);
  reducer.begin(true);
  net->forward(torch::ones({3, 2})).sum().backward();
  reducer.finish();
  EXPECT_TRUE(torch::equal(net->bias.grad(), torch::full({2}, 3.0f)));  // untouched
}

}  // namespace
}  // namespace mudit::dist
