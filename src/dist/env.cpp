// DistEnv::from_environment and DistConfig::validate: reading where this process sits in a run.
#include <cstdlib>
#include <string>
#include <vector>

#include "mudit/dist/comm.h"

namespace mudit::dist {
namespace {

const char* get(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

int parse_int(const char* name, const char* text, int min, int max) {
  const std::string s = text;
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  MUDIT_CHECK(used == s.size() && used > 0, ConfigError, name, "='", s, "' is not an integer");
  MUDIT_CHECK(value >= min && value <= max, ConfigError, name, "=", value, " is out of range [",
              min, ", ", max, "]");
  return static_cast<int>(value);
}

// Names the variables of `names` that are not set.
std::vector<std::string> missing(const std::vector<const char*>& names) {
  std::vector<std::string> out;
  for (const char* n : names) {
    if (!get(n)) out.emplace_back(n);
  }
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void read_master(DistEnv& env, const std::string& launcher) {
  const auto absent = missing({"MASTER_ADDR", "MASTER_PORT"});
  MUDIT_CHECK(absent.empty() || env.world_size == 1, ConfigError, launcher, " world of ",
              env.world_size, " processes but ", join(absent), absent.size() > 1 ? " are" : " is",
              " not set (the rendezvous address of rank 0)");
  if (const char* addr = get("MASTER_ADDR")) env.master_addr = addr;
  if (const char* port = get("MASTER_PORT")) {
    env.master_port = parse_int("MASTER_PORT", port, 1, 65535);
  }
}

}  // namespace

DistEnv DistEnv::from_environment() {
  DistEnv env;
  const std::vector<const char*> torchrun = {"RANK", "WORLD_SIZE", "LOCAL_RANK"};
  const std::vector<const char*> slurm = {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"};
  const auto torchrun_absent = missing(torchrun);
  if (torchrun_absent.size() < torchrun.size()) {
    MUDIT_CHECK(torchrun_absent.empty(), ConfigError,
                "partial torchrun environment: RANK, WORLD_SIZE and LOCAL_RANK go together, but ",
                join(torchrun_absent), torchrun_absent.size() > 1 ? " are" : " is", " not set");
    env.source = "torchrun";
    env.world_size = parse_int("WORLD_SIZE", get("WORLD_SIZE"), 1, 1 << 20);
    env.rank = parse_int("RANK", get("RANK"), 0, 1 << 20);
    env.local_rank = parse_int("LOCAL_RANK", get("LOCAL_RANK"), 0, 1 << 20);
    MUDIT_CHECK(env.rank < env.world_size, ConfigError, "RANK=", env.rank,
                " is not below WORLD_SIZE=", env.world_size);
    if (const char* lws = get("LOCAL_WORLD_SIZE")) {
      const int local_world = parse_int("LOCAL_WORLD_SIZE", lws, 1, env.world_size);
      MUDIT_CHECK(env.local_rank < local_world, ConfigError, "LOCAL_RANK=", env.local_rank,
                  " is not below LOCAL_WORLD_SIZE=", local_world);
    }
    read_master(env, "torchrun");
    if (const char* agent = get("TORCHELASTIC_USE_AGENT_STORE")) {
      env.use_agent_store = std::string(agent) == "True";
    }
  } else if (get("SLURM_PROCID")) {
    // SLURM_NTASKS alone (an salloc shell) does not make a distributed run; SLURM_PROCID, which
    // srun sets for each task, does.
    const auto absent = missing(slurm);
    MUDIT_CHECK(absent.empty(), ConfigError, "partial SLURM environment: SLURM_PROCID is set but ",
                join(absent), absent.size() > 1 ? " are" : " is", " not (launch with srun)");
    env.source = "slurm";
    env.world_size = parse_int("SLURM_NTASKS", get("SLURM_NTASKS"), 1, 1 << 20);
    env.rank = parse_int("SLURM_PROCID", get("SLURM_PROCID"), 0, 1 << 20);
    env.local_rank = parse_int("SLURM_LOCALID", get("SLURM_LOCALID"), 0, 1 << 20);
    MUDIT_CHECK(env.rank < env.world_size, ConfigError, "SLURM_PROCID=", env.rank,
                " is not below SLURM_NTASKS=", env.world_size);
    read_master(env, "SLURM");
  }
  return env;
}

void DistConfig::validate() const {
  MUDIT_CHECK(backend == "auto" || backend == "gloo" || backend == "nccl", ConfigError, "backend '",
              backend, "' is not one of auto, gloo, nccl");
  MUDIT_CHECK(timeout_s > 0, ConfigError, "timeout_s must be positive, got ", timeout_s);
  MUDIT_CHECK(bucket_mb > 0, ConfigError, "bucket_mb must be positive, got ", bucket_mb);
}

}  // namespace mudit::dist
